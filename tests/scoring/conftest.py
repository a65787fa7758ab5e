"""A tiny organisation for scoring tests: two provinces (91, 92), each with a provincial centre
and communes, three procedures, and ``make_dossier`` creating dossiers straight in the ORM
(the index is computed from stored columns, so tests set those columns directly)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from dossiers.models import Dossier, OnlineLevel, Petition, Rating
from tests.factories import (
    CitizenFactory,
    CommuneCenterFactory,
    CommuneFactory,
    ProcedureFactory,
    ProcedureVersionFactory,
    ProvinceFactory,
    ProvincialCenterFactory,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
_codes = itertools.count(1)


def at(day: date | str, hh: int = 9, mm: int = 0) -> datetime:
    """A local instant: ``at("2025-07-01", 9)``."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return datetime.combine(day, time(hh, mm), tzinfo=VN)


@pytest.fixture
def org(db):
    provinces = {}
    for code, communes in (("91", ("91001", "91002", "91003")), ("92", ("92001", "92002"))):
        province = ProvinceFactory(code=code)
        provincial = ProvincialCenterFactory(province=province)
        centers = {
            c: CommuneCenterFactory(commune=CommuneFactory(code=c, province=province))
            for c in communes
        }
        provinces[code] = SimpleNamespace(
            province=province, provincial=provincial, communes=centers
        )
    free = ProcedureVersionFactory(
        procedure=ProcedureFactory(code="9.000001", level="commune"), fee_vnd=0
    )
    fee = ProcedureVersionFactory(
        procedure=ProcedureFactory(code="9.000002", level="commune"),
        fee_vnd=10000,
        online_level=OnlineLevel.PARTIAL,
    )
    provincial = ProcedureVersionFactory(
        procedure=ProcedureFactory(code="9.000003", level="province"), fee_vnd=50000
    )
    return SimpleNamespace(
        p91=provinces["91"],
        p92=provinces["92"],
        free=free,
        fee=fee,
        provincial=provincial,
        citizen=CitizenFactory(),
    )


@pytest.fixture
def make_dossier(org):
    def make(center, version=None, *, accepted=None, due=None, **fields):
        version = version or org.free
        accepted_at = at(accepted) if isinstance(accepted, str) else accepted
        if due is None and accepted_at is not None:
            due = accepted_at + timedelta(days=3)
        fields.setdefault("state", 2 if accepted_at else 1)
        fields.setdefault("channel", 1)
        fields.setdefault("fee_vnd", version.fee_vnd)
        return Dossier.objects.create(
            code=f"T-{next(_codes):06d}",
            center=center,
            procedure_version=version,
            applicant=org.citizen,
            submitted_at=fields.pop("submitted_at", None) or accepted_at or at("2025-07-01"),
            accepted_at=accepted_at,
            due_at=due,
            **fields,
        )

    return make


@pytest.fixture
def make_rating(org):
    def make(dossier, *, satisfied, rated_at):
        return Rating.objects.create(dossier=dossier, satisfied=satisfied, rated_at=rated_at)

    return make


@pytest.fixture
def make_petition(org):
    def make(center, *, received_at, due_at=None, dossier=None, **fields):
        return Petition.objects.create(
            code=f"PT-{next(_codes):06d}",
            center=center,
            citizen=org.citizen,
            dossier=dossier,
            subject="Phản ánh",
            body="Nội dung",
            received_at=received_at,
            due_at=due_at or received_at + timedelta(days=21),
            **fields,
        )

    return make
