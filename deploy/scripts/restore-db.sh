#!/usr/bin/env bash
# Restores a backup made by backup-db.sh into the PostgreSQL database at DATABASE_URL
# (docs/backup-restore.md). Whatever that database holds is replaced.
#
#   restore-db.sh                 lists the backups in BACKUP_DIR (default ./backups)
#   restore-db.sh [--yes] FILE    validates FILE, asks for confirmation (unless --yes), restores
#
# The restore runs in one transaction: a file that fails halfway leaves the database as it was.
set -euo pipefail

fail() { echo "restore-db: $*" >&2; exit 1; }

assume_yes=false
file=""
for argument in "$@"; do
  case "$argument" in
    --yes | -y) assume_yes=true ;;
    -*) fail "unknown option $argument (usage: restore-db.sh [--yes] FILE)" ;;
    *) [[ -z "$file" ]] || fail "one FILE only (usage: restore-db.sh [--yes] FILE)"; file="$argument" ;;
  esac
done

if [[ -z "$file" ]]; then
  backup_dir="${BACKUP_DIR:-./backups}"
  echo "usage: restore-db.sh [--yes] FILE" >&2
  echo "backups in $backup_dir, newest first:" >&2
  ls -1t "$backup_dir"/plant-texts-*.dump.gz 2>/dev/null || echo "  (none)" >&2
  exit 2
fi

[[ -n "${DATABASE_URL:-}" ]] || fail "DATABASE_URL is not set"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) fail "DATABASE_URL must be a PostgreSQL URL (for SQLite use: cargo xtask db restore --from FILE)" ;;
esac
for tool in pg_restore gzip; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

[[ -f "$file" ]] || fail "$file does not exist"
gzip -t "$file" 2>/dev/null || fail "$file is not a valid backup: it is not a complete gzip file (truncated or corrupt?)"
gzip -dc "$file" | pg_restore --list >/dev/null 2>&1 \
  || fail "$file is not a valid backup: pg_restore cannot read the dump inside"

# The target without its password, for the question.
target="$(printf '%s' "$DATABASE_URL" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')"
if [[ "$assume_yes" != true ]]; then
  [[ -t 0 ]] || fail "refusing to restore without confirmation: run in a terminal or pass --yes"
  read -r -p "Replace everything in $target with $file? Type 'restore' to go on: " answer
  [[ "$answer" == "restore" ]] || fail "not confirmed; nothing was changed"
fi

echo "restore-db: restoring $file into $target" >&2
gzip -dc "$file" | pg_restore --clean --if-exists --no-owner --no-privileges \
  --single-transaction --exit-on-error --dbname="$DATABASE_URL" \
  || fail "the restore failed; the database was left as it was"
echo "restore-db: done" >&2
