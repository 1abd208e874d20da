#!/usr/bin/env bash
# Stop a PostgreSQL cluster that scripts/start_postgres.sh started, and remove its throwaway data.
# Usage: scripts/stop_postgres.sh DATA_DIR   (the directory start_postgres.sh printed as "started DATA_DIR")
set -euo pipefail
DATA=${1:?usage: stop_postgres.sh DATA_DIR}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -f "$DATA/PG_VERSION" ] || { echo "no PostgreSQL cluster in $DATA" >&2; exit 1; }
OWNER=$(stat -c %U "$DATA")
if [ "$(id -u)" = 0 ] && [ "$OWNER" != root ]; then AS=(runuser -u "$OWNER" --); else AS=(); fi
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
rm -rf "$DATA"
echo "stopped PostgreSQL ($DATA)"
