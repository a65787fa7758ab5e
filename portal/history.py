"""The one door through which history rows may be deleted.

``portal/migrations/0004_append_only_history.py`` makes ``dossiers_dossierevent`` and
``dossiers_petitionevent`` append-only on PostgreSQL. Wiping a simulated world
(``simulate --reset``) must delete them; it does so inside ``history_purge()``, which allows
DELETE (never UPDATE) for the current transaction only, so nothing else is loosened.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connections, transaction

PURGE_SETTING = "portal.allow_history_purge"


@contextmanager
def history_purge(using: str = "default"):
    """A transaction in which history rows may be deleted. Use only to wipe whole datasets.
    Inside an outer transaction the permission lasts until that outer transaction ends."""
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # SET LOCAL: ends with this transaction, even if it rolls back.
                cursor.execute(f"SET LOCAL {PURGE_SETTING} = on")
        yield
