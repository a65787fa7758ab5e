"""Fixtures for the dossier lifecycle: one commune centre with its staff, a fee-bearing
procedure, a citizen, and ``dossier_in(state)`` which walks a dossier there through the
services (so every dossier in these tests has a real history)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from dossiers import services
from dossiers.models import Channel
from dossiers.workflow import State
from tests.factories import (
    CitizenFactory,
    CommuneCenterFactory,
    ProcedureVersionFactory,
    StaffFactory,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# Monday 2 March 2026, 09:00: an ordinary working morning (Tết is over).
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=HCM)
FEE = 8000
DOCUMENTS = ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]


@pytest.fixture(autouse=True)
def _fast_isolated_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "documents"
    # Hashing passwords slowly protects real accounts, not test fixtures.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def english(settings):
    """Messages asserted in their English source form, whether or not the Vietnamese
    catalogue is compiled (pages and services default to Vietnamese otherwise)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def center(db):
    return CommuneCenterFactory()


@pytest.fixture
def other_center(db):
    return CommuneCenterFactory()


@pytest.fixture
def version(db):
    return ProcedureVersionFactory(fee_vnd=FEE)


@pytest.fixture
def procedure(version):
    return version.procedure


@pytest.fixture
def free_version(db):
    return ProcedureVersionFactory(fee_vnd=0)


@pytest.fixture
def citizen(db):
    return CitizenFactory()


@pytest.fixture
def receptionist(center):
    return StaffFactory(center=center, roles=["receptionist"])


@pytest.fixture
def officer(center):
    return StaffFactory(center=center, roles=["officer"])


@pytest.fixture
def leader(center):
    return StaffFactory(center=center, roles=["leader"])


@pytest.fixture
def actors(citizen, receptionist, officer, leader):
    """One user per workflow role (``None`` acts as the system)."""
    return {
        "citizen": citizen,
        "receptionist": receptionist,
        "officer": officer,
        "leader": leader,
        "system": None,
    }


class Walker:
    """Brings a dossier into a state through the services, one step per ``STEP`` minutes."""

    STEP = timedelta(minutes=10)

    def __init__(self, *, center, procedure, citizen, receptionist, officer):
        self.center, self.procedure, self.citizen = center, procedure, citizen
        self.receptionist, self.officer = receptionist, officer
        self.at = T0

    def tick(self):
        self.at += self.STEP
        return self.at

    def submitted(self, **kwargs):
        return services.dossier_submit(
            citizen=self.citizen,
            center=self.center,
            procedure=self.procedure,
            documents=DOCUMENTS,
            channel=Channel.ONLINE,
            at=self.tick(),
            **kwargs,
        )

    def accepted(self):
        return services.dossier_accept(
            dossier=self.submitted(), actor=self.receptionist, at=self.tick()
        )

    def paid(self, dossier):
        if dossier.payment_status != "due":
            return dossier
        services.dossier_record_payment(
            dossier=dossier,
            actor=None,
            channel="online",
            amount_vnd=dossier.fee_vnd,
            reference=f"GW-{dossier.code}",
            at=self.tick(),
        )
        return type(dossier).objects.get(pk=dossier.pk)

    def in_state(self, state: State, *, paid=False):
        """A dossier in ``state``; its fee is paid first when ``paid`` (always before the
        result: a fee still due blocks it)."""
        state = State(state)
        if state == State.SUBMITTED:
            dossier = self.submitted()
            return self.paid(dossier) if paid else dossier
        if state == State.REFUSED:
            return services.dossier_refuse(
                dossier=self.submitted(),
                actor=self.receptionist,
                reason="Thiếu chữ ký",
                at=self.tick(),
            )
        if state == State.WITHDRAWN:
            return services.dossier_withdraw(
                dossier=self.submitted(), actor=self.citizen, at=self.tick()
            )
        dossier = self.accepted()
        if paid or state in (State.PROCESSED, State.RETURNED):
            dossier = self.paid(dossier)
        if state == State.ACCEPTED:
            return dossier
        dossier = services.dossier_start_processing(
            dossier=dossier, actor=self.officer, at=self.tick()
        )
        if state == State.IN_PROCESS:
            return dossier
        if state == State.SUPPLEMENT_REQUESTED:
            return services.dossier_request_supplement(
                dossier=dossier,
                actor=self.officer,
                reason="Bổ sung giấy chứng sinh",
                at=self.tick(),
            )
        if state == State.PAYMENT_REQUESTED:
            return services.dossier_request_payment(
                dossier=dossier, actor=self.officer, at=self.tick()
            )
        if state == State.STOPPED:
            return services.dossier_stop(
                dossier=dossier, actor=self.officer, reason="Không đủ điều kiện", at=self.tick()
            )
        dossier = services.dossier_finish(
            dossier=dossier, actor=self.officer, electronic_result=True, at=self.tick()
        )
        if state == State.PROCESSED:
            return dossier
        return services.dossier_return_result(
            dossier=dossier, actor=self.receptionist, at=self.tick()
        )


@pytest.fixture
def walker(center, procedure, citizen, receptionist, officer):
    return Walker(
        center=center,
        procedure=procedure,
        citizen=citizen,
        receptionist=receptionist,
        officer=officer,
    )
