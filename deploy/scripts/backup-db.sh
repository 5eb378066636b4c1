#!/usr/bin/env bash
# Backs up the PostgreSQL database at DATABASE_URL (docs/backup-restore.md).
#
#   DATABASE_URL=postgres://... BACKUP_DIR=/var/backups/plant-texts deploy/scripts/backup-db.sh
#
# Writes BACKUP_DIR/plant-texts-<UTC time>.dump.gz (pg_dump's custom format, gzipped), checks
# that it reads back, deletes backups older than BACKUP_RETENTION_DAYS, uploads the new one to
# BACKUP_S3_URI when set (aws CLI), and prints the new file's path as its last line. Any failure
# exits non-zero and leaves no partial file behind.
#
#   BACKUP_DIR             where backups go (default: ./backups)
#   BACKUP_RETENTION_DAYS  older backups are deleted (default: 14; 0 keeps every one)
#   BACKUP_S3_URI          optional, e.g. s3://bucket/plant-texts/
set -euo pipefail

fail() { echo "backup-db: $*" >&2; exit 1; }

[[ -n "${DATABASE_URL:-}" ]] || fail "DATABASE_URL is not set"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) fail "DATABASE_URL must be a PostgreSQL URL (for SQLite use: cargo xtask db backup --out FILE)" ;;
esac
backup_dir="${BACKUP_DIR:-./backups}"
retention_days="${BACKUP_RETENTION_DAYS:-14}"
[[ "$retention_days" =~ ^[0-9]+$ ]] || fail "BACKUP_RETENTION_DAYS must be a whole number of days"
for tool in pg_dump pg_restore gzip; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

mkdir -p "$backup_dir"
name="plant-texts-$(date -u +%Y%m%dT%H%M%SZ).dump.gz"
target="$backup_dir/$name"
[[ ! -e "$target" ]] || fail "$target exists already"
partial="$(mktemp "$backup_dir/.partial-XXXXXX")"
trap 'rm -f "$partial"' EXIT

echo "backup-db: dumping the database" >&2
pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" | gzip -c >"$partial" \
  || fail "pg_dump failed"

# A backup that does not read back is no backup.
gzip -t "$partial" || fail "the compressed file does not verify"
gzip -dc "$partial" | pg_restore --list >/dev/null || fail "the dump does not read back"

chmod 600 "$partial"
mv "$partial" "$target"
trap - EXIT

if (( retention_days > 0 )); then
  find "$backup_dir" -maxdepth 1 -type f -name 'plant-texts-*.dump.gz' -mtime "+$retention_days" \
    -print -delete | sed 's/^/backup-db: deleted old backup /' >&2
fi

if [[ -n "${BACKUP_S3_URI:-}" ]]; then
  command -v aws >/dev/null || fail "BACKUP_S3_URI is set but the aws CLI is not installed"
  aws s3 cp --only-show-errors "$target" "${BACKUP_S3_URI%/}/$name" || fail "the upload to S3 failed"
  echo "backup-db: uploaded to ${BACKUP_S3_URI%/}/$name" >&2
fi

echo "$target"
