"""Organisation (provinces, communes, service centres), users and roles, the working calendar."""

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

citizen_id_validator = RegexValidator(r"^\d{12}$", _("A citizen ID (CCCD) has exactly 12 digits."))


class Province(models.Model):
    """One of the 34 provinces and centrally-run cities (official 2-digit statistics code)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=60)
    population_share = models.DecimalField(
        _("population share (%)"), max_digits=5, decimal_places=2, default=0
    )
    area_km2 = models.PositiveIntegerField(_("area (km²)"), default=0)

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self):
        return self.short_name


class Commune(models.Model):
    """A commune (xã), ward (phường) or special zone (đặc khu), official 5-digit code."""

    class Kind(models.TextChoices):
        COMMUNE = "xa", _("commune (xã)")
        WARD = "phuong", _("ward (phường)")
        SPECIAL_ZONE = "dac_khu", _("special zone (đặc khu)")

    code = models.CharField(_("code"), max_length=5, primary_key=True)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="communes", verbose_name=_("province")
    )
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=80)
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    area_km2 = models.FloatField(_("area (km²)"), null=True, blank=True)

    class Meta:
        ordering = ["province_id", "code"]
        verbose_name = _("commune")
        verbose_name_plural = _("communes")

    def __str__(self):
        return self.name


class ServiceCenter(models.Model):
    """A public administration service centre: one per province, one per commune."""

    class Level(models.TextChoices):
        PROVINCIAL = "province", pgettext_lazy("level", "provincial")
        COMMUNE = "commune", pgettext_lazy("level", "commune")

    code = models.CharField(_("code"), max_length=8, unique=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="centers", verbose_name=_("province")
    )
    commune = models.OneToOneField(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="center",
        verbose_name=_("commune"),
    )
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["province_id", "level", "code"]
        verbose_name = _("service centre")
        verbose_name_plural = _("service centres")
        constraints = [
            models.CheckConstraint(
                condition=Q(level="province", commune__isnull=True)
                | Q(level="commune", commune__isnull=False),
                name="center_commune_matches_level",
            ),
            models.UniqueConstraint(
                fields=["province"],
                condition=Q(level="province"),
                name="one_provincial_center_per_province",
            ),
        ]

    def __str__(self):
        return self.name

    @staticmethod
    def code_for(*, province_code: str, commune_code: str | None) -> str:
        return f"C{commune_code}" if commune_code else f"P{province_code}"


class User(AbstractUser):
    """Anyone who logs in. Citizens carry a CCCD; staff and managers get their rights from
    memberships and scopes, so one person can be a citizen and an officer at once."""

    citizen_id = models.CharField(
        _("citizen ID (CCCD)"),
        max_length=12,
        unique=True,
        null=True,
        blank=True,
        validators=[citizen_id_validator],
    )
    phone = models.CharField(_("phone"), max_length=15, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def masked_citizen_id(self) -> str:
        return mask_citizen_id(self.citizen_id)


def mask_citizen_id(citizen_id: str | None) -> str:
    """Show only the last four digits of a CCCD: lists, logs and exports never need more."""
    if not citizen_id:
        return ""
    return "•" * 8 + citizen_id[-4:]


class StaffRole(models.TextChoices):
    RECEPTIONIST = "receptionist", _("receptionist")
    OFFICER = "officer", _("officer")
    LEADER = "leader", _("leader")


class StaffMembership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    center = models.ForeignKey(ServiceCenter, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=12, choices=StaffRole.choices)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "center", "role"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.center}"


class ManagerScope(models.Model):
    """A manager sees one province, or the nation when ``province`` is empty."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="manager_scope")
    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, null=True, blank=True, related_name="managers"
    )

    class Meta:
        verbose_name = _("manager scope")
        verbose_name_plural = _("manager scopes")

    def __str__(self):
        return f"{self.user} · {self.province or _('nation')}"


class CalendarOverride(models.Model):
    """An administrator's correction to the holiday library: an extra day off or a worked
    Saturday announced by the government after the library's release."""

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("extra day off")
        WORKING_DAY = "working_day", _("extra working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"


class LoginChallenge(models.Model):
    """A one-time code sent by the identity provider for one login; only its hash is kept."""

    citizen_id = models.CharField(
        _("citizen ID (CCCD)"), max_length=12, validators=[citizen_id_validator]
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("login challenge")
        verbose_name_plural = _("login challenges")
        indexes = [
            models.Index(fields=["citizen_id", "created_at"], name="challenge_citizen_recent")
        ]
