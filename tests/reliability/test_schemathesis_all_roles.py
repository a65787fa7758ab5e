"""The big generated-request run (CI): every operation of the OpenAPI schema, valid and invalid
requests, as each of the seven roles, against the reliability world (dossiers, petitions,
documents and published index snapshots in three places). Zero 5xx, zero responses outside the
schema. (tests/dossiers/api/test_schemathesis.py is the quick run of a few hundred.)

``RELIABILITY_SCHEMATHESIS_EXAMPLES`` sets the examples per operation, mode and role (default
8: about 2,700 requests). Figures: ``var/reliability/schemathesis-<role>.json``."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability.conftest import ROLES
from tests.reliability.figures import save_figures

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("RELIABILITY_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@pytest.fixture
def api_schema(shared_world, client, monkeypatch):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = get_wsgi_application()
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "1000000/min", "user": "1000000/min", "tracking": "1000000/min"},
    )
    # A request must not close the connection holding the world's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schema
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def run_operation(operation, headers, mode, failures, counter):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        counter[0] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
    except (Exception, BaseExceptionGroup) as exc:  # report every operation's failure together
        failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")


@pytest.mark.parametrize("role", ROLES)
def test_generated_requests_as(role, api_schema, shared_world):
    user = shared_world.users[role]
    headers = (
        {} if user is None else {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    )
    failures, counter = [], [0]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for mode in MODES:
            run_operation(operation, headers, mode, failures, counter)
    save_figures(
        f"schemathesis-{role}",
        {"role": role, "operations": len(operations), "requests": counter[0], "failures": failures},
    )
    assert counter[0] >= len(operations) * EXAMPLES
    assert not failures, f"{len(failures)} failures in {counter[0]} requests:\n" + "\n\n".join(
        failures[:10]
    )
