import pytest

pytestmark = pytest.mark.worker


def test_a_task_runs_on_a_real_worker(celery_worker_process):
    from portal.celery import ping

    # The test process is not a task: an earlier eager task may leave Celery's task stack
    # non-empty, so say explicitly that waiting here is fine.
    assert ping.delay().get(timeout=30, disable_sync_subtasks=False) == "pong"
