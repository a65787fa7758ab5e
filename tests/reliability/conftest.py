"""A small world for reliability and security tests: two provinces, three commune centres,
citizens, staff of one centre, a provincial and a national manager, and dossiers (with
documents, history and a petition) in their own centre, another centre of the same province
and another province. Everything is created through the services, so histories are real."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dossiers import services
from dossiers.models import Dossier, Petition
from portal.models import ManagerScope, User
from tests.factories import (
    PASSWORD,
    CitizenFactory,
    CommuneCenterFactory,
    CommuneFactory,
    ProcedureVersionFactory,
    ProvinceFactory,
    StaffFactory,
    UserFactory,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCUMENTS = ("Tờ khai đăng ký khai sinh", "Giấy chứng sinh")

# The roles of the authorisation matrix, in the order reports list them.
ROLES = (
    "anonymous",
    "citizen",
    "receptionist",
    "officer",
    "leader",
    "provincial_manager",
    "national_manager",
)
# Where a dossier lies relative to the "home" people of the world (citizen, staff of centre A1,
# manager of province A).
PLACES = ("own", "other_centre", "other_province")


def pdf_upload(name: str = "to-khai.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@dataclass
class World:
    users: dict[str, User | None]
    dossiers: dict[str, Dossier]  # by place: submitted online, waiting for the desk
    finished: dict[str, Dossier]  # by place: result returned (with a result file) and rated
    petitions: dict[str, Petition]  # by place
    centres: dict
    procedure: object
    citizens: list[User] = field(default_factory=list)
    media_root: object = None

    def visible(self, role: str) -> set[str]:
        """The places whose dossiers ``role`` may see (the rule the matrix checks)."""
        return {
            "anonymous": set(),
            "citizen": {"own"},
            "receptionist": {"own"},
            "officer": {"own"},
            "leader": {"own"},
            "provincial_manager": {"own", "other_centre"},
            "national_manager": {"own", "other_centre", "other_province"},
        }[role]


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, request):
    settings.MEDIA_ROOT = tmp_path / "documents"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A cache of this test's own (throttle counters, lockouts): never clear a Redis cache that
    # other test processes share.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


def _later_working_day(dossier):
    """10:00 on the first working day after the dossier's due day (an apology's new date)."""
    from datetime import datetime, time

    from django.utils import timezone

    from portal.calendar import working_calendar

    day = working_calendar().next_working_day(timezone.localdate(dossier.due_at))
    return datetime.combine(day, time(10, 0), tzinfo=timezone.get_current_timezone())


def build_world(*, index: bool = False) -> World:
    """``index``: also compute and publish today's index snapshots for the world's units."""
    province_a, province_b = ProvinceFactory(code="91"), ProvinceFactory(code="92")
    centre_a1 = CommuneCenterFactory(commune=CommuneFactory(code="91001", province=province_a))
    centre_a2 = CommuneCenterFactory(commune=CommuneFactory(code="91002", province=province_a))
    centre_b1 = CommuneCenterFactory(commune=CommuneFactory(code="92001", province=province_b))
    procedure = ProcedureVersionFactory(fee_vnd=0).procedure

    citizen = CitizenFactory(citizen_id="042095000001", first_name="Lan", last_name="Trần Thị")
    other_citizen = CitizenFactory(citizen_id="042095000002", first_name="Minh", last_name="Lê")
    third_citizen = CitizenFactory(citizen_id="042095000003", first_name="Hùng", last_name="Phạm")
    receptionist = StaffFactory(center=centre_a1, roles=["receptionist"])
    officer = StaffFactory(center=centre_a1, roles=["officer"])
    leader = StaffFactory(center=centre_a1, roles=["leader"])
    provincial = UserFactory(username="manager-91", is_staff=True)
    ManagerScope.objects.create(user=provincial, province=province_a)
    national = UserFactory(username="manager-vn", is_staff=True)
    ManagerScope.objects.create(user=national, province=None)
    _join_group(provincial, "Managers")
    _join_group(national, "Managers")

    def submit(who, centre):
        return services.dossier_submit(
            citizen=who,
            center=centre,
            procedure=procedure,
            documents=[(DOCUMENTS[0], pdf_upload()), DOCUMENTS[1]],
        )

    def finish(who, centre):
        # Each centre's own desk does the work, so no home user gains a role by it.
        desk = StaffFactory(center=centre, roles=["receptionist", "officer"])
        dossier = services.dossier_accept(dossier=submit(who, centre), actor=desk)
        dossier = services.dossier_start_processing(dossier=dossier, actor=desk)
        dossier = services.dossier_issue_apology(
            dossier=dossier,
            actor=desk,
            reason="Chờ xác minh",
            new_due_at=_later_working_day(dossier),
        )
        dossier = services.dossier_finish(
            dossier=dossier, actor=desk, result_document=pdf_upload("ket-qua.pdf")
        )
        dossier = services.dossier_return_result(dossier=dossier, actor=desk)
        services.dossier_rate(dossier=dossier, citizen=who, satisfied=True, comment="Nhanh.")
        return dossier

    dossiers, finished, petitions = {}, {}, {}
    for place, who, centre in (
        ("own", citizen, centre_a1),
        ("other_centre", other_citizen, centre_a2),
        ("other_province", third_citizen, centre_b1),
    ):
        dossiers[place] = submit(who, centre)
        finished[place] = finish(who, centre)
        petitions[place] = services.petition_file(
            citizen=who,
            center=centre,
            subject=f"Hỏi về hồ sơ {dossiers[place].code}",
            body="Xin cho biết tiến độ.",
            dossier=dossiers[place],
        )
    if index:
        from django.utils import timezone

        from scoring.services import index_compute

        index_compute(date_from=timezone.localdate())
    return World(
        users={
            "anonymous": None,
            "citizen": citizen,
            "receptionist": receptionist,
            "officer": officer,
            "leader": leader,
            "provincial_manager": provincial,
            "national_manager": national,
        },
        dossiers=dossiers,
        finished=finished,
        petitions=petitions,
        centres={"own": centre_a1, "other_centre": centre_a2, "other_province": centre_b1},
        procedure=procedure,
        citizens=[citizen, other_citizen, third_citizen],
    )


def _join_group(user, name):
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name=name).first()
    if group is not None:
        user.groups.add(group)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One world per test module, built once inside a transaction that is rolled back at the
    end of the module; each test runs in a savepoint inside it (the ``db`` fixture), so what
    one test changes the next does not see. Hundreds of matrix cases share one world."""
    from django.db import transaction
    from django.test import override_settings

    media = tmp_path_factory.mktemp("documents")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world(index=True)
            built.media_root = media
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def shared_world(_module_world, db, settings) -> World:
    """The module's world, for tests that only read it or change it inside their savepoint."""
    settings.MEDIA_ROOT = _module_world.media_root
    return _module_world


def login(client, user) -> None:
    """Log ``user`` into the Django test client (session), skipping the lockout backend."""
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


__all__ = ["PASSWORD", "World", "build_world", "login", "pdf_upload", "ROLES", "PLACES"]
