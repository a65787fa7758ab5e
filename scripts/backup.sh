#!/usr/bin/env bash
# Back up the portal: the PostgreSQL database (pg_dump custom format) and the citizens'
# document files, with SHA-256 checksums. Procedure and restore drill: docs/operations.md.
#
#   scripts/backup.sh [--database-url URL] [--documents DIR] [--no-documents] [OUTPUT_DIR]
#
# URL defaults to $DATABASE_URL, DIR to $DOCUMENT_ROOT or var/documents, OUTPUT_DIR to
# var/backups. Prints the path of the dump on the last line. Exit 2 on bad usage.
set -euo pipefail

usage() { echo "usage: $0 [--database-url URL] [--documents DIR] [--no-documents] [OUTPUT_DIR]" >&2; exit 2; }

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
URL="${DATABASE_URL:-}"
DOCS="${DOCUMENT_ROOT:-$ROOT/var/documents}"
WITH_DOCS=1
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --database-url) [ $# -ge 2 ] || usage; URL="$2"; shift 2 ;;
    --documents) [ $# -ge 2 ] || usage; DOCS="$2"; shift 2 ;;
    --no-documents) WITH_DOCS=0; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) [ -z "$OUT" ] || usage; OUT="$1"; shift ;;
  esac
done
OUT="${OUT:-$ROOT/var/backups}"
case "$URL" in
  postgres://*|postgresql://*) ;;
  *) echo "backup.sh: a PostgreSQL DATABASE_URL is required (got '${URL:-nothing}')" >&2; exit 2 ;;
esac
# django-environ accepts postgres://; libpq wants postgresql:// or postgres:// (both fine).
DB_NAME="${URL##*/}"; DB_NAME="${DB_NAME%%\?*}"
[[ "$DB_NAME" =~ ^[A-Za-z0-9_]+$ ]] || { echo "backup.sh: unexpected database name '$DB_NAME'" >&2; exit 2; }
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
BASE="$OUT/portal-$DB_NAME-$STAMP"

# -Fc: compressed, restorable table by table, in parallel (pg_restore -j). A dump is one
# consistent snapshot (a single repeatable-read transaction), taken while the portal runs.
pg_dump --format=custom --compress=6 --no-owner --no-privileges \
  --file="$BASE.dump.partial" --dbname="$URL"
mv "$BASE.dump.partial" "$BASE.dump"
pg_restore --list "$BASE.dump" > /dev/null  # the archive is readable end to end

if [ "$WITH_DOCS" = 1 ] && [ -d "$DOCS" ]; then
  tar -C "$DOCS" -czf "$BASE.documents.tar.gz" .
fi
( cd "$OUT" && sha256sum "$(basename "$BASE")".* > "$(basename "$BASE").sha256" )
echo "$BASE.dump"
