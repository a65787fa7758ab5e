import pytest

pytestmark = pytest.mark.worker


def test_a_task_runs_on_a_real_worker(celery_worker_process):
    from portal.celery import ping

    assert ping.delay().get(timeout=30) == "pong"
