"""Shared factory_boy factories. Add yours below the others' (additive edits only).

Organisation factories use codes that cannot clash with the real reference data
(provinces 9x, communes 9xxxx), so tests may load both."""

from __future__ import annotations

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
        from django.contrib.auth.models import Group

        user = super()._create(model_class, *args, **kwargs)
        groups = {"receptionist": "Receptionists", "officer": "Officers", "leader": "Leaders"}
        for role in roles if center is not None else ():
            StaffMembership.objects.get_or_create(user=user, center=center, role=role)
            group = Group.objects.filter(name=groups[role]).first()
            if group is not None:
                user.groups.add(group)
        return user


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
