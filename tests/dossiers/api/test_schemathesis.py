"""Property-based run of the whole API schema (schemathesis): generated valid and invalid
requests, authenticated as a citizen and as staff of a centre. No request may get a 5xx, and
every response must match the schema (status code, content type, body)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dossiers.workflow import State
from tests.dossiers.api.conftest import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 5
MIN_REQUESTS = 300


@pytest.fixture
def api_schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = get_wsgi_application()
    # Like Django's test client: a request must not close the connection that holds the test's
    # transaction (PostgreSQL would lose the test data mid-run).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schema
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(walker, staff, monkeypatch):
    """A few dossiers in several states so lookups by real codes hit something."""
    for state in (State.SUBMITTED, State.ACCEPTED, State.IN_PROCESS, State.PROCESSED):
        walker.in_state(state)
    # The test fires hundreds of requests a minute: lift the rate limits for it.
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "100000/min", "user": "100000/min", "tracking": "100000/min"},
    )
    return {"citizen": walker.citizen, "staff": staff}


def _run_operation(operation, headers, mode, failures, counter):
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        counter[0] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # Nothing to negate (an operation without parameters or body): no invalid request exists.
        assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
    except (
        Exception,
        BaseExceptionGroup,
    ) as exc:  # collect every operation's failure, report them together
        failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")


def test_whole_schema_as_citizen_and_staff(api_schema, world):
    failures: list[str] = []
    counter = [0]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for role in ("citizen", "staff"):
        token = client_for(world[role])._credentials["HTTP_AUTHORIZATION"]
        for operation in operations:
            for mode in (
                schemathesis.GenerationMode.POSITIVE,
                schemathesis.GenerationMode.NEGATIVE,
            ):
                _run_operation(operation, {"Authorization": token}, mode, failures, counter)
    print(f"schemathesis: {counter[0]} requests, {len(failures)} failing operations")
    assert counter[0] >= MIN_REQUESTS
    assert not failures, f"{len(failures)} failures in {counter[0]} requests:\n" + "\n\n".join(
        failures[:15]
    )
