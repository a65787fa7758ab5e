"""Celery tasks: thin wrappers around ``dossiers.notifications``. Idempotent: delivering a
message twice sends it once; the sweeper may run anywhere, any number of times."""

from __future__ import annotations

from celery import shared_task

from dossiers import notifications

# Periodic tasks defined in code; the integrator syncs them into django-celery-beat.
BEAT_SCHEDULE = {
    "dossiers-outbox-sweep": {
        "task": "dossiers.tasks.outbox_sweep",
        "schedule": 60.0,  # seconds
        "options": {"expires": 55},
    },
}


@shared_task(name="dossiers.tasks.outbox_deliver", ignore_result=True)
def outbox_deliver(message_id: int) -> bool:
    return notifications.outbox_deliver(message_id=message_id)


@shared_task(name="dossiers.tasks.outbox_sweep", ignore_result=True)
def outbox_sweep() -> int:
    return notifications.outbox_sweep()
