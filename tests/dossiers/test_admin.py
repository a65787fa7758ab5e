"""Staff processing in admin: scoping (a centre's staff never reach another centre's
dossiers, whatever URL they type), buttons, bulk actions, the desk form, slips, query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from dossiers import services
from dossiers.models import Dossier, Petition
from dossiers.workflow import State
from portal.models import ManagerScope, User
from tests.dossiers.conftest import DOCUMENTS, T0, Walker
from tests.factories import CitizenFactory, StaffFactory, UserFactory, role_group

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CHANGELIST = reverse("admin:dossiers_dossier_changelist")
RECEIVE = reverse("admin:dossiers_dossier_receive")


def change_url(dossier):
    return reverse("admin:dossiers_dossier_change", args=[dossier.pk])


def act_url(dossier):
    return reverse("admin:dossiers_dossier_act", args=[dossier.pk])


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def desk(center):
    """A receptionist who is also an officer: the usual one-stop-shop clerk."""
    return StaffFactory(center=center, roles=["receptionist", "officer"])


@pytest.fixture
def foreign(other_center, procedure, desk):
    walker = Walker(
        center=other_center,
        procedure=procedure,
        citizen=CitizenFactory(),
        receptionist=StaffFactory(center=other_center, roles=["receptionist"]),
        officer=StaffFactory(center=other_center, roles=["officer"]),
    )
    return walker.in_state(State.SUBMITTED)


@pytest.fixture
def ours(walker):
    return walker.in_state(State.SUBMITTED)


# --- Scoping ------------------------------------------------------------------------------------
def test_the_changelist_shows_only_the_centres_dossiers(client, desk, ours, foreign):
    client.force_login(desk)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert ours.code in html and foreign.code not in html
    assert ours.applicant.citizen_id not in html  # masked in lists
    assert ours.applicant.citizen_id[-4:] in html


def test_another_centres_dossier_cannot_be_opened_or_acted_on(client, desk, foreign):
    client.force_login(desk)
    assert client.get(change_url(foreign)).status_code == 404
    assert client.get(change_url(foreign) + "history/").status_code == 404
    response = client.post(act_url(foreign), {"action": "accept"})
    assert response.status_code == 404
    slip = reverse("dossiers_staff:appointment_slip", args=[foreign.code])
    assert client.get(slip).status_code == 404
    assert list(client.get(CHANGELIST, {"q": foreign.code}).context["cl"].result_list) == []
    foreign.refresh_from_db()
    assert foreign.state == State.SUBMITTED and foreign.events.count() == 1


def test_the_change_form_cannot_be_posted(client, desk, ours):
    client.force_login(desk)
    response = client.post(change_url(ours), {"state": State.RETURNED})
    assert response.status_code == 405
    ours.refresh_from_db()
    assert ours.state == State.SUBMITTED


def test_a_bulk_action_skips_foreign_objects_and_says_why(client, desk, ours, foreign, walker):
    already = walker.in_state(State.ACCEPTED)
    client.force_login(desk)
    response = client.post(
        CHANGELIST,
        {
            "action": "bulk_accept",
            ACTION_CHECKBOX_NAME: [ours.pk, already.pk, foreign.pk],
            "index": 0,
        },
        follow=True,
    )
    notes = " | ".join(messages_of(response))
    assert "1 dossier: accept — done." in notes
    assert f"1 dossier skipped: {already.code}" in notes
    assert "1 selected dossier was not found or is not yours." in notes
    ours.refresh_from_db(), foreign.refresh_from_db()
    assert ours.state == State.ACCEPTED and foreign.state == State.SUBMITTED


def test_a_provincial_manager_reads_but_cannot_act(client, center, ours):
    manager = UserFactory(is_staff=True)
    ManagerScope.objects.create(user=manager, province=center.province)
    manager.groups.add(role_group("Managers"))
    client.force_login(manager)
    assert ours.code in client.get(CHANGELIST).content.decode()
    page = client.get(change_url(ours))
    assert page.status_code == 200
    assert b'name="_act"' not in page.content
    response = client.post(act_url(ours), {"action": "accept"}, follow=True)
    assert any("role" in m for m in messages_of(response))
    ours.refresh_from_db()
    assert ours.state == State.SUBMITTED
    assert client.get(RECEIVE).status_code == 403


def test_search_by_code_prefix_or_exact_citizen_id(client, desk, ours, walker):
    other = walker.in_state(State.SUBMITTED)
    client.force_login(desk)
    by_code = client.get(CHANGELIST, {"q": ours.code}).content.decode()
    assert ours.code in by_code and other.code not in by_code
    by_cccd = client.get(CHANGELIST, {"q": ours.applicant.citizen_id}).content.decode()
    assert ours.code in by_cccd and other.code in by_cccd  # same applicant
    nobody = client.get(CHANGELIST, {"q": "999999999999"}).content.decode()
    assert ours.code not in nobody


@pytest.mark.parametrize("deadline", ["due_today", "overdue", "overdue_soon", "paused"])
def test_deadline_filters_render(client, desk, ours, deadline):
    client.force_login(desk)
    assert client.get(CHANGELIST, {"deadline": deadline}).status_code == 200


# --- Buttons on the change page ---------------------------------------------------------------
def test_buttons_follow_the_state_and_the_roles(client, desk, ours):
    client.force_login(desk)
    html = client.get(change_url(ours)).content.decode()
    buttons = set(re.findall(r'name="_act" value="([a-z_]+)"', html))
    assert buttons == {"accept", "refuse", "record_payment"}

    response = client.post(act_url(ours), {"action": "accept"}, follow=True)
    assert any("done" in m for m in messages_of(response))
    ours.refresh_from_db()
    assert ours.state == State.ACCEPTED and ours.due_at is not None
    html = response.content.decode()
    assert set(re.findall(r'name="_act" value="([a-z_]+)"', html)) == {
        "start_processing",
        "request_supplement",
        "record_payment",
        "issue_apology",
        "stop",
    }
    assert 'data-action="accept"' in html  # the timeline shows the step


def test_an_illegal_button_post_is_an_error_message(client, desk, ours):
    client.force_login(desk)
    response = client.post(act_url(ours), {"action": "finish"}, follow=True)
    assert response.status_code == 200
    assert any("not possible" in m for m in messages_of(response))
    ours.refresh_from_db()
    assert ours.state == State.SUBMITTED


def test_buttons_with_parameters(client, desk, ours):
    client.force_login(desk)
    client.post(act_url(ours), {"action": "record_payment"})
    client.post(act_url(ours), {"action": "record_payment"})  # double click: paid once
    ours.refresh_from_db()
    assert ours.payment_status == "paid" and ours.payments.count() == 1
    client.post(act_url(ours), {"action": "accept"})
    due = timezone.localtime(Dossier.objects.get(pk=ours.pk).due_at)
    new_due = (due + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        act_url(ours),
        {"action": "issue_apology", "reason": "Chờ xác minh", "new_due_at": new_due},
        follow=True,
    )
    assert any("done" in m for m in messages_of(response)), messages_of(response)
    ours.refresh_from_db()
    assert timezone.localtime(ours.rescheduled_due_at).strftime("%Y-%m-%dT%H:%M") == new_due
    slip = client.get(reverse("dossiers_staff:apology_slip", args=[ours.code]))
    assert slip.status_code == 200 and "Chờ xác minh" in slip.content.decode()
    response = client.post(act_url(ours), {"action": "stop", "reason": ""}, follow=True)
    assert any("required" in m.lower() for m in messages_of(response))


# --- Desk form and slips --------------------------------------------------------------------------
def test_the_desk_receives_a_walk_in_and_prints_the_slip(client, desk, center, procedure):
    client.force_login(desk)
    step1 = client.get(RECEIVE)
    assert step1.status_code == 200
    step2 = client.get(RECEIVE, {"center": center.pk, "procedure": procedure.pk})
    assert "Giấy chứng sinh" in step2.content.decode()
    response = client.post(
        RECEIVE,
        {
            "center": center.pk,
            "procedure": procedure.pk,
            "citizen_id": "042095099999",
            "full_name": "Phạm Văn Bình",
            "documents": DOCUMENTS,
            "paid_cash": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    dossier = Dossier.objects.get(applicant__citizen_id="042095099999")
    assert response["Location"] == reverse("dossiers_staff:appointment_slip", args=[dossier.code])
    assert dossier.state == State.ACCEPTED and dossier.payment_status == "paid"
    assert User.objects.get(citizen_id="042095099999").get_full_name() == "Bình Phạm Văn"
    assert "Phạm Văn Bình" in client.get(response["Location"]).content.decode()
    slip = client.get(response["Location"]).content.decode()
    due = timezone.localtime(dossier.due_at)
    assert (
        dossier.code in slip and due.strftime("%H:%M") in slip and due.strftime("%d/%m/%Y") in slip
    )
    assert "print.js" in slip and "<script>" not in slip


def test_the_desk_form_names_missing_documents(client, desk, center, procedure):
    client.force_login(desk)
    response = client.post(
        RECEIVE,
        {
            "center": center.pk,
            "procedure": procedure.pk,
            "citizen_id": "042095099998",
            "full_name": "Phạm Văn Bình",
            "documents": DOCUMENTS[:1],
        },
    )
    assert response.status_code == 200
    assert "Giấy chứng sinh" in response.context["form"].non_field_errors().as_text()
    assert (
        not Dossier.objects.exists() and not User.objects.filter(citizen_id="042095099998").exists()
    )


def test_the_desk_form_offers_only_the_users_centres(client, desk, other_center, procedure):
    client.force_login(desk)
    response = client.post(
        RECEIVE,
        {
            "center": other_center.pk,
            "procedure": procedure.pk,
            "citizen_id": "042095099997",
            "full_name": "X Y",
            "documents": DOCUMENTS,
        },
    )
    assert response.status_code == 200 and "center" in response.context["start_form"].errors
    assert not Dossier.objects.exists()


def test_an_officer_without_a_desk_role_cannot_open_the_desk(client, officer):
    client.force_login(officer)
    assert client.get(RECEIVE).status_code == 403


# --- Petitions ----------------------------------------------------------------------------------
def test_petitions_are_scoped_and_answered_in_admin(client, desk, citizen, center, other_center):
    ours = services.petition_file(
        citizen=citizen, center=center, subject="Chậm", body="Chậm.", at=T0
    )
    theirs = services.petition_file(
        citizen=citizen, center=other_center, subject="Khác", body="Khác.", at=T0
    )
    client.force_login(desk)
    listing = client.get(reverse("admin:dossiers_petition_changelist")).content.decode()
    assert ours.code in listing and theirs.code not in listing
    assert (
        client.get(reverse("admin:dossiers_petition_change", args=[theirs.pk])).status_code == 404
    )
    response = client.post(
        reverse("admin:dossiers_petition_answer", args=[ours.pk]),
        {"answer": "Đã xử lý."},
        follow=True,
    )
    assert response.status_code == 200
    assert Petition.objects.get(pk=ours.pk).status == "answered"
    assert (
        client.post(
            reverse("admin:dossiers_petition_answer", args=[theirs.pk]), {"answer": "x"}
        ).status_code
        == 404
    )


# --- Query counts -------------------------------------------------------------------------------
def test_changelist_queries_do_not_grow_with_rows(
    client, desk, walker, django_assert_max_num_queries
):
    for state in [State.SUBMITTED, State.ACCEPTED, State.IN_PROCESS] * 10:
        walker.in_state(state)
    client.force_login(desk)
    client.get(CHANGELIST)  # warm the caches every request has anyway (content types)
    with django_assert_max_num_queries(13):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


def test_change_page_queries_are_bounded(client, desk, walker, django_assert_max_num_queries):
    dossier = walker.in_state(State.PROCESSED)
    client.force_login(desk)
    client.get(change_url(dossier))
    with django_assert_max_num_queries(15):
        response = client.get(change_url(dossier))
    assert response.status_code == 200
    assert len(response.context["timeline"]) == dossier.events.count()


# --- Documents and slips behind the scope ---------------------------------------------------------
def test_documents_download_only_for_the_centre(
    client, desk, center, procedure, citizen, other_center
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = b"%PDF-1.4\n%%EOF\n"
    dossier = services.dossier_receive(
        actor=desk,
        center=center,
        procedure=procedure,
        citizen=citizen,
        documents=[DOCUMENTS[0], (DOCUMENTS[1], SimpleUploadedFile("scan.pdf", pdf))],
        at=T0,
    )
    document = dossier.documents.get()
    url = reverse("dossiers_staff:document_download", args=[dossier.code, document.pk])
    client.force_login(desk)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == pdf
    assert response["Content-Disposition"].startswith("attachment")
    assert f'href="{url}"' in client.get(change_url(dossier)).content.decode()
    client.force_login(StaffFactory(center=other_center, roles=["receptionist", "officer"]))
    assert client.get(url).status_code == 404
    client.force_login(citizen)  # not staff: sent to the admin login
    assert client.get(url).status_code == 302


def test_slips_need_an_appointment_or_an_apology(client, desk, ours, walker):
    client.force_login(desk)
    assert (
        client.get(reverse("dossiers_staff:appointment_slip", args=[ours.code])).status_code == 404
    )
    accepted = walker.in_state(State.ACCEPTED)
    slip = reverse("dossiers_staff:appointment_slip", args=[accepted.code])
    assert client.get(slip).status_code == 200
    apology = reverse("dossiers_staff:apology_slip", args=[accepted.code])
    assert client.get(apology).status_code == 404


def test_the_slip_shows_the_full_citizen_id_to_the_desk_only(client, desk, walker, center):
    dossier = walker.in_state(State.ACCEPTED)
    cccd = dossier.applicant.citizen_id
    slip = reverse("dossiers_staff:appointment_slip", args=[dossier.code])
    client.force_login(desk)
    assert cccd in client.get(slip).content.decode()
    manager = UserFactory(is_staff=True)
    ManagerScope.objects.create(user=manager, province=center.province)
    client.force_login(manager)
    page = client.get(slip).content.decode()
    assert cccd not in page and cccd[-4:] in page
