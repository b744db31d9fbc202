#!/usr/bin/env bash
# Install a real PostgreSQL server from Debian packages, start it, create the test role and
# database, and print the SQLAlchemy URL on stdout (every other line goes to stderr):
#
#   TEST_DATABASE_URL="$(bash .ci/postgres.sh)" pytest -q
#
# Idempotent: safe to run again when the server is installed, running, or the role and the
# database exist. Needs root (or sudo) for apt-get and to act as the `postgres` user.
set -euo pipefail

DB_USER="${PGTEST_USER:-magbot}"
DB_PASSWORD="${PGTEST_PASSWORD:-magbot}"
DB_NAME="${PGTEST_DB:-magbot_test}"
CLUSTER="main"

log() { echo "postgres.sh: $*" >&2; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
    as_postgres() { runuser -u postgres -- "$@"; }
else
    SUDO=(sudo)
    as_postgres() { sudo -u postgres -- "$@"; }
fi

server_installed() { compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; }

if ! server_installed || ! command -v pg_ctlcluster >/dev/null; then
    log "installing PostgreSQL from Debian packages"
    "${SUDO[@]}" apt-get update >&2
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y --no-install-recommends \
        postgresql postgresql-contrib >&2
fi

VERSION="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)"
log "PostgreSQL $VERSION"

# The Debian package creates the cluster on a normal install; a minimal image may lack it.
if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c' | grep -q .; then
    log "creating cluster $VERSION/$CLUSTER"
    "${SUDO[@]}" pg_createcluster "$VERSION" "$CLUSTER" --port 5432 >&2
fi

PORT="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $3}')"
STATUS="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $4}')"
if [ "$STATUS" != "online" ]; then
    log "starting cluster $VERSION/$CLUSTER on port $PORT"
    "${SUDO[@]}" pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$PORT"; then
        break
    fi
    sleep 0.5
done
pg_isready -h 127.0.0.1 -p "$PORT" >&2

psql_admin() { as_postgres psql -p "$PORT" -v ON_ERROR_STOP=1 -qtAX "$@"; }

# CREATEDB: the schema-drift test migrates a fresh, empty database and drops it afterwards.
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != "1" ]; then
    log "creating role $DB_USER"
    psql_admin -c "CREATE ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
else
    psql_admin -c "ALTER ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]; then
    log "creating database $DB_NAME"
    psql_admin -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\""
fi

echo "postgresql+asyncpg://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"
