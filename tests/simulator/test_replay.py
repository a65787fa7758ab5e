"""The simulator must produce exactly what the services would.

Generated dossiers are written by the simulator's own writer, read back, deleted, then replayed
action by action through ``dossiers.services`` (same actors, same times, same parameters) and
compared field by field: dossier rows, history, payments, ratings, petitions, day counters."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from dossiers import services
from dossiers.models import (
    Dossier,
    DossierCounter,
    DossierEvent,
    Payment,
    Petition,
    PetitionEvent,
    Procedure,
    Rating,
    service_writes,
)
from dossiers.workflow import Action
from portal.calendar import working_calendar
from portal.history import history_purge
from portal.models import ServiceCenter, User
from simulator.backfill import create_citizens, ensure_rules_in_force, ensure_staff, first_day
from simulator.clock import Clock, to_datetime
from simulator.generate import Generator
from simulator.scenario import parse_scenario
from simulator.world import load_world
from simulator.writer import (
    CopyEncoder,
    SqliteEncoder,
    check_dossier_fields,
    encode_batches,
    reserve_ids,
    table_specs,
    write_rows,
)

# Integration facts of the national systems: the submitting service takes them as they come.
INTEGRATION_FLAGS = ("population_data", "personal_storage", "synced")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _aware(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _snapshot(codes: list[str], petition_codes: list[str]) -> dict:
    """Everything the database holds about these dossiers and petitions, keyed by code."""
    fields = [
        f.attname for f in Dossier._meta.concrete_fields if f.attname not in ("id", "updated_at")
    ]
    out = {"dossiers": {}, "petitions": {}}
    for d in Dossier.objects.filter(code__in=codes):
        row = {f: getattr(d, f) for f in fields}
        row["events"] = [
            (e.action, e.from_state, e.to_state, e.actor_id, e.at, e.note, e.data)
            for e in DossierEvent.objects.filter(dossier=d).order_by("at", "id")
        ]
        row["payments"] = [
            (p.channel, p.amount_vnd, p.reference, p.paid_at)
            for p in Payment.objects.filter(dossier=d)
        ]
        rating = Rating.objects.filter(dossier=d).first()
        row["rating"] = (rating.satisfied, rating.comment, rating.rated_at) if rating else None
        out["dossiers"][d.code] = row
    for p in Petition.objects.filter(code__in=petition_codes).select_related("dossier"):
        out["petitions"][p.code] = {
            "center": p.center_id,
            "citizen": p.citizen_id,
            "dossier": p.dossier.code if p.dossier else None,
            **{f: getattr(p, f) for f in ("subject", "body", "status", "received_at", "due_at",
                                          "answered_at", "answer", "satisfied", "repeated")},
            "events": [
                (e.from_status, e.to_status, e.actor_id, e.at, e.note)
                for e in PetitionEvent.objects.filter(petition=p).order_by("at", "id")
            ],
        }  # fmt: skip
    return out


def _replay_dossier(sim, users, centres, procedures):
    """Call the services for every event of one generated dossier; returns the dossier."""
    dossier = None
    center = centres[sim.center_id]
    procedure = procedures[sim.version_id]
    citizen = users[sim.applicant_id]
    extra = {f: getattr(sim, f) for f in INTEGRATION_FLAGS}
    for e in sim.events:
        at = to_datetime(e.at)
        actor = users.get(e.actor)
        data = _data(e.data)
        if e.action == Action.SUBMIT:
            reused = set(sim.presented_documents)
            documents = [
                name if name in reused else (name, ContentFile(PDF, name="scan.pdf"))
                for name in data["documents"]
            ]
            dossier = services.dossier_submit(
                citizen=citizen, center=center, procedure=procedure, documents=documents,
                channel=sim.channel, at=at, **extra,
            )  # fmt: skip
        elif e.action == Action.RECEIVE:
            dossier = services.dossier_receive(
                actor=actor, center=center, procedure=procedure, citizen=citizen,
                documents=data["documents"], channel=sim.channel, digitised=sim.digitised,
                at=at, **extra,
            )  # fmt: skip
        elif e.action == "rate":
            services.dossier_rate(
                dossier=dossier, citizen=citizen, satisfied=data["satisfied"], comment=e.note, at=at
            )
        elif e.action == Action.RECORD_PAYMENT:
            services.dossier_record_payment(
                dossier=dossier, actor=actor, channel=data["channel"],
                amount_vnd=data["amount_vnd"], reference=data["reference"], at=at,
            )  # fmt: skip
        else:
            params = {}
            if e.action in (Action.REFUSE, Action.REQUEST_SUPPLEMENT, Action.STOP, Action.WITHDRAW):
                params["reason"] = e.note
            if e.action == Action.SUPPLEMENT:
                params["documents"] = data["documents"]
            if e.action == Action.ISSUE_APOLOGY:
                params.update(reason=e.note, new_due_at=_aware(data["new_due_at"]))
            if e.action == Action.FINISH:
                params["electronic_result"] = data["electronic_result"]
            dossier = services.dossier_transition(
                dossier=dossier, action=e.action, actor=actor, at=at, **params
            )
    return dossier


def _data(text: str) -> dict:
    import json

    return json.loads(text)


@pytest.mark.django_db(transaction=False)
def test_generated_dossiers_equal_what_the_services_make(reference_data, small_raw):
    scenario = parse_scenario(small_raw)
    begin = first_day(scenario)
    ensure_rules_in_force(begin)
    world = load_world(scenario.provinces, Clock(working_calendar()))
    ensure_staff(world)
    gen = Generator(scenario=scenario, world=world, seed=7, scale=1.0, end=scenario.end)
    days = [begin + timedelta(days=n) for n in range((scenario.end - begin).days + 1)]
    create_citizens(gen, days, begin)

    # Two working days of the province, whole (every dossier of a centre-day, so the services
    # number them the same way), until every action has been seen.
    batches, seen = [], set()
    for day in (date(2025, 7, 1), date(2025, 7, 2), date(2025, 7, 3)):
        batch = gen.province_day("42", day)
        batches.append(batch)
        seen |= {e.action for d in batch.dossiers for e in d.events}
        if seen >= {str(a) for a in Action} | {"rate"}:
            break
    missing = ({str(a) for a in Action} | {"rate"}) - seen
    assert not missing, f"the sample does not exercise {missing}"
    dossiers = [d for b in batches for d in b.dossiers]
    petitions = [p for b in batches for p in b.petitions]
    assert petitions and any(p.answered_at for p in petitions)
    assert any(p.repeated for p in petitions), "the sample does not exercise petition_repeat"

    # Write them as the simulator does, read them back, remove them.
    columns = check_dossier_fields()
    encoder = CopyEncoder() if connection.vendor == "postgresql" else SqliteEncoder()
    state: dict = {}
    rows = encode_batches(
        encoder,
        batches,
        reserve_ids(Dossier._meta.db_table, len(dossiers), state),
        reserve_ids(Petition._meta.db_table, len(petitions), state),
        columns,
    )
    write_rows(rows, table_specs(columns))
    codes = [d.code for d in dossiers]
    petition_codes = [p.code for p in petitions]
    simulated = _snapshot(codes, petition_codes)
    counters = sorted(DossierCounter.objects.values_list("center_id", "series", "day", "last"))
    assert len(simulated["dossiers"]) == len(dossiers)
    with history_purge(), service_writes():
        PetitionEvent.objects.filter(petition__code__in=petition_codes).delete()
        Petition.objects.filter(code__in=petition_codes).delete()
        Rating.objects.filter(dossier__code__in=codes).delete()
        Payment.objects.filter(dossier__code__in=codes).delete()
        DossierEvent.objects.filter(dossier__code__in=codes).delete()
        Dossier.objects.filter(code__in=codes).delete()
        DossierCounter.objects.all().delete()

    # Replay through the services, dossier by dossier in the order of their codes.
    users = User.objects.in_bulk()
    centres = ServiceCenter.objects.in_bulk()
    procedures = {
        v.id: Procedure.objects.get(code=v.code) for vs in world.versions.values() for v in vs
    }
    replayed = {}
    for sim in sorted(dossiers, key=lambda d: (d.center_id, d.code)):
        replayed[id(sim)] = _replay_dossier(sim, users, centres, procedures)
    for pet in sorted(petitions, key=lambda p: p.code):
        petition = services.petition_file(
            citizen=users[pet.citizen_id],
            center=centres[pet.center_id],
            subject=pet.subject,
            body=pet.body,
            dossier=replayed[id(pet.dossier)] if pet.dossier is not None else None,
            at=to_datetime(pet.received_at),
        )
        for from_status, to_status, actor, at, note in pet.events[1:]:
            if note == gen.repeat_note:
                petition = services.petition_repeat(
                    petition=petition, citizen=users[actor], at=to_datetime(at)
                )
            elif to_status == "in_process":
                petition = services.petition_start_processing(
                    petition=petition, actor=users[actor], at=to_datetime(at)
                )
            elif from_status != "answered":
                petition = services.petition_answer(
                    petition=petition, actor=users[actor], answer=pet.answer, at=to_datetime(at)
                )
            else:
                petition = services.petition_rate(
                    petition=petition,
                    citizen=users[actor],
                    satisfied=pet.satisfied,
                    at=to_datetime(at),
                )

    by_services = _snapshot(codes, petition_codes)
    for table in ("dossiers", "petitions"):
        assert set(by_services[table]) == set(simulated[table])
        for code, expected in simulated[table].items():
            actual = by_services[table][code]
            for field, value in expected.items():
                assert actual[field] == value, (
                    f"{code} {field}: services {actual[field]!r} != simulator {value!r}"
                )
    assert (
        sorted(DossierCounter.objects.values_list("center_id", "series", "day", "last")) == counters
    )
