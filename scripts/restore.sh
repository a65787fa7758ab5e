#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a NEW, empty PostgreSQL database (never over
# a live one) and, optionally, its document files. Procedure: docs/operations.md.
#
#   scripts/restore.sh DUMP TARGET_DATABASE_URL [--documents DIR] [--jobs N]
#
# Checks the SHA-256 sums first, creates the target database (it must not exist), restores in
# one transaction (all or nothing), then prints the row counts of the main tables.
set -euo pipefail

usage() { echo "usage: $0 DUMP TARGET_DATABASE_URL [--documents DIR] [--jobs N]" >&2; exit 2; }
[ $# -ge 2 ] || usage
DUMP="$1"; TARGET="$2"; shift 2
DOCS=""; JOBS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --documents) [ $# -ge 2 ] || usage; DOCS="$2"; shift 2 ;;
    --jobs) [ $# -ge 2 ] || usage; JOBS="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
[ -f "$DUMP" ] || { echo "restore.sh: no such dump: $DUMP" >&2; exit 2; }
case "$TARGET" in
  postgres://*|postgresql://*) ;;
  *) echo "restore.sh: TARGET must be a postgres:// URL" >&2; exit 2 ;;
esac

BASE="${DUMP%.dump}"
if [ -f "$BASE.sha256" ]; then
  ( cd "$(dirname "$BASE")" && sha256sum --quiet --check "$(basename "$BASE").sha256" ) \
    || { echo "restore.sh: checksum mismatch, backup damaged" >&2; exit 1; }
else
  echo "restore.sh: warning: no $BASE.sha256, integrity not checked" >&2
fi

DB_NAME="${TARGET##*/}"; DB_NAME="${DB_NAME%%\?*}"
[[ "$DB_NAME" =~ ^[A-Za-z0-9_]+$ ]] || { echo "restore.sh: unexpected database name '$DB_NAME'" >&2; exit 2; }
SERVER="${TARGET%/*}/postgres"
EXISTS="$(psql --dbname="$SERVER" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")"
if [ "$EXISTS" = 1 ]; then
  echo "restore.sh: database $DB_NAME exists; restore only into a new database" >&2
  exit 2
fi
psql --dbname="$SERVER" -q -c "CREATE DATABASE \"$DB_NAME\""

if [ "$JOBS" -gt 1 ]; then
  # Parallel restore cannot be one transaction; stop at the first error instead.
  pg_restore --no-owner --no-privileges --exit-on-error --jobs="$JOBS" --dbname="$TARGET" "$DUMP"
else
  pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
    --dbname="$TARGET" "$DUMP"
fi

if [ -n "$DOCS" ]; then
  [ -f "$BASE.documents.tar.gz" ] || { echo "restore.sh: no $BASE.documents.tar.gz" >&2; exit 1; }
  mkdir -p "$DOCS"
  tar -C "$DOCS" -xzf "$BASE.documents.tar.gz"
fi

psql --dbname="$TARGET" -q -P footer=off -c "
  SELECT 'dossiers' AS rows, count(*) FROM dossiers_dossier
  UNION ALL SELECT 'dossier events', count(*) FROM dossiers_dossierevent
  UNION ALL SELECT 'petitions', count(*) FROM dossiers_petition
  UNION ALL SELECT 'documents', count(*) FROM dossiers_document
  UNION ALL SELECT 'index snapshots', count(*) FROM scoring_indexsnapshot
  UNION ALL SELECT 'migrations', count(*) FROM django_migrations"
echo "restored into $DB_NAME"
