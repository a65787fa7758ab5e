"""Citizen notifications through the transactional outbox: written with the change, sent after
commit, never sent for a rolled-back change, never sent twice, and swept up when the broker was
down at commit time."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from dossiers import notifications, services
from dossiers.models import OutboxMessage
from dossiers.tasks import BEAT_SCHEDULE, outbox_sweep
from dossiers.workflow import State

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def broker_down(monkeypatch):
    """A real publish to a port where no broker listens (Celery not eager)."""
    from portal.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")


def test_each_change_queues_one_message_sent_after_commit(
    walker, receptionist, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        dossier = walker.submitted()
        assert len(mail.outbox) == 0  # nothing leaves before the commit
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.dossier_accept(dossier=dossier, actor=receptionist, at=walker.tick())
    assert [m.to for m in mail.outbox] == [[dossier.applicant.email]] * 2
    assert dossier.code in mail.outbox[1].subject
    assert "Hạn trả" in mail.outbox[1].body or "Due" in mail.outbox[1].body
    assert OutboxMessage.objects.filter(delivered_at__isnull=False).count() == 2


def test_a_rolled_back_change_sends_nothing(walker, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        walker.submitted()
        raise RuntimeError("the caller's own transaction fails afterwards")
    assert callbacks == [] and mail.outbox == []
    assert not OutboxMessage.objects.exists()


def test_a_citizen_without_e_mail_gets_no_message(walker, citizen):
    citizen.email = ""
    citizen.save()
    walker.submitted()
    assert not OutboxMessage.objects.exists()


def test_with_the_broker_down_the_service_succeeds_and_the_sweeper_delivers_once(
    walker, broker_down, django_capture_on_commit_callbacks, monkeypatch
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        dossier = walker.submitted()
    assert time.monotonic() - started < 5  # no retry loop against a dead broker
    assert dossier.pk and dossier.state == State.SUBMITTED
    message = OutboxMessage.objects.get()
    assert message.delivered_at is None and mail.outbox == []

    from portal.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)  # the broker is back
    assert notifications.outbox_sweep() == 0  # too fresh: the dispatch may still be on its way
    later = timezone.now() + timedelta(minutes=2)
    assert notifications.outbox_sweep(at=later) == 1
    assert notifications.outbox_sweep(at=later) == 0
    assert outbox_sweep.delay().get() == 0  # the periodic task, as beat runs it
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.delivered_at is not None and message.attempts == 1
    assert notifications.outbox_deliver(message_id=message.pk) is False
    assert len(mail.outbox) == 1


def test_a_failed_send_is_counted_and_retried(walker, settings, monkeypatch):
    dossier = walker.submitted()
    message = OutboxMessage.objects.get(dossier=dossier)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server unreachable")

    monkeypatch.setattr(notifications, "send_mail", refuse)
    assert notifications.outbox_deliver(message_id=message.pk) is False
    message.refresh_from_db()
    assert message.attempts == 1 and "SMTP" in message.last_error and not message.delivered_at
    monkeypatch.undo()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.outbox_deliver(message_id=message.pk) is True
    message.refresh_from_db()
    assert message.attempts == 2 and message.delivered_at and message.last_error == ""


def test_messages_that_keep_failing_stop_being_swept(walker):
    walker.submitted()
    OutboxMessage.objects.update(attempts=notifications.MAX_ATTEMPTS)
    assert notifications.outbox_sweep(at=timezone.now() + timedelta(hours=1)) == 0


def test_the_sweeper_is_in_the_beat_schedule():
    entry = BEAT_SCHEDULE["dossiers-outbox-sweep"]
    assert entry["task"] == outbox_sweep.name == "dossiers.tasks.outbox_sweep"
    assert entry["schedule"] <= 300


def test_petition_answers_are_notified(
    citizen, center, officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        petition = services.petition_file(citizen=citizen, center=center, subject="A", body="B")
        services.petition_answer(petition=petition, actor=officer, answer="Đã trả lời.")
    assert len(mail.outbox) == 2 and "Đã trả lời." in mail.outbox[1].body


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_after_commit(celery_worker_process, walker):
    dossier = walker.submitted()  # autocommit: the on-commit dispatch runs right away
    message = OutboxMessage.objects.get(dossier=dossier)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # waiting for another process, not for the clock
        message.refresh_from_db()
        if message.delivered_at:
            break
        time.sleep(0.2)
    assert message.delivered_at is not None and message.attempts == 1
