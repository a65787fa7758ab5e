"""Shared fixtures. Services a test needs (PostgreSQL, Redis, a Celery worker, Chromium) skip
with a message when missing outside CI; in CI (``CI=true``) a missing service fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def require(condition: bool, message: str) -> None:
    """Skip (outside CI) or fail (in CI) when a service a test needs is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI requires: {message}")
    pytest.skip(message)


@pytest.fixture
def reference_data(db):
    """Provinces, communes, centres and procedures (loaded once per database)."""
    from portal.models import ServiceCenter
    from portal.services import reference_data_load

    if not ServiceCenter.objects.exists():
        reference_data_load()


@pytest.fixture
def postgres():
    require(settings.USING_POSTGRES, "PostgreSQL (set DATABASE_URL)")


@pytest.fixture(scope="session")
def redis_url():
    url = settings.REDIS_URL
    require(bool(url), "Redis (set REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        require(False, f"Redis at {url} answers: {exc}")
    return url


@pytest.fixture
def celery_worker_process(redis_url, transactional_db):
    """A real ``celery worker`` subprocess, pointed at the test database."""
    proc = subprocess.Popen(
        worker_command(),
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=_test_database_url()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        if not _wait_for_worker():
            proc.kill()
            output = proc.stdout.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"the Celery worker did not answer within 30 s:\n{output}")
        yield proc
    finally:
        stop_process(proc)


def worker_command(name: str | None = None) -> list[str]:
    """``celery worker`` with the solo pool: one task at a time, and killing the process kills
    the task it runs."""
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo",
               "--loglevel=WARNING", "--without-heartbeat", "--without-gossip",
               "--without-mingle"]  # fmt: skip
    return command + (["-n", name] if name else [])


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{db.get('USER') or 'postgres'}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def _wait_for_worker(timeout: float = 30) -> bool:
    from portal.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return True
    return False


@pytest.fixture(scope="session")
def browser():
    require(
        os.path.exists(CHROMIUM) or shutil.which("chromium") is not None,
        "Chromium (apt-get install chromium)",
    )
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshots():
    """Where browser tests save screenshots shown in docs/."""
    path = ROOT / "docs" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_collection_modifyitems(config, items):
    # Tests with a real worker share one broker: run them one after another in one xdist
    # process (``--dist loadgroup``) so no worker consumes another test's tasks.
    for item in items:
        if item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.xdist_group("celery-worker"))


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Every test its own cache keys on the configured cache: throttle budgets and login
    lockouts spent by one test — or by a test in another worker sharing Redis — never leak into
    another, and no test needs to clear (flush) a cache other workers are using."""
    caches = {alias: dict(conf) for alias, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Eager Celery unless the test runs a real worker: tests that merely trigger a task must
    not leave messages on a shared broker for some other test's worker to pick up."""
    from portal.celery import app

    eager = request.node.get_closest_marker("worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous
