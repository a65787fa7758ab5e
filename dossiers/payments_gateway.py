"""Mock of the national payment platform (Cổng thanh toán quốc gia) and the portal's side of it.

1. The portal creates a *payment order* for a dossier whose fee is due: a reference and the
   amount, signed (``django.core.signing``) into a token, and sends the citizen to the gateway
   page with it.
2. On the gateway page the citizen confirms; the gateway then notifies the portal with a
   server-to-server *callback*: a JSON body signed with HMAC-SHA256 under
   ``settings.PAYMENT_GATEWAY_SECRET`` (header ``X-Gateway-Signature``, hex digest).
3. The portal verifies the signature, the payload and the amount, and records the payment with
   ``dossier_record_payment``, which is idempotent on the gateway reference: the same callback
   twice records one payment.

The mock delivers its callback in-process through ``callback_handle`` (the same function the
HTTP endpoint calls) instead of opening a connection to itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers.errors import DomainError
from dossiers.models import Dossier, PaymentChannel

SIGNATURE_HEADER = "X-Gateway-Signature"
ORDER_SALT = "dossiers.payments_gateway.order"
ORDER_MAX_AGE = 30 * 60  # seconds a citizen has to confirm on the gateway page
REFERENCE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_CALLBACK_BYTES = 4096
PAID = "paid"


class CallbackRejected(Exception):
    """The callback (or order) is not acceptable; answered with 400 and nothing stored."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PaymentOrder:
    reference: str
    dossier: str
    amount_vnd: int

    @property
    def token(self) -> str:
        return signing.dumps(
            {"r": self.reference, "d": self.dossier, "a": self.amount_vnd}, salt=ORDER_SALT
        )


def order_create(*, dossier: Dossier) -> PaymentOrder:
    """A new order for the dossier's fee. Nothing is stored: the order lives in its signed
    token, and the payment row is written only by a verified callback."""
    return PaymentOrder(
        reference=f"NPP-{uuid.uuid4().hex[:20].upper()}",
        dossier=dossier.code,
        amount_vnd=dossier.fee_vnd,
    )


def order_read(token: str) -> PaymentOrder:
    try:
        data = signing.loads(token or "", salt=ORDER_SALT, max_age=ORDER_MAX_AGE)
        return PaymentOrder(reference=data["r"], dossier=data["d"], amount_vnd=int(data["a"]))
    except signing.SignatureExpired as exc:
        raise CallbackRejected("order_expired", _("This payment order has expired.")) from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise CallbackRejected("invalid_order", _("This payment order is not valid.")) from exc


def sign(body: bytes) -> str:
    secret = settings.PAYMENT_GATEWAY_SECRET.encode()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def callback_body(order: PaymentOrder, *, status: str = PAID, paid_at: datetime | None = None):
    """The bytes the gateway posts back (canonical JSON: sorted keys, no spaces)."""
    payload = {
        "amount_vnd": order.amount_vnd,
        "dossier": order.dossier,
        "paid_at": (paid_at or timezone.now()).isoformat(),
        "reference": order.reference,
        "status": status,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _payload(body: bytes, signature: str) -> dict:
    if len(body) > MAX_CALLBACK_BYTES:
        raise CallbackRejected("too_large", _("The callback body is too large."))
    if not signature or not hmac.compare_digest(sign(body), str(signature).strip().lower()):
        raise CallbackRejected("invalid_signature", _("The callback signature is not valid."))
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CallbackRejected("malformed", _("The callback body is not JSON.")) from exc
    if not isinstance(payload, dict):
        raise CallbackRejected("malformed", _("The callback body must be a JSON object."))
    reference, code, amount = (payload.get(k) for k in ("reference", "dossier", "amount_vnd"))
    if not isinstance(reference, str) or not REFERENCE.match(reference):
        raise CallbackRejected("malformed", _("The callback has no valid reference."))
    if not isinstance(code, str) or len(code) > 40:
        raise CallbackRejected("malformed", _("The callback has no valid dossier code."))
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise CallbackRejected("malformed", _("The callback has no valid amount."))
    if payload.get("status") != PAID:
        raise CallbackRejected("unsupported_status", _("Only paid callbacks are accepted."))
    return payload


def callback_handle(*, body: bytes, signature: str, at: datetime | None = None):
    """Verify a gateway callback and record its payment; returns the ``Payment``.

    The signature is the callback's authorisation (there is no user): the dossier is looked up
    by its code, and the amount must be the dossier's fee."""
    from dossiers.services import dossier_record_payment

    payload = _payload(body, signature)
    dossier = Dossier.objects.filter(code=payload["dossier"]).first()
    if dossier is None:
        raise CallbackRejected("unknown_dossier", _("No dossier has this code."))
    if payload["amount_vnd"] != dossier.fee_vnd:
        raise CallbackRejected(
            "amount_mismatch",
            _("The amount paid (%(paid)s VND) is not the fee (%(fee)s VND).")
            % {"paid": payload["amount_vnd"], "fee": dossier.fee_vnd},
        )
    try:
        return dossier_record_payment(
            dossier=dossier,
            actor=None,  # the gateway: the system records what the citizen paid
            channel=PaymentChannel.ONLINE,
            amount_vnd=payload["amount_vnd"],
            reference=payload["reference"],
            at=at,
        )
    except DomainError as exc:
        raise CallbackRejected(exc.code, exc.message) from exc


def gateway_confirm(order: PaymentOrder, *, at: datetime | None = None):
    """The mock gateway's side after the citizen confirms: sign and deliver the callback."""
    body = callback_body(order, paid_at=at)
    return callback_handle(body=body, signature=sign(body), at=at)
