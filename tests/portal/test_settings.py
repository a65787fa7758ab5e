import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def run_manage(*args, **env):
    # The browser fixture sets DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never does.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**inherited, **env},
        timeout=120,
    )


def test_production_profile_passes_check_deploy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY="x" * 20 + "-production-secret-key-for-tests-0123456789",
        DEBUG="false",
        ALLOWED_HOSTS="portal.example.vn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_secret_key_refuses_to_start():
    result = run_manage("check", DJANGO_ENV="production", SECRET_KEY="")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_a_malformed_database_url_fails_with_a_clear_message():
    result = run_manage("check", DATABASE_URL="nosuchscheme//oops")
    assert result.returncode != 0
    assert "DATABASE_URL is malformed" in result.stderr


def test_home_page_lists_the_34_provinces(client, reference_data):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('id="p') == 34 and "Hà Tĩnh" in body
    assert 'lang="vi"' in body


def test_english_is_available(client, reference_data):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    assert 'lang="en"' in response.content.decode()


@pytest.mark.django_db
def test_role_groups_come_from_a_migration():
    from django.contrib.auth.models import Group

    names = set(Group.objects.values_list("name", flat=True))
    assert {"Citizens", "Receptionists", "Officers", "Leaders", "Managers"} <= names
    assert Group.objects.get(name="Officers").permissions.filter(codename="change_dossier").exists()
