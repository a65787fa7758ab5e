"""The Celery app. Policy from Open Forms: late acks, prefetch one, time limits, idempotent tasks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="portal.ping")
def ping() -> str:
    """A trivial task used by the health check and the real-worker test."""
    return "pong"
