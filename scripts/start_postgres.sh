#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on loopback for the tests and print its SQLAlchemy URL last.
# PostgreSQL refuses to run as root, so the cluster belongs to an unprivileged user.
# Needs the server binaries (Debian: apt-get install -y postgresql); exits non-zero without them.
# When it starts a server it prints "started DATA_DIR" before the URL, so the caller knows it owns the
# server and stops it afterwards with scripts/stop_postgres.sh DATA_DIR.
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL server binaries found" >&2; exit 1; }
PORT=${PAD_PG_PORT:-55432}
DATA=${PAD_PG_DATA:-/tmp/pad-pg-$PORT}
PGUSER_OS=${PAD_PG_OS_USER:-postgres}
if [ "$(id -u)" = 0 ]; then
  if ! id "$PGUSER_OS" >/dev/null 2>&1; then
    echo "creating the OS user '$PGUSER_OS' to run PostgreSQL (it refuses to run as root)" >&2
    useradd --system --create-home "$PGUSER_OS"
  fi
  AS=(runuser -u "$PGUSER_OS" --)
else
  AS=()
  PGUSER_OS=$(id -un)
fi
if ! "${AS[@]}" "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1; then
  rm -rf "$DATA"; mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$DATA"
  "${AS[@]}" "$PGBIN/initdb" -D "$DATA" -U pad --auth=trust >/dev/null
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k /tmp -c max_connections=300 -c fsync=off" start >/dev/null
  echo "started $DATA"
fi
"${AS[@]}" "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U pad -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='pad_test'" | grep -q 1 \
  || "${AS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U pad pad_test
echo "postgresql+psycopg://pad@127.0.0.1:$PORT/pad_test"
