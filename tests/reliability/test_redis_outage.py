"""With Redis (cache and broker) unreachable, the portal must keep taking submissions: the
services do (test_outbox.py); these cases check the web front ends in a process whose
REDIS_URL points at a port where nothing listens."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import CitizenFactory, CommuneCenterFactory, ProcedureVersionFactory
from tests.reliability.processes import free_port, run_django

# The requests run in another process: it needs a database it can share with the test
# (PostgreSQL; SQLite's test database lives in this process's memory).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


REQUESTS = """
import json, os
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
anonymous = Client(raise_request_exception=False)
citizen = Client(raise_request_exception=False, HTTP_AUTHORIZATION="Token " + os.environ["TOKEN"])
answers = {
    "catalogue page": anonymous.get("/procedures/").status_code,
    "procedures API": anonymous.get("/api/v1/procedures/").status_code,
    "my dossiers API": citizen.get("/api/v1/dossiers/").status_code,
    "submit API": citizen.post("/api/v1/dossiers/", data=json.dumps({
        "procedure": os.environ["PROCEDURE"], "centre": os.environ["CENTRE"],
        "document_names": ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"],
    }), content_type="application/json").status_code,
}
print(json.dumps(answers))
"""


def test_the_api_keeps_accepting_submissions_when_redis_is_down():
    dead_port = free_port()  # nothing listens there
    centre = CommuneCenterFactory()
    procedure = ProcedureVersionFactory().procedure
    citizen = CitizenFactory()
    token = Token.objects.create(user=citizen)
    result = run_django(
        REQUESTS,
        REDIS_URL=f"redis://127.0.0.1:{dead_port}/0",
        TOKEN=token.key,
        PROCEDURE=procedure.code,
        CENTRE=centre.code,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["catalogue page"] == 200  # pages do not depend on the cache
    assert answers == {
        "catalogue page": 200,
        "procedures API": 200,
        "my dossiers API": 200,
        "submit API": 201,
    }
