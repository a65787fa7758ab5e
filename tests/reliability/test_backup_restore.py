"""Backup and restore drill (docs/operations.md): dump the database with scripts/backup.sh,
restore it with scripts/restore.sh into a fresh database, and find everything again — every
table's rows (count and checksum of the rows' text), every sequence position, the history
triggers, and the document files."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from dossiers.models import Document, DossierEvent, PetitionEvent
from scoring.models import IndexSnapshot
from tests.conftest import ROOT
from tests.reliability.conftest import build_world
from tests.reliability.figures import save_figures

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCRIPTS = ROOT / "scripts"


def database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{db.get('USER') or 'postgres'}@{host}:{db.get('PORT') or 5432}/{name}"


def table_fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an MD5 of all rows' text (sorted) for every table in the public schema."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        result = {}
        for table in tables:
            count, digest = conn.execute(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f' FROM "{table}" t'
            ).fetchone()
            result[table] = (count, digest)
        return result


def sequence_positions(url: str) -> dict[str, int | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        return dict(
            conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
        )


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs
    )
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def drop_database(name: str) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_restored_backup_holds_the_same_dossiers_histories_and_snapshots(postgres, tmp_path):
    from scoring.services import index_compute

    build_world()
    summary = index_compute(date_from=timezone.localdate())
    assert summary.run is not None and summary.snapshot_rows > 0
    assert DossierEvent.objects.count() > 10 and PetitionEvent.objects.exists()
    assert IndexSnapshot.objects.exists() and Document.objects.count() >= 6

    source = database_url(connection.settings_dict["NAME"])
    target_name = f"{connection.settings_dict['NAME']}_restored"
    drop_database(target_name)
    backups, restored_documents = tmp_path / "backups", tmp_path / "restored-documents"
    try:
        dump = (
            run(
                SCRIPTS / "backup.sh",
                "--database-url",
                source,
                "--documents",
                settings.MEDIA_ROOT,
                backups,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        assert Path(dump).is_file() and Path(dump).stat().st_size > 0
        report = run(
            SCRIPTS / "restore.sh",
            dump,
            database_url(target_name),
            "--documents",
            restored_documents,
        ).stdout
        assert "restored into" in report

        before, after = table_fingerprints(source), table_fingerprints(database_url(target_name))
        differing = {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
        sequences = sequence_positions(source), sequence_positions(database_url(target_name))
        documents = list(Document.objects.all())
        damaged = [d.file.name for d in documents if not restored_intact(d, restored_documents)]
        save_figures(
            "backup-restore",
            {
                "tables": len(before),
                "rows": sum(count for count, _ in before.values()),
                "tables_differing": sorted(differing),
                "extra_tables": sorted(after.keys() - before.keys()),
                "sequences": len(sequences[0]),
                "sequences_differing": sequences[0] != sequences[1],
                "documents": len(documents),
                "documents_damaged": damaged,
            },
        )
        assert before.keys() == after.keys()
        assert differing == {}
        for table in (
            "dossiers_dossier",
            "dossiers_dossierevent",
            "dossiers_petitionevent",
            "dossiers_document",
            "scoring_indexsnapshot",
        ):
            assert after[table][0] > 0, f"{table} restored empty"
        # New rows continue the numbering instead of colliding with restored ones.
        assert sequences[0] == sequences[1]

        # The restored database still refuses to rewrite history.
        with psycopg.connect(database_url(target_name)) as conn:
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
                conn.execute("UPDATE dossiers_dossierevent SET note = 'rewritten'")
            conn.rollback()

        # Every document file is back, byte for byte.
        assert damaged == []
    finally:
        drop_database(target_name)


def restored_intact(document, restored_documents: Path) -> bool:
    restored = restored_documents / document.file.name
    return (
        restored.is_file() and hashlib.sha256(restored.read_bytes()).hexdigest() == document.sha256
    )


def test_restore_refuses_an_existing_database_and_a_damaged_dump(postgres, tmp_path):
    build_world()
    source_name = connection.settings_dict["NAME"]
    dump = run(
        SCRIPTS / "backup.sh",
        "--database-url",
        database_url(source_name),
        "--no-documents",
        tmp_path,
    ).stdout.strip()
    existing = subprocess.run(
        [SCRIPTS / "restore.sh", dump, database_url(source_name)], capture_output=True, text=True
    )
    assert existing.returncode == 2 and "exists" in existing.stderr

    with open(dump, "r+b") as fh:  # one flipped byte in the middle of the archive
        fh.seek(Path(dump).stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    target = f"{source_name}_damaged"
    drop_database(target)
    damaged = subprocess.run(
        [SCRIPTS / "restore.sh", dump, database_url(target)], capture_output=True, text=True
    )
    assert damaged.returncode == 1 and "checksum mismatch" in damaged.stderr
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        assert not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target]).fetchone()


def test_backup_without_a_postgres_url_is_a_usage_error(tmp_path):
    result = subprocess.run(
        [SCRIPTS / "backup.sh", "--database-url", "sqlite:///x.db", tmp_path],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "PostgreSQL DATABASE_URL is required" in result.stderr
