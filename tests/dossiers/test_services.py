"""The services' rules: validation (nothing half-written), due times, pauses, apologies,
payments, closing, ratings, petitions, numbering."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dossiers import services
from dossiers.deadlines import add_working_minutes, working_minutes_between
from dossiers.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from dossiers.models import (
    Channel,
    Document,
    Dossier,
    DossierCounter,
    DossierEvent,
    OnlineLevel,
    Payment,
    PaymentStatus,
    Petition,
    Rating,
)
from dossiers.workflow import State
from portal.calendar import working_calendar
from tests.dossiers.conftest import DOCUMENTS, HCM, T0
from tests.factories import (
    CitizenFactory,
    ProcedureVersionFactory,
    ProvincialCenterFactory,
    StaffFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def at(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=HCM)


def nothing_written():
    return (
        Dossier.objects.count() == 0
        and DossierEvent.objects.count() == 0
        and DossierCounter.objects.count() == 0
    )


# --- Submission and reception ---------------------------------------------------------------
def test_online_submission_numbers_the_dossier_and_makes_the_fee_due(citizen, center, procedure):
    dossier = services.dossier_submit(
        citizen=citizen, center=center, procedure=procedure, documents=DOCUMENTS, at=T0
    )
    assert dossier.code == f"{center.code}-260302-0001"
    assert dossier.state == State.SUBMITTED and dossier.channel == Channel.ONLINE
    assert dossier.due_at is None and dossier.accepted_at is None
    assert (dossier.fee_vnd, dossier.payment_status) == (8000, PaymentStatus.DUE)
    assert dossier.reused_data and dossier.presented_documents == DOCUMENTS
    event = dossier.events.get()
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "submit",
        None,
        State.SUBMITTED,
        citizen,
    )


def test_codes_count_per_centre_and_local_day(citizen, center, other_center, procedure):
    def submit(where, when):
        return services.dossier_submit(
            citizen=citizen, center=where, procedure=procedure, documents=DOCUMENTS, at=when
        ).code

    assert submit(center, T0).endswith("-260302-0001")
    assert submit(center, T0).endswith("-260302-0002")
    assert submit(other_center, T0) == f"{other_center.code}-260302-0001"
    # 23:30 UTC on 2 March is 06:30 on 3 March in Hà Nội: a new local day, a new series.
    late_evening_utc = datetime.fromisoformat("2026-03-02T23:30:00+00:00")
    assert submit(center, late_evening_utc) == f"{center.code}-260303-0001"


def test_missing_documents_are_named_and_nothing_is_written(citizen, center, procedure):
    with pytest.raises(InvalidInput) as err:
        services.dossier_submit(
            citizen=citizen,
            center=center,
            procedure=procedure,
            documents=["Tờ khai đăng ký khai sinh"],
            at=T0,
        )
    assert err.value.code == "missing_documents"
    assert err.value.fields == {"documents": ["Giấy chứng sinh"]}
    assert nothing_written()


def test_document_names_match_without_accents_or_case(citizen, center, procedure):
    dossier = services.dossier_submit(
        citizen=citizen,
        center=center,
        procedure=procedure,
        documents=["to khai dang ky khai sinh", "GIẤY CHỨNG SINH"],
        at=T0,
    )
    assert dossier.state == State.SUBMITTED


def test_a_procedure_without_online_service_cannot_be_filed_online(citizen, center):
    version = ProcedureVersionFactory(online_level=OnlineLevel.NONE)
    with pytest.raises(InvalidInput) as err:
        services.dossier_submit(
            citizen=citizen, center=center, procedure=version.procedure, documents=DOCUMENTS, at=T0
        )
    assert err.value.code == "no_online_service"
    assert nothing_written()
    # ... but by post it can.
    dossier = services.dossier_submit(
        citizen=citizen,
        center=center,
        procedure=version.procedure,
        documents=DOCUMENTS,
        channel=Channel.POSTAL,
        at=T0,
    )
    assert dossier.channel == Channel.POSTAL


def test_the_centre_level_must_match_the_procedure_level(citizen, center, db):
    provincial = ProcedureVersionFactory(procedure__level="province").procedure
    with pytest.raises(InvalidInput) as err:
        services.dossier_submit(
            citizen=citizen, center=center, procedure=provincial, documents=DOCUMENTS, at=T0
        )
    assert err.value.code == "wrong_level"
    province_center = ProvincialCenterFactory(province=center.province)
    dossier = services.dossier_submit(
        citizen=citizen, center=province_center, procedure=provincial, documents=DOCUMENTS, at=T0
    )
    assert dossier.code.startswith(f"{province_center.code}-")


def test_walk_ins_are_received_not_submitted(citizen, center, procedure):
    with pytest.raises(InvalidInput) as err:
        services.dossier_submit(
            citizen=citizen,
            center=center,
            procedure=procedure,
            documents=DOCUMENTS,
            channel=Channel.IN_PERSON,
            at=T0,
        )
    assert err.value.code == "wrong_channel"


def test_the_applicant_needs_a_citizen_id(center, procedure):
    nobody = CitizenFactory(citizen_id=None)
    with pytest.raises(InvalidInput):
        services.dossier_submit(
            citizen=nobody, center=center, procedure=procedure, documents=DOCUMENTS, at=T0
        )


def test_no_version_in_force_yet(citizen, center):
    version = ProcedureVersionFactory(valid_from=T0.date() + timedelta(days=1))
    with pytest.raises(InvalidInput) as err:
        services.dossier_submit(
            citizen=citizen, center=center, procedure=version.procedure, documents=DOCUMENTS, at=T0
        )
    assert err.value.code == "no_version"


def test_a_dossier_keeps_the_version_it_was_filed_under(citizen, center, version, receptionist):
    first = services.dossier_receive(
        actor=receptionist,
        center=center,
        procedure=version.procedure,
        citizen=citizen,
        documents=DOCUMENTS,
        at=T0,
    )
    ProcedureVersionFactory(procedure=version.procedure, valid_from=T0.date(), limit_amount=10)
    second = services.dossier_receive(
        actor=receptionist,
        center=center,
        procedure=version.procedure,
        citizen=citizen,
        documents=DOCUMENTS,
        at=T0,
    )
    assert first.procedure_version == version
    assert second.procedure_version.limit_amount == 10
    first.refresh_from_db()
    assert first.procedure_version.limit_amount == 3


def test_the_desk_receives_a_walk_in_with_its_due_time(citizen, center, procedure, receptionist):
    # dossier-rules.md: Friday 13 February 2026 16:30, 3 working days, Tết skipped.
    accepted = datetime(2026, 2, 13, 16, 30, tzinfo=HCM)
    dossier = services.dossier_receive(
        actor=receptionist,
        center=center,
        procedure=procedure,
        citizen=citizen,
        documents=DOCUMENTS,
        at=accepted,
    )
    assert dossier.state == State.ACCEPTED
    assert dossier.submitted_at == dossier.accepted_at == accepted
    assert dossier.due_at == datetime(2026, 2, 25, 16, 30, tzinfo=HCM)
    assert dossier.channel == Channel.IN_PERSON and dossier.digitised
    event = dossier.events.get()
    assert (event.action, event.to_state, event.actor) == ("receive", State.ACCEPTED, receptionist)


def test_integration_facts_are_stored_as_the_national_systems_report_them(
    citizen, center, procedure, receptionist
):
    plain = services.dossier_submit(
        citizen=citizen, center=center, procedure=procedure, documents=DOCUMENTS, at=T0
    )
    assert (plain.population_data, plain.personal_storage, plain.synced) == (False, False, False)
    online = services.dossier_submit(
        citizen=citizen,
        center=center,
        procedure=procedure,
        documents=DOCUMENTS,
        at=T0,
        population_data=True,
        synced=True,
    )
    walk_in = services.dossier_receive(
        actor=receptionist,
        center=center,
        procedure=procedure,
        citizen=citizen,
        documents=DOCUMENTS,
        at=T0,
        personal_storage=True,
    )
    stored = Dossier.objects.in_bulk([online.pk, walk_in.pk])
    assert (stored[online.pk].population_data, stored[online.pk].synced) == (True, True)
    assert not stored[online.pk].personal_storage
    assert stored[walk_in.pk].personal_storage and not stored[walk_in.pk].synced


def test_only_the_desk_of_that_centre_receives(citizen, center, other_center, procedure, officer):
    foreign_desk = StaffFactory(center=other_center, roles=["receptionist"])
    for actor in (officer, foreign_desk, None):
        with pytest.raises(NotPermitted):
            services.dossier_receive(
                actor=actor,
                center=center,
                procedure=procedure,
                citizen=citizen,
                documents=DOCUMENTS,
                at=T0,
            )
    assert nothing_written()


def test_online_dossiers_use_the_shorter_online_limit(citizen, center, receptionist):
    version = ProcedureVersionFactory(limit_amount=5, online_limit_amount=2)
    online = services.dossier_submit(
        citizen=citizen, center=center, procedure=version.procedure, documents=DOCUMENTS, at=T0
    )
    online = services.dossier_accept(dossier=online, actor=receptionist, at=at(2, 10))
    assert online.due_at == at(4, 10)
    walk_in = services.dossier_receive(
        actor=receptionist,
        center=center,
        procedure=version.procedure,
        citizen=citizen,
        documents=DOCUMENTS,
        at=at(2, 10),
    )
    assert walk_in.due_at == at(9, 10)


def test_uploads_are_stored_and_checked_by_their_bytes(citizen, center, procedure, receptionist):
    scan = SimpleUploadedFile("../../giay chung sinh.pdf", PDF, content_type="text/plain")
    dossier = services.dossier_receive(
        actor=receptionist,
        center=center,
        procedure=procedure,
        citizen=citizen,
        documents=["Tờ khai đăng ký khai sinh", ("Giấy chứng sinh", scan)],
        digitised=False,
        at=T0,
    )
    document = Document.objects.get(dossier=dossier)
    assert (document.name, document.content_type, document.kind) == (
        "Giấy chứng sinh",
        "application/pdf",
        "input",
    )
    assert ".." not in document.file.name and document.file.name.endswith(".pdf")
    assert dossier.digitised  # a scan was taken at intake
    assert dossier.presented_documents == ["Tờ khai đăng ký khai sinh"]

    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(InvalidInput, match="not a PDF, JPEG or PNG"):
        services.dossier_receive(
            actor=receptionist,
            center=center,
            procedure=procedure,
            citizen=citizen,
            documents=["Tờ khai đăng ký khai sinh", ("Giấy chứng sinh", fake)],
            at=T0,
        )
    assert Dossier.objects.count() == 1


def test_citizen_get_or_create_finds_by_cccd(db):
    created = services.citizen_get_or_create(citizen_id="042095012345", full_name="Trần Thị Mai")
    assert (created.last_name, created.first_name) == ("Trần Thị", "Mai")
    assert not created.has_usable_password()
    again = services.citizen_get_or_create(citizen_id="042095012345", full_name="Another name")
    assert again.pk == created.pk
    with pytest.raises(InvalidInput):
        services.citizen_get_or_create(citizen_id="12345", full_name="X")


# --- Accepting, refusing ----------------------------------------------------------------------
def test_acceptance_starts_the_clock(walker, receptionist):
    dossier = walker.submitted()
    accepted = services.dossier_accept(dossier=dossier, actor=receptionist, at=at(2, 17, 30))
    # After 17:00 the clock starts the next working morning: 3 days from Tue 07:00.
    assert accepted.accepted_at == at(2, 17, 30)
    assert accepted.due_at == at(5, 17, 0)
    assert accepted.events.last().data == {"due_at": "2026-03-05T17:00:00+07:00"}


def test_an_action_cannot_predate_the_history(walker, receptionist):
    dossier = walker.submitted()
    with pytest.raises(InvalidInput):
        services.dossier_accept(dossier=dossier, actor=receptionist, at=T0 - timedelta(hours=1))


def test_refusal_needs_a_reason(walker, receptionist):
    dossier = walker.submitted()
    with pytest.raises(InvalidInput) as err:
        services.dossier_refuse(dossier=dossier, actor=receptionist, reason="  ", at=walker.tick())
    assert err.value.fields == {"reason": ["Required."]}
    refused = services.dossier_refuse(
        dossier=dossier, actor=receptionist, reason="Không thuộc thẩm quyền", at=walker.tick()
    )
    assert refused.state == State.REFUSED and refused.finished_at is None
    assert refused.events.last().note == "Không thuộc thẩm quyền"


def test_a_terminal_dossier_accepts_no_action(walker, leader):
    dossier = walker.in_state(State.RETURNED)
    with pytest.raises(TransitionNotAllowed) as err:
        services.dossier_stop(dossier=dossier, actor=leader, reason="x", at=walker.tick())
    assert err.value.allowed == [] and "no further action" in str(err.value)


# --- Supplements: the clock pauses --------------------------------------------------------------
def test_a_supplement_moves_the_due_time_by_exactly_the_paused_working_time(
    walker, officer, citizen
):
    dossier = walker.in_state(State.IN_PROCESS)
    original_due = dossier.due_at
    assert original_due == at(5, 9, 20)
    paused = services.dossier_request_supplement(
        dossier=dossier, actor=officer, reason="Thiếu giấy chứng sinh", at=at(2, 10)
    )
    assert paused.state == State.SUPPLEMENT_REQUESTED
    assert paused.paused_at == at(2, 10) and paused.supplement_count == 1

    resumed = services.dossier_supplement(
        dossier=paused, actor=citizen, documents=["Giấy chứng sinh"], at=at(4, 10)
    )
    assert resumed.state == State.IN_PROCESS and resumed.paused_at is None
    assert resumed.paused_minutes == 2 * 480
    assert resumed.due_at == at(9, 9, 20)  # Thu 09:20 + two working days (weekend skipped)
    calendar = working_calendar()
    assert working_minutes_between(original_due, resumed.due_at, calendar) == 960
    assert resumed.events.last().data["paused_minutes"] == 960


def test_a_pause_over_a_weekend_counts_only_working_minutes(walker, officer, citizen):
    dossier = walker.in_state(State.IN_PROCESS)
    paused = services.dossier_request_supplement(
        dossier=dossier, actor=officer, reason="Thiếu tờ khai", at=at(6, 16)
    )
    resumed = services.dossier_supplement(
        dossier=paused, actor=citizen, documents=["Tờ khai đăng ký khai sinh"], at=at(9, 8)
    )
    assert resumed.paused_minutes == 60 + 60  # Fri 16:00–17:00, Mon 07:00–08:00
    assert resumed.due_at == add_working_minutes(dossier.due_at, 120, working_calendar())
    assert resumed.due_at == at(5, 11, 20)


def test_paused_minutes_add_up_over_two_requests(walker, officer, receptionist):
    dossier = walker.in_state(State.IN_PROCESS)
    for request, resume in ((at(2, 10), at(2, 11)), (at(3, 14), at(3, 15, 30))):
        dossier = services.dossier_request_supplement(
            dossier=dossier, actor=officer, reason="Thiếu", at=request
        )
        dossier = services.dossier_supplement(
            dossier=dossier, actor=receptionist, documents=["Giấy chứng sinh"], at=resume
        )
    assert dossier.supplement_count == 2 and dossier.paused_minutes == 60 + 90
    assert dossier.due_at == add_working_minutes(at(5, 9, 20), 150, working_calendar())


def test_a_supplement_brings_at_least_one_document(walker, citizen):
    dossier = walker.in_state(State.SUPPLEMENT_REQUESTED)
    with pytest.raises(InvalidInput):
        services.dossier_supplement(dossier=dossier, actor=citizen, documents=[], at=walker.tick())


# --- Apology slips -----------------------------------------------------------------------------
def test_an_apology_keeps_the_original_due_time(walker, officer):
    dossier = walker.in_state(State.IN_PROCESS)
    new_due = at(11, 16)
    apologised = services.dossier_issue_apology(
        dossier=dossier,
        actor=officer,
        reason="Chờ kết quả xác minh",
        new_due_at=new_due,
        at=at(4, 9, 20),
    )
    assert apologised.due_at == at(5, 9, 20)
    assert apologised.rescheduled_due_at == new_due
    assert apologised.effective_due_at == new_due
    assert apologised.apology_count == 1 and apologised.state == State.IN_PROCESS
    event = apologised.events.last()
    assert (event.action, event.from_state, event.to_state) == ("issue_apology", 4, 4)
    assert event.data["previous_due_at"] == "2026-03-05T09:20:00+07:00"


@pytest.mark.parametrize(
    ("issued", "new_due", "code"),
    [
        (at(4, 10), at(11, 16), "apology_too_late"),  # 7 h 20 before the due time
        (at(5, 10), at(11, 16), "apology_too_late"),  # after the due time
        (at(3, 9), at(5, 9), "apology_not_later"),
        (at(3, 9), at(7, 10), "apology_not_working_day"),  # a Saturday
    ],
)
def test_apology_rules(walker, officer, issued, new_due, code):
    dossier = walker.in_state(State.IN_PROCESS)
    with pytest.raises(InvalidInput) as err:
        services.dossier_issue_apology(
            dossier=dossier, actor=officer, reason="Chờ xác minh", new_due_at=new_due, at=issued
        )
    assert err.value.code == code
    dossier.refresh_from_db()
    assert dossier.rescheduled_due_at is None and dossier.apology_count == 0


# --- Payments ---------------------------------------------------------------------------------
def pay(dossier, *, reference="GW-1", amount=None, actor=None, when=None):
    return services.dossier_record_payment(
        dossier=dossier,
        actor=actor,
        channel="online",
        amount_vnd=dossier.fee_vnd if amount is None else amount,
        reference=reference,
        at=when or at(2, 12),
    )


def test_payment_is_idempotent_on_the_gateway_reference(walker):
    dossier = walker.submitted()
    first = pay(dossier)
    again = pay(dossier)
    assert again.pk == first.pk and Payment.objects.count() == 1
    dossier.refresh_from_db()
    assert dossier.payment_status == PaymentStatus.PAID and dossier.paid_at == at(2, 12)
    assert dossier.events.filter(action="record_payment").count() == 1


def test_double_payment_wrong_amount_and_reused_reference_are_refused(walker):
    dossier = walker.submitted()
    with pytest.raises(InvalidInput) as err:
        pay(dossier, amount=5000)
    assert err.value.code == "wrong_amount"
    pay(dossier, reference="GW-1")
    dossier.refresh_from_db()
    with pytest.raises(InvalidInput) as err:
        pay(dossier, reference="GW-2")
    assert err.value.code == "already_paid"
    other = walker.submitted()
    with pytest.raises(InvalidInput) as err:
        pay(other, reference="GW-1")
    assert err.value.code == "reference_reused"
    assert Payment.objects.count() == 1


def test_a_dossier_without_a_fee_cannot_be_paid(citizen, center, free_version):
    dossier = services.dossier_submit(
        citizen=citizen, center=center, procedure=free_version.procedure, documents=DOCUMENTS, at=T0
    )
    assert dossier.payment_status == PaymentStatus.NONE
    with pytest.raises(InvalidInput) as err:
        pay(dossier, amount=1000)
    assert err.value.code == "no_fee"


def test_payment_on_request_resumes_processing(walker, officer):
    dossier = walker.in_state(State.PAYMENT_REQUESTED)
    pay(dossier, reference="CASH-1")
    dossier.refresh_from_db()
    assert dossier.state == State.IN_PROCESS
    assert dossier.events.last().from_state == State.PAYMENT_REQUESTED


def test_an_extra_obligation_can_be_requested(citizen, center, free_version, receptionist, officer):
    dossier = services.dossier_receive(
        actor=receptionist,
        center=center,
        procedure=free_version.procedure,
        citizen=citizen,
        documents=DOCUMENTS,
        at=T0,
    )
    dossier = services.dossier_start_processing(dossier=dossier, actor=officer, at=at(2, 9, 30))
    with pytest.raises(InvalidInput) as err:
        services.dossier_request_payment(dossier=dossier, actor=officer, at=at(2, 10))
    assert err.value.code == "no_fee"
    dossier = services.dossier_request_payment(
        dossier=dossier, actor=officer, amount_vnd=250000, at=at(2, 10)
    )
    assert (dossier.fee_vnd, dossier.payment_status) == (250000, PaymentStatus.DUE)


def test_the_result_waits_for_the_fee(walker, officer):
    dossier = walker.in_state(State.IN_PROCESS)
    with pytest.raises(InvalidInput) as err:
        services.dossier_finish(dossier=dossier, actor=officer, at=walker.tick())
    assert err.value.code == "fee_unpaid"


# --- Finishing and closing ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("finished", "expected"),
    [(at(4, 16), "early"), (at(5, 9, 20), "on_time"), (at(5, 9, 21), "late")],
)
def test_finishing_stores_the_time_and_timeliness(
    walker, officer, receptionist, finished, expected
):
    dossier = walker.in_state(State.IN_PROCESS, paid=True)
    done = services.dossier_finish(dossier=dossier, actor=officer, at=finished)
    assert done.state == State.PROCESSED and done.finished_at == finished
    assert done.timeliness == expected and not done.electronic_result
    returned = services.dossier_return_result(dossier=done, actor=receptionist, at=at(9, 8))
    assert returned.state == State.RETURNED and returned.returned_at == at(9, 8)


def test_an_electronic_result_is_stored(walker, officer):
    dossier = walker.in_state(State.IN_PROCESS, paid=True)
    result = SimpleUploadedFile("ket-qua.pdf", PDF)
    done = services.dossier_finish(
        dossier=dossier, actor=officer, result_document=result, at=at(3, 9)
    )
    assert done.electronic_result
    assert done.documents.get(kind="result").name == services.RESULT_DOCUMENT_NAME


def test_stopping_after_acceptance_ends_processing(walker, officer):
    dossier = walker.in_state(State.IN_PROCESS)
    stopped = services.dossier_stop(
        dossier=dossier, actor=officer, reason="Hồ sơ giả mạo", at=at(6, 9)
    )
    assert stopped.state == State.STOPPED and stopped.finished_at == at(6, 9)
    assert stopped.timeliness == "late"


def test_a_supplement_that_never_comes_is_judged_at_the_request(walker, officer):
    dossier = walker.in_state(State.IN_PROCESS)
    paused = services.dossier_request_supplement(
        dossier=dossier, actor=officer, reason="Thiếu", at=at(3, 9)
    )
    stopped = services.dossier_stop(
        dossier=paused, actor=officer, reason="Quá hạn bổ sung", at=at(31, 9)
    )
    assert stopped.timeliness == "early" and stopped.paused_at is None


def test_withdrawal_before_acceptance_has_no_finish_time(walker, citizen):
    dossier = walker.submitted()
    withdrawn = services.dossier_withdraw(dossier=dossier, actor=citizen, at=walker.tick())
    assert withdrawn.state == State.WITHDRAWN and withdrawn.finished_at is None
    accepted = walker.accepted()
    withdrawn = services.dossier_withdraw(
        dossier=accepted, actor=citizen, reason="Đổi ý", at=at(3, 9)
    )
    assert withdrawn.finished_at == at(3, 9) and withdrawn.timeliness == "early"


def test_the_dispatcher_rejects_unknown_actions_and_parameters(walker, receptionist):
    dossier = walker.submitted()
    with pytest.raises(InvalidInput) as err:
        services.dossier_transition(dossier=dossier, action="teleport", actor=receptionist)
    assert err.value.code == "unknown_action"
    with pytest.raises(InvalidInput) as err:
        services.dossier_transition(
            dossier=dossier, action="accept", actor=receptionist, colour="red"
        )
    assert err.value.code == "bad_parameters"


# --- Ratings ------------------------------------------------------------------------------------
def test_a_rating_comes_after_the_result_once_from_the_applicant(walker, citizen):
    dossier = walker.in_state(State.IN_PROCESS)
    with pytest.raises(TransitionNotAllowed):
        services.dossier_rate(dossier=dossier, citizen=citizen, satisfied=True, at=walker.tick())
    dossier = walker.in_state(State.RETURNED)
    with pytest.raises(NotPermitted):
        services.dossier_rate(dossier=dossier, citizen=CitizenFactory(), satisfied=True)
    rating = services.dossier_rate(
        dossier=dossier, citizen=citizen, satisfied=False, comment="Chờ lâu", at=walker.tick()
    )
    assert Rating.objects.get(dossier=dossier) == rating and not rating.satisfied
    with pytest.raises(TransitionNotAllowed) as err:
        services.dossier_rate(dossier=dossier, citizen=citizen, satisfied=True, at=walker.tick())
    assert err.value.code == "already_rated"
    assert dossier.events.filter(action="rate").count() == 1


# --- Petitions ----------------------------------------------------------------------------------
def test_petition_lifecycle(citizen, center, other_center, officer):
    petition = services.petition_file(
        citizen=citizen, center=center, subject="Thái độ phục vụ", body="Cán bộ chậm trễ.", at=T0
    )
    assert petition.code == f"PA-{center.code}-260302-0001"
    assert petition.status == Petition.Status.RECEIVED
    assert petition.due_at == datetime(2026, 3, 23, 9, 0, tzinfo=HCM)  # 15 working days

    with pytest.raises(NotPermitted):
        services.petition_answer(
            petition=petition,
            actor=StaffFactory(center=other_center, roles=["leader"]),
            answer="x",
            at=at(3, 9),
        )
    with pytest.raises(TransitionNotAllowed):
        services.petition_rate(petition=petition, citizen=citizen, satisfied=True, at=at(3, 9))

    petition = services.petition_start_processing(petition=petition, actor=officer, at=at(3, 9))
    petition = services.petition_answer(
        petition=petition, actor=officer, answer="Đã nhắc nhở cán bộ.", at=at(4, 9)
    )
    assert petition.status == Petition.Status.ANSWERED and petition.answered_at == at(4, 9)
    with pytest.raises(TransitionNotAllowed):
        services.petition_answer(petition=petition, actor=officer, answer="again", at=at(4, 10))
    with pytest.raises(NotPermitted):
        services.petition_rate(petition=petition, citizen=CitizenFactory(), satisfied=True)
    petition = services.petition_rate(
        petition=petition, citizen=citizen, satisfied=True, at=at(5, 9)
    )
    assert petition.satisfied is True
    with pytest.raises(TransitionNotAllowed):
        services.petition_rate(petition=petition, citizen=citizen, satisfied=False, at=at(5, 10))
    history = list(petition.events.values_list("from_status", "to_status"))
    assert history == [
        ("", "received"),
        ("received", "in_process"),
        ("in_process", "answered"),
        ("answered", "answered"),
    ]


def test_a_petition_is_raised_again_once_by_its_citizen_after_the_answer(citizen, center, officer):
    petition = services.petition_file(
        citizen=citizen, center=center, subject="Hẹn trả chậm", body="Chưa có kết quả.", at=T0
    )
    with pytest.raises(TransitionNotAllowed) as err:
        services.petition_repeat(petition=petition, citizen=citizen, at=at(3, 9))
    assert err.value.code == "not_answered"
    petition = services.petition_answer(
        petition=petition, actor=officer, answer="Đã có kết quả.", at=at(4, 9)
    )
    with pytest.raises(NotPermitted):
        services.petition_repeat(petition=petition, citizen=CitizenFactory(), at=at(5, 9))
    with pytest.raises(InvalidInput):
        services.petition_repeat(petition=petition, citizen=citizen, at=at(4, 8))
    assert not Petition.objects.get(pk=petition.pk).repeated

    petition = services.petition_repeat(petition=petition, citizen=citizen, at=at(5, 9))
    assert petition.repeated and petition.status == Petition.Status.ANSWERED
    with pytest.raises(TransitionNotAllowed) as err:
        services.petition_repeat(petition=petition, citizen=citizen, at=at(5, 10))
    assert err.value.code == "already_repeated"
    last = petition.events.order_by("at", "id").last()
    assert (last.from_status, last.to_status, last.actor_id, last.at) == (
        "answered",
        "answered",
        citizen.pk,
        at(5, 9),
    )


def test_a_petition_about_a_dossier_must_be_the_citizens_own(walker, center):
    dossier = walker.submitted()
    with pytest.raises(InvalidInput) as err:
        services.petition_file(
            citizen=CitizenFactory(), center=center, subject="x", body="y", dossier=dossier, at=T0
        )
    assert err.value.code == "foreign_dossier"
    assert Petition.objects.count() == 0


# --- Constraints behind the services ------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        {"accepted_at": None},  # a due time without acceptance
        {"finished_at": T0 - timedelta(days=1)},  # a result before acceptance
        {"returned_at": T0},  # returned, never finished
        {"paused_at": T0},  # paused outside a supplement request
        {"payment_status": "paid"},  # paid, but when?
    ],
)
def test_the_database_refuses_impossible_rows(walker, changes):
    from django.db import IntegrityError, transaction

    dossier = walker.in_state(State.ACCEPTED)
    for field, value in changes.items():
        setattr(dossier, field, value)
    with pytest.raises(IntegrityError), transaction.atomic():
        dossier.save()


def test_bulk_writes_outside_services_are_refused(walker):
    walker.submitted()
    with pytest.raises(PermissionError):
        Dossier.objects.update(state=State.RETURNED)
    with pytest.raises(PermissionError):
        DossierEvent.objects.update(note="rewritten")
