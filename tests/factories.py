"""Shared factory_boy factories. Add yours below the others' (additive edits only).

Organisation factories use codes that cannot clash with the real reference data
(provinces 9x, communes 9xxxx), so tests may load both."""

from __future__ import annotations

import functools
from datetime import date

import factory
from factory.django import DjangoModelFactory

from dossiers.models import Field, OnlineLevel, Procedure, ProcedureVersion, TimeUnit
from portal.models import Commune, Province, ServiceCenter, StaffMembership, User

PASSWORD = "pass-Word-1234"


# --- Organisation and people (dossiers helper) -----------------------------------------------
class ProvinceFactory(DjangoModelFactory):
    class Meta:
        model = Province
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{90 + n % 10}")
    name = factory.LazyAttribute(lambda o: f"Tỉnh Thử nghiệm {o.code}")
    short_name = factory.LazyAttribute(lambda o: f"Thử nghiệm {o.code}")


class CommuneFactory(DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{90000 + n}")
    province = factory.SubFactory(ProvinceFactory)
    name = factory.LazyAttribute(lambda o: f"Xã Thử nghiệm {o.code}")
    short_name = factory.LazyAttribute(lambda o: f"Thử nghiệm {o.code}")
    kind = Commune.Kind.COMMUNE


class CommuneCenterFactory(DjangoModelFactory):
    """The public administration service centre of a (new) commune."""

    class Meta:
        model = ServiceCenter
        django_get_or_create = ("code",)

    commune = factory.SubFactory(CommuneFactory)
    province = factory.LazyAttribute(lambda o: o.commune.province)
    code = factory.LazyAttribute(lambda o: f"C{o.commune.code}")
    level = ServiceCenter.Level.COMMUNE
    name = factory.LazyAttribute(lambda o: f"Trung tâm Phục vụ hành chính công {o.commune.name}")


class ProvincialCenterFactory(DjangoModelFactory):
    class Meta:
        model = ServiceCenter
        django_get_or_create = ("code",)

    province = factory.SubFactory(ProvinceFactory)
    code = factory.LazyAttribute(lambda o: f"P{o.province.code}")
    level = ServiceCenter.Level.PROVINCIAL
    commune = None
    name = factory.LazyAttribute(lambda o: f"Trung tâm Phục vụ hành chính công {o.province.name}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "An"
    last_name = "Nguyễn Văn"
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.vn")
    password = factory.django.Password(PASSWORD)


class CitizenFactory(UserFactory):
    username = factory.Sequence(lambda n: f"citizen{n}")
    citizen_id = factory.Sequence(lambda n: f"0420950{n:05d}")


class StaffFactory(UserFactory):
    """A staff member: ``StaffFactory(center=c, roles=["receptionist", "officer"])``. Adds the
    matching permission groups so the admin lets them in."""

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True

    @classmethod
    def _create(cls, model_class, *args, center=None, roles=("receptionist",), **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        for role in roles if center is not None else ():
            StaffMembership.objects.get_or_create(user=user, center=center, role=role)
            user.groups.add(role_group(ROLE_GROUPS[role]))
        return user


ROLE_GROUPS = {"receptionist": "Receptionists", "officer": "Officers", "leader": "Leaders"}


def role_group(name: str):
    """The permission group ``name`` as migration portal/0002 defines it. Recreated when a
    transactional test's flush has removed the migration's rows."""
    import importlib

    from django.contrib.auth.models import Group, Permission

    group, created = Group.objects.get_or_create(name=name)
    if created:
        codes = importlib.import_module("portal.migrations.0002_role_groups").GROUPS[name]
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


# --- Procedure catalogue (dossiers helper) -----------------------------------------------------
class FieldFactory(DjangoModelFactory):
    class Meta:
        model = Field
        django_get_or_create = ("code",)

    code = "ho-tich-thu"
    name = "Hộ tịch (thử)"


class ProcedureFactory(DjangoModelFactory):
    class Meta:
        model = Procedure
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"9.{n:06d}")
    name_vi = "Thủ tục đăng ký khai sinh (thử)"
    name_en = "Birth registration (test)"
    search_name = factory.LazyAttribute(lambda o: f"{o.code} thu tuc dang ky khai sinh")
    level = "commune"
    field = factory.SubFactory(FieldFactory)
    required_documents = factory.LazyFunction(
        lambda: ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]
    )


class ProcedureVersionFactory(DjangoModelFactory):
    class Meta:
        model = ProcedureVersion

    procedure = factory.SubFactory(ProcedureFactory)
    valid_from = date(2025, 7, 1)
    limit_amount = 3
    limit_unit = TimeUnit.WORKING_DAYS
    online_limit_amount = None
    fee_vnd = 0
    online_level = OnlineLevel.FULL


# --- Published index snapshots (scoring pages helper) ------------------------------------------
def index_counts(seed: int) -> dict[str, tuple[int, int]]:
    """Plausible, varied raw counts for every indicator of the methodology (deterministic in
    ``seed``): shares between about 55 % and 100 %, denominators in the hundreds."""
    from scoring import methodology as M

    counts = {}
    for n, code in enumerate(M.METHODOLOGIES["2026"].codes):
        denominator = 80 + (seed * 37 + n * 53) % 400
        share = 55 + (seed * 13 + n * 29) % 46  # 55..100 %
        counts[code] = (denominator * share // 100, denominator)
    return counts


@functools.lru_cache(maxsize=4096)
def _evaluate(version: str, counts: tuple):
    from scoring import methodology as M

    return M.evaluate(version, dict(counts))


def index_publish(
    *,
    on: date,
    units: dict[str, dict[str, tuple[int, int]]],
    windows=("month", "quarter", "ytd"),
    methodologies=("2026", "2025-07"),
):
    """Write a complete, published run for ``on``: one snapshot per unit, window and
    methodology scored by ``scoring.methodology.evaluate`` from the given counts, ranked like
    the scoring engine ranks (provinces nation-wide, centres within their province)."""
    from django.utils import timezone

    from scoring import methodology as M
    from scoring.models import IndexPublication, IndexRun, IndexSnapshot, UnitKind
    from scoring.snapshots import window_start

    now = timezone.now()
    run = IndexRun.objects.create(
        kind=IndexRun.Kind.RECOMPUTE,
        date_from=on,
        date_to=on,
        status=IndexRun.Status.COMPLETE,
        methodologies=list(methodologies),
        windows=list(windows),
        started_at=now,
        heartbeat_at=now,
        finished_at=now,
    )
    centers = {c.code: c for c in ServiceCenter.objects.filter(code__in=list(units))}
    provinces = {p.code: p for p in Province.objects.filter(code__in=list(units))}
    rows = []
    for version in methodologies:
        scored = {
            key: _evaluate(version, tuple(sorted(counts.items()))) for key, counts in units.items()
        }
        scopes: dict[str, list[str]] = {}
        for key in units:
            scope = "nation" if key in provinces else centers[key].province_id
            scopes.setdefault(scope, []).append(key)
        ranks, group_ranks, rank_of = {}, {}, {}
        for members in scopes.values():
            ranks |= M.competition_ranks({k: scored[k].total for k in members})
            rank_of |= dict.fromkeys(members, len(members))
            for column in M.get(version).columns:
                by_column = M.competition_ranks({k: scored[k].groups[column.key] for k in members})
                for key, rank in by_column.items():
                    group_ranks.setdefault(key, {})[column.key] = rank
        for window in windows:
            for key, result in scored.items():
                center = centers.get(key)
                if center is None:
                    kind, province_id, name = UnitKind.PROVINCE, key, provinces[key].name
                elif center.level == ServiceCenter.Level.PROVINCIAL:
                    kind, province_id, name = (
                        UnitKind.PROVINCIAL_CENTER,
                        center.province_id,
                        center.name,
                    )
                else:
                    kind, province_id, name = UnitKind.COMMUNE, center.province_id, center.name
                rows.append(
                    IndexSnapshot(
                        run=run,
                        date=on,
                        window=window,
                        window_from=window_start(window, on),
                        methodology=version,
                        unit=key,
                        unit_kind=kind,
                        province_id=province_id,
                        center=center,
                        name=name,
                        total=result.total,
                        groups={k: float(v) for k, v in result.groups.items()},
                        counts=M.stored_counts(version, units[key]),
                        rank=ranks[key],
                        rank_of=rank_of[key],
                        group_ranks=group_ranks[key],
                    )
                )
    IndexSnapshot.objects.bulk_create(rows)
    IndexPublication.objects.update_or_create(date=on, defaults={"run": run, "published_at": now})
    return run


def reference_subset(*, communes: dict[str, int | None]):
    """The 34 real provinces with their provincial centres, and the communes (with their
    centres) of some provinces: ``{"42": None}`` = all of Hà Tĩnh's, ``{"01": 3}`` = the first
    three of Hà Nội. A fast stand-in for the full reference data (3,355 centres)."""
    import json
    from pathlib import Path

    data = json.loads(
        (Path(__file__).resolve().parent.parent / "portal/fixtures/units.json").read_text()
    )
    Province.objects.bulk_create(
        [
            Province(
                code=p["code"],
                name=p["name"],
                short_name=p["short_name"],
                population_share=p["population_share"],
                area_km2=p["area_km2"],
            )
            for p in data["provinces"]
        ],
        ignore_conflicts=True,
    )
    names = {p["code"]: p["name"] for p in data["provinces"]}
    centers = [
        ServiceCenter(
            code=f"P{code}",
            level=ServiceCenter.Level.PROVINCIAL,
            province_id=code,
            name=f"Trung tâm Phục vụ hành chính công {names[code]}",
        )
        for code in names
    ]
    chosen = []
    for code, limit in communes.items():
        rows = [c for c in data["communes"] if c["province"] == code]
        chosen += rows[:limit] if limit else rows
    Commune.objects.bulk_create(
        [
            Commune(
                code=c["code"],
                province_id=c["province"],
                name=c["name"],
                short_name=c["short_name"],
                kind=c["kind"],
            )
            for c in chosen
        ],
        ignore_conflicts=True,
    )
    centers += [
        ServiceCenter(
            code=f"C{c['code']}",
            level=ServiceCenter.Level.COMMUNE,
            province_id=c["province"],
            commune_id=c["code"],
            name=f"Trung tâm Phục vụ hành chính công {c['name']}",
        )
        for c in chosen
    ]
    ServiceCenter.objects.bulk_create(centers, ignore_conflicts=True)
    return data
