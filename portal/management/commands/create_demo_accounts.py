import secrets

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.models import ManagerScope, ServiceCenter, StaffMembership, StaffRole, User

# username → (full name, CCCD, staff centre code and roles, manager province code or "" for nation)
DEMO_ACCOUNTS = {
    "citizen": ("Nguyễn Văn An", "042095001234", None, None),
    "staff-hatinh": (
        "Trần Thị Bình",
        None,
        ("P42", [StaffRole.RECEPTIONIST, StaffRole.OFFICER]),
        None,
    ),
    "staff-thanhsen": (
        "Lê Văn Cường",
        None,
        ("C18073", [StaffRole.RECEPTIONIST, StaffRole.OFFICER]),
        None,
    ),
    "manager-hatinh": ("Phạm Thị Dung", None, None, "42"),
    "manager-national": ("Hoàng Văn Em", None, None, ""),
}
ROLE_GROUPS = {
    StaffRole.RECEPTIONIST: "Receptionists",
    StaffRole.OFFICER: "Officers",
    StaffRole.LEADER: "Leaders",
}


class Command(BaseCommand):
    help = "Create (or reset) the demo accounts with fresh random passwords, printed at the end."

    @transaction.atomic
    def handle(self, *args, **options):
        if not ServiceCenter.objects.exists():
            raise CommandError("no service centres: run load_reference_data first")
        lines = []
        for username, (full_name, citizen_id, staff, province) in DEMO_ACCOUNTS.items():
            first, _, last = full_name.rpartition(" ")
            user, _ = User.objects.get_or_create(username=username)
            user.last_name, user.first_name = first, last
            user.citizen_id = citizen_id
            user.email = f"{username}@demo.example.vn"
            user.is_staff = bool(staff) or province is not None
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save()
            user.groups.clear()
            if citizen_id:
                user.groups.add(Group.objects.get(name="Citizens"))
            if staff:
                center = ServiceCenter.objects.get(code=staff[0])
                for role in staff[1]:
                    StaffMembership.objects.get_or_create(user=user, center=center, role=role)
                    user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
            if province is not None:
                ManagerScope.objects.update_or_create(
                    user=user, defaults={"province_id": province or None}
                )
                user.groups.add(Group.objects.get(name="Managers"))
            lines.append(f"  {username:<18} {password}")
        self.stdout.write("Demo accounts (username, password):\n" + "\n".join(lines))
