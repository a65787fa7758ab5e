"""Processes the reliability tests start and stop themselves: a private Redis, a Celery worker,
a gunicorn server, a private PostgreSQL cluster. Each on its own port, so a test can kill or
restart it without disturbing the shared services other tests use."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery

from tests.conftest import ROOT, _test_database_url, require

SETTINGS = "tests.reliability.outbox_settings"


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    """Poll ``condition`` (an external process's state) until true or ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    """A TCP port nobody listens on now (tests running at the same time get different ones)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class PrivateRedis:
    """A redis-server of our own on ``port`` (no persistence), startable and stoppable."""

    def __init__(self, port: int, workdir: Path):
        require(shutil.which("redis-server") is not None, "redis-server")
        self.port, self.workdir, self.proc = port, workdir, None
        assert not port_open(port), f"port {port} is taken: another Redis would be disturbed"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: port_open(self.port), 10, f"redis on {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None
        wait_for(lambda: not port_open(self.port), 10, f"redis on {self.port} to stop")


def child_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE=SETTINGS, DATABASE_URL=_test_database_url())
    env["PYTHONPATH"] = str(ROOT)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Worker:
    """A real ``celery worker`` (solo pool: one task at a time, in order) on ``broker``."""

    def __init__(self, broker: str, log: Path, **env):
        self.broker, self.log, self.env = broker, log, env
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo",
             "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=child_env(REDIS_URL=self.broker, **self.env),
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        app = control_app(self.broker)
        try:
            wait_for(lambda: app.control.ping(timeout=0.5), 60, "the worker to answer")
        except AssertionError:
            self.stop()
            raise AssertionError(f"worker did not start:\n{self.log.read_text()[-3000:]}") from None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement of the task in hand."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def control_app(broker: str) -> Celery:
    """A Celery client bound to ``broker`` (the project's app is bound to the shared Redis)."""
    # Not the current app: tasks bound to the current app must keep the project's broker.
    app = Celery("reliability-probe", broker=broker, backend=broker, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = False
    return app


def run_django(script: str, timeout: float = 300, **env) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh Python with Django set up on the test database."""
    prelude = "import django\ndjango.setup()\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + script],
        cwd=ROOT,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Server:
    """The portal under gunicorn (``workers`` processes x ``threads``), production-like
    (DEBUG off), on ``port``."""

    def __init__(self, port: int, log: Path, *, workers: int = 2, threads: int = 1, **env):
        self.port, self.log, self.workers, self.threads, self.env = port, log, workers, threads, env
        self.proc = None
        assert not port_open(port), f"port {port} is taken"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [str(gunicorn), "portal.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--threads", str(self.threads),
             "--timeout", "60", "--graceful-timeout", "5", "--error-logfile", "-"],
            cwd=ROOT,
            env=child_env(DEBUG="false", **self.env),
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        import requests

        def ready():
            try:
                return requests.get(f"{self.url}/api/v1/provinces/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        try:
            wait_for(ready, 60, "gunicorn to serve", interval=0.25)
        except AssertionError:
            self.stop()
            raise AssertionError(f"server did not start:\n{self.log.read_text()[-3000:]}") from None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb into a temporary directory, owned by the
    ``postgres`` system user, listening on ``port``): a test may restart it at will."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self, port: int):
        require((self.BIN / "initdb").exists(), f"PostgreSQL server binaries in {self.BIN}")
        require(shutil.which("runuser") is not None, "runuser (to run PostgreSQL as postgres)")
        assert not port_open(port), f"port {port} is taken"
        import tempfile

        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="reliability-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"

    def _as_postgres(self, *args, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def init(self) -> None:
        self._as_postgres(self.BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            self.BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", action,
            *extra,
        )  # fmt: skip

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        """Fast restart: open transactions are rolled back, every connection is cut."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate")

    def create_database(self, name: str) -> None:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q", "-c",
             f'CREATE DATABASE "{name}"'],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
