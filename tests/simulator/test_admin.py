from datetime import date

import pytest
from django.utils import timezone

from simulator.models import SimulationRun


@pytest.mark.django_db
def test_runs_are_listed_read_only(admin_client, django_assert_max_num_queries):
    for seed in range(3):
        SimulationRun.objects.create(
            scenario="demo", seed=seed, scale=1, date_from=date(2025, 7, 1),
            date_to=date(2025, 7, 24), status="complete", started_at=timezone.now(),
        )  # fmt: skip
    with django_assert_max_num_queries(12):
        response = admin_client.get("/admin/simulator/simulationrun/")
    assert response.status_code == 200 and response.content.decode().count("demo") >= 3
    assert admin_client.get("/admin/simulator/simulationrun/add/").status_code == 403
