"""History rows cannot be changed or removed in the database, whoever asks (raw SQL here,
as psql or a careless script would); only ``history_purge()`` may delete, never update."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from dossiers.models import DossierEvent, PetitionEvent
from portal.history import history_purge

pytestmark = pytest.mark.postgres

TABLES = {
    "dossiers_dossierevent": DossierEvent,
    "dossiers_petitionevent": PetitionEvent,
}


def _raw(sql: str, params=()) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@pytest.mark.parametrize("table", sorted(TABLES))
def test_history_rows_refuse_update_and_delete(postgres, world, table):
    model = TABLES[table]
    before = list(model.objects.order_by("pk").values())
    assert before, "the world has history"
    row = before[0]["id"]

    with pytest.raises(IntegrityError, match="append-only: UPDATE refused"):
        _raw(f"UPDATE {table} SET note = 'rewritten' WHERE id = %s", [row])
    with pytest.raises(IntegrityError, match="append-only: UPDATE refused"):
        _raw(f"UPDATE {table} SET at = at - interval '1 day'")
    with pytest.raises(IntegrityError, match="append-only: DELETE refused"):
        _raw(f"DELETE FROM {table} WHERE id = %s", [row])
    with pytest.raises(IntegrityError, match="append-only: DELETE refused"):
        _raw(f"DELETE FROM {table}")

    assert list(model.objects.order_by("pk").values()) == before


def test_a_saved_event_cannot_be_edited_through_the_orm_either(postgres, world):
    event = DossierEvent.objects.first()
    event.note = "changed afterwards"
    with pytest.raises(IntegrityError), transaction.atomic():
        event.save()
    assert DossierEvent.objects.get(pk=event.pk).note != "changed afterwards"


def test_deleting_a_dossier_with_history_is_refused(postgres, world):
    """Dossier → events cascade in Django: the trigger stops the whole deletion."""
    from dossiers.models import Dossier, service_writes

    dossier = world.dossiers["own"]
    with pytest.raises(IntegrityError), transaction.atomic(), service_writes():
        Dossier.objects.filter(pk=dossier.pk).delete()
    assert Dossier.objects.filter(pk=dossier.pk).exists()


@pytest.mark.django_db(transaction=True)  # real commits: SET LOCAL must end with the purge
def test_history_purge_allows_delete_for_its_transaction_only(postgres, world):
    with pytest.raises(IntegrityError, match="UPDATE refused"), history_purge():
        _raw("UPDATE dossiers_dossierevent SET note = 'x'")

    with history_purge():
        _raw("DELETE FROM dossiers_petitionevent")
        _raw("DELETE FROM dossiers_dossierevent")
    assert not DossierEvent.objects.exists() and not PetitionEvent.objects.exists()

    # The permission ended with the purge's transaction: new history is protected again.
    from dossiers import services

    services.dossier_withdraw(dossier=world.dossiers["own"], actor=world.users["citizen"])
    with pytest.raises(IntegrityError, match="DELETE refused"):
        _raw("DELETE FROM dossiers_dossierevent")
    assert DossierEvent.objects.count() == 1


def test_the_triggers_are_installed_by_the_migration(postgres, db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgname LIKE '%%_append_only' AND NOT tgisinternal ORDER BY 1"
        )
        assert [r[0] for r in cursor.fetchall()] == sorted(TABLES)
