import pytest
from django.core.management import call_command

from portal.models import User


@pytest.mark.django_db
def test_demo_accounts_get_roles_and_random_passwords(reference_data, capsys):
    call_command("create_demo_accounts")
    first = capsys.readouterr().out
    call_command("create_demo_accounts")
    second = capsys.readouterr().out
    assert first != second  # fresh random passwords each time
    staff = User.objects.get(username="staff-hatinh")
    assert set(staff.memberships.values_list("role", flat=True)) == {"receptionist", "officer"}
    assert staff.memberships.get(role="officer").center.code == "P42"
    assert User.objects.get(username="manager-national").manager_scope.province is None
    assert User.objects.get(username="manager-hatinh").manager_scope.province_id == "42"
    assert User.objects.get(username="citizen").citizen_id == "042095001234"
    password = second.split("citizen")[1].split()[0]
    assert User.objects.get(username="citizen").check_password(password)
