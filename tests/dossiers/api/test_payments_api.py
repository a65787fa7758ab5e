"""Online payment: order creation (idempotent), the signed gateway callback (valid, forged,
wrong amount, replayed), and the gateway page."""

from __future__ import annotations

import json

import pytest

from dossiers import payments_gateway
from dossiers.models import Payment, PaymentStatus
from dossiers.workflow import State

pytestmark = pytest.mark.django_db
CALLBACK = "/api/v1/payments/callback/"


def post_callback(client, body: bytes, signature: str | None):
    headers = {} if signature is None else {"HTTP_X_GATEWAY_SIGNATURE": signature}
    return client.post(CALLBACK, data=body, content_type="application/json", **headers)


@pytest.fixture
def due(walker):
    dossier = walker.in_state(State.SUBMITTED)
    assert dossier.payment_status == PaymentStatus.DUE
    return dossier


def order_for(client, dossier, **headers):
    response = client.post(f"/api/v1/dossiers/{dossier.code}/payments/", **headers)
    assert response.status_code == 201, response.json()
    return response.json()


def test_citizen_starts_a_payment_and_gets_the_gateway_url(citizen_api, due):
    order = order_for(citizen_api, due)
    assert order["amount_vnd"] == due.fee_vnd == 8000
    assert order["dossier"] == due.code
    assert "/payments/gateway/?order=" in order["gateway_url"]
    assert not Payment.objects.exists()  # nothing is paid until the gateway says so


def test_payment_order_is_idempotent(citizen_api, due):
    first = order_for(citizen_api, due, HTTP_IDEMPOTENCY_KEY="pay-1")
    second = order_for(citizen_api, due, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first["reference"] == second["reference"]
    assert order_for(citizen_api, due)["reference"] != first["reference"]


def test_no_order_when_nothing_is_due(citizen_api, walker, free_version):
    walker.procedure = free_version.procedure
    free = walker.in_state(State.SUBMITTED)
    response = citizen_api.post(f"/api/v1/dossiers/{free.code}/payments/")
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"


def test_valid_callback_records_one_payment_and_replay_records_nothing(anon, due):
    order = payments_gateway.PaymentOrder(reference="NPP-1", dossier=due.code, amount_vnd=8000)
    body = payments_gateway.callback_body(order)
    signature = payments_gateway.sign(body)
    first = post_callback(anon, body, signature)
    assert first.status_code == 200, first.json()
    assert first.json()["payment"]["reference"] == "NPP-1"
    replay = post_callback(anon, body, signature)
    assert replay.status_code == 200
    assert Payment.objects.count() == 1
    due.refresh_from_db()
    assert due.payment_status == PaymentStatus.PAID
    assert due.payment_channel == "online"
    # The citizen sees it on the dossier.
    assert due.events.filter(action="record_payment").count() == 1


@pytest.mark.parametrize(
    "tamper",
    [
        "no_signature",
        "forged_signature",
        "body_changed_after_signing",
        "wrong_amount",
        "unknown_dossier",
        "not_json",
        "not_paid",
        "bad_reference",
    ],
)
def test_bad_callbacks_are_a_400_and_store_nothing(anon, due, tamper, settings):
    order = payments_gateway.PaymentOrder(reference="NPP-2", dossier=due.code, amount_vnd=8000)
    body = payments_gateway.callback_body(order)
    signature = payments_gateway.sign(body)
    if tamper == "no_signature":
        signature = None
    elif tamper == "forged_signature":
        settings.PAYMENT_GATEWAY_SECRET = "attacker-guess"
        signature = payments_gateway.sign(body)
        settings.PAYMENT_GATEWAY_SECRET = "dev-payment-secret"
    elif tamper == "body_changed_after_signing":
        body = body.replace(b"8000", b"8001")
    elif tamper == "wrong_amount":
        body = payments_gateway.callback_body(
            payments_gateway.PaymentOrder(reference="NPP-2", dossier=due.code, amount_vnd=1)
        )
        signature = payments_gateway.sign(body)
    elif tamper == "unknown_dossier":
        body = payments_gateway.callback_body(
            payments_gateway.PaymentOrder(reference="NPP-2", dossier="C0-000", amount_vnd=8000)
        )
        signature = payments_gateway.sign(body)
    elif tamper == "not_json":
        body = b"reference=NPP-2&amount=8000"
        signature = payments_gateway.sign(body)
    elif tamper == "not_paid":
        body = payments_gateway.callback_body(order, status="failed")
        signature = payments_gateway.sign(body)
    elif tamper == "bad_reference":
        payload = json.loads(body)
        payload["reference"] = "../../x"
        body = json.dumps(payload).encode()
        signature = payments_gateway.sign(body)
    response = post_callback(anon, body, signature)
    assert response.status_code == 400
    assert set(response.json()) == {"code", "detail", "fields"}
    assert not Payment.objects.exists()
    due.refresh_from_db()
    assert due.payment_status == PaymentStatus.DUE


def test_callback_reference_reused_for_another_dossier_is_refused(anon, due, walker):
    other = walker.in_state(State.SUBMITTED)
    for dossier, expected in ((due, 200), (other, 400)):
        order = payments_gateway.PaymentOrder(
            reference="NPP-SAME", dossier=dossier.code, amount_vnd=8000
        )
        body = payments_gateway.callback_body(order)
        assert post_callback(anon, body, payments_gateway.sign(body)).status_code == expected
    assert Payment.objects.count() == 1


def test_payments_list(citizen_api, citizen_b_api, due, anon):
    order = payments_gateway.PaymentOrder(reference="NPP-3", dossier=due.code, amount_vnd=8000)
    payments_gateway.gateway_confirm(order)
    listed = citizen_api.get(f"/api/v1/dossiers/{due.code}/payments/").json()
    assert [p["reference"] for p in listed] == ["NPP-3"]
    assert citizen_b_api.get(f"/api/v1/dossiers/{due.code}/payments/").status_code == 404


def test_gateway_page_pays_through_the_signed_callback(client, citizen, due):
    client.force_login(citizen)
    start = client.post(f"/my/dossiers/{due.code}/pay/")
    assert start.status_code == 302 and "/payments/gateway/?order=" in start.url
    page = client.get(start.url)
    assert page.status_code == 200
    assert "8.000 VND" in page.content.decode()
    token = start.url.split("order=", 1)[1]
    done = client.post("/payments/gateway/", {"order": token, "decision": "pay"})
    assert done.status_code == 302 and done.url == f"/my/dossiers/{due.code}/"
    # Submitting the same order again (double click, back button) pays once.
    client.post("/payments/gateway/", {"order": token, "decision": "pay"})
    assert Payment.objects.count() == 1
    due.refresh_from_db()
    assert due.payment_status == PaymentStatus.PAID


def test_gateway_rejects_a_forged_order(client):
    assert client.get("/payments/gateway/", {"order": "forged:token"}).status_code == 400
    response = client.post("/payments/gateway/", {"order": "x", "decision": "pay"})
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_cancel_on_the_gateway_pays_nothing(client, citizen, due):
    client.force_login(citizen)
    token = payments_gateway.order_create(dossier=due).token
    response = client.post("/payments/gateway/", {"order": token, "decision": "cancel"})
    assert response.status_code == 302
    assert not Payment.objects.exists()
