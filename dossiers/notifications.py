"""Notifications to citizens through a transactional outbox.

A service writes an ``OutboxMessage`` in its own transaction and asks for dispatch after
commit. Dispatch queues a Celery task; if the broker is down the service still succeeds and
the row waits for the periodic sweeper. Delivery locks the row and marks it delivered, so a
message delivered once is never sent again (at-least-once only if the process dies between
sending and committing)."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from dossiers.models import OutboxMessage

logger = logging.getLogger(__name__)

NOTIFY_LANGUAGE = "vi"
SWEEP_GRACE = timedelta(minutes=1)  # leave the after-commit dispatch time to do its job
SWEEP_BATCH = 500
MAX_ATTEMPTS = 10
BROKER_CONNECT_TIMEOUT = 1  # seconds
# Events the citizen hears about: every change of state plus the apology and payment receipt.
SILENT_ACTIONS = frozenset({"rate"})


def _when(value) -> str:
    return date_format(timezone.localtime(value), "d/m/Y H:i") if value else "—"


def _dossier_message(dossier, event) -> tuple[str, str]:
    from dossiers.selectors import action_label

    with translation.override(NOTIFY_LANGUAGE):
        procedure = dossier.procedure_version.procedure
        subject = _("Dossier %(code)s: %(state)s") % {
            "code": dossier.code,
            "state": dossier.get_state_display(),
        }
        lines = [
            _("Dossier: %(code)s") % {"code": dossier.code},
            _("Procedure: %(name)s") % {"name": procedure.name_vi},
            _("Service centre: %(name)s") % {"name": dossier.center.name},
            _("Action: %(action)s, %(at)s")
            % {"action": action_label(event.action), "at": _when(event.at)},
            _("State: %(state)s") % {"state": dossier.get_state_display()},
        ]
        if dossier.due_at:
            lines.append(_("Due: %(due)s") % {"due": _when(dossier.due_at)})
        if dossier.rescheduled_due_at:
            lines.append(_("New due time: %(due)s") % {"due": _when(dossier.rescheduled_due_at)})
        if dossier.payment_status == "due" and dossier.fee_vnd:
            lines.append(_("Fee to pay: %(fee)s VND") % {"fee": f"{dossier.fee_vnd:,}"})
        if event.note:
            lines.append(_("Note: %(note)s") % {"note": event.note})
    return subject[:200], "\n".join(lines)


def _queue(message: OutboxMessage) -> OutboxMessage:
    transaction.on_commit(partial(dispatch, message.pk), robust=True)
    return message


def dossier_event_notify(*, dossier, event) -> OutboxMessage | None:
    """Queue the citizen's e-mail about ``event`` (inside the service's transaction)."""
    recipient = dossier.applicant.email
    if not recipient or event.action in SILENT_ACTIONS:
        return None
    subject, body = _dossier_message(dossier, event)
    message = OutboxMessage.objects.create(
        dossier=dossier,
        recipient=recipient,
        subject=subject,
        body=body,
        created_at=timezone.now(),  # real time, not the simulated ``at``: the sweeper's clock
    )
    return _queue(message)


def petition_notify(*, petition) -> OutboxMessage | None:
    recipient = petition.citizen.email
    if not recipient:
        return None
    with translation.override(NOTIFY_LANGUAGE):
        subject = _("Petition %(code)s: %(status)s") % {
            "code": petition.code,
            "status": petition.get_status_display(),
        }
        lines = [
            _("Petition: %(code)s") % {"code": petition.code},
            _("Subject: %(subject)s") % {"subject": petition.subject},
            _("Answer due by: %(due)s") % {"due": _when(petition.due_at)},
        ]
        if petition.answer:
            lines.append(_("Answer: %(answer)s") % {"answer": petition.answer})
    message = OutboxMessage.objects.create(
        petition=petition,
        recipient=recipient,
        subject=subject[:200],
        body="\n".join(lines),
        created_at=timezone.now(),
    )
    return _queue(message)


def dispatch(message_id: int) -> bool:
    """Hand one message to Celery. A broker that is down is not the service's problem: the
    row stays pending and the sweeper tries again. The publishing connection gives up at
    once (no retry loop, 1 s connect timeout) so an outage never slows a service down."""
    from dossiers.tasks import outbox_deliver
    from portal.celery import app

    try:
        with app.connection_for_write(
            connect_timeout=BROKER_CONNECT_TIMEOUT, transport_options={"max_retries": 0}
        ) as connection:
            outbox_deliver.apply_async(args=[message_id], connection=connection, retry=False)
    except OperationalError as exc:
        logger.warning(
            "outbox message %s left for the sweeper: broker unavailable (%s)", message_id, exc
        )
        return False
    return True


def outbox_deliver(*, message_id: int, at=None) -> bool:
    """Send one message if it is still pending; True when this call delivered it."""
    at = at or timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, delivered_at__isnull=True)
            .first()
        )
        if message is None:  # delivered already, or another worker holds it right now
            return False
        message.attempts += 1
        message.last_attempt_at = at
        try:
            send_mail(
                message.subject,
                message.body,
                settings.DEFAULT_FROM_EMAIL,
                [message.recipient],
                fail_silently=False,
            )
        except (OSError, ValueError) as exc:  # SMTP errors are OSErrors
            message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            message.save(update_fields=["attempts", "last_attempt_at", "last_error"])
            logger.warning("outbox message %s not sent: %s", message_id, message.last_error)
            return False
        message.delivered_at = at
        message.last_error = ""
        message.save(update_fields=["attempts", "last_attempt_at", "last_error", "delivered_at"])
    return True


def outbox_pending(*, at=None, grace: timedelta = SWEEP_GRACE):
    at = at or timezone.now()
    return OutboxMessage.objects.filter(
        delivered_at__isnull=True, created_at__lte=at - grace, attempts__lt=MAX_ATTEMPTS
    ).order_by("created_at", "id")


def outbox_sweep(*, at=None, grace: timedelta = SWEEP_GRACE, batch: int = SWEEP_BATCH) -> int:
    """Re-dispatch messages still pending after ``grace``; returns how many were queued."""
    ids = list(outbox_pending(at=at, grace=grace).values_list("pk", flat=True)[:batch])
    return sum(1 for message_id in ids if dispatch(message_id))
