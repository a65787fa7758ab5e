"""Admin: read-only published snapshots ordered by rank, run history, the recompute action,
editable inputs."""

from datetime import date

import pytest
from django.urls import reverse

from scoring import services
from scoring.models import IndexRun, IndexSnapshot
from tests.factories import UserFactory
from tests.scoring.conftest import at

DAY = date(2025, 7, 11)


@pytest.fixture
def published(org, make_dossier):
    make_dossier(org.p91.communes["91001"], accepted="2025-07-08", state=4, due=at("2025-07-30"))
    return services.index_compute(date_from=DAY).run


@pytest.fixture
def superuser(client, db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_snapshot_changelist_read_only_with_filters(
    client, superuser, published, django_assert_max_num_queries
):
    url = reverse("admin:scoring_indexsnapshot_changelist")
    with django_assert_max_num_queries(12):
        response = client.get(
            url,
            {
                "date": DAY.isoformat(),
                "window": "ytd",
                "methodology": "2026",
                "unit_kind": "province",
            },
        )
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [(s.unit, s.rank) for s in rows] == [("91", 1), ("92", 2)]
    assert response.context["cl"].show_full_result_count is False
    snap = IndexSnapshot.objects.filter(run=published).first()
    change = client.get(reverse("admin:scoring_indexsnapshot_change", args=[snap.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content  # read-only
    assert client.get(reverse("admin:scoring_indexsnapshot_add")).status_code == 403


def test_run_history_and_inputs_are_listed(client, superuser, published):
    for name in (
        "indexrun",
        "indexpublication",
        "dailyfact",
        "procedurepublication",
        "onlineservice",
        "certifiedcopyservice",
    ):
        assert client.get(reverse(f"admin:scoring_{name}_changelist")).status_code == 200, name
    for name in ("procedurepublication", "onlineservice", "certifiedcopyservice"):
        assert client.get(reverse(f"admin:scoring_{name}_add")).status_code == 200, name
    assert client.get(reverse("admin:scoring_indexrun_add")).status_code == 403


def test_recompute_for_this_date_action(client, superuser, published):
    snap = IndexSnapshot.objects.filter(run=published).first()
    response = client.post(
        reverse("admin:scoring_indexsnapshot_changelist"),
        {"action": "recompute_for_date", "_selected_action": [snap.pk]},
        follow=True,
    )
    assert response.status_code == 200
    runs = IndexRun.objects.filter(status="complete").order_by("started_at")
    assert runs.count() == 2
    assert (runs.last().date_from, runs.last().date_to) == (DAY, DAY)


def test_recompute_needs_the_permission(client, published):
    staff = UserFactory(username="viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(
        Permission.objects.get(codename="view_indexsnapshot"),
        Permission.objects.get(codename="view_indexrun"),
    )
    client.force_login(staff)
    run = IndexRun.objects.get()
    response = client.post(
        reverse("admin:scoring_indexrun_changelist"),
        {"action": "recompute_for_date", "_selected_action": [run.pk]},
        follow=True,
        headers={"accept-language": "en"},
    )
    assert response.status_code == 200
    assert "You may not recompute the index." in response.content.decode()
    assert IndexRun.objects.count() == 1
