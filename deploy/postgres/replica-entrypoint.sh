#!/bin/bash
# A hot standby of $PRIMARY_HOST (docker-compose.yml, postgres-replica): on the first start the data
# directory is cloned with pg_basebackup -R (which writes standby.signal and primary_conninfo), then
# the image's own entrypoint runs PostgreSQL as usual; later starts resume streaming from where it was.
set -euo pipefail
: "${PRIMARY_HOST:?}" "${REPLICATION_USER:?}" "${PGPASSWORD:?}"
data="${PGDATA:-/var/lib/postgresql/data}"
if [ ! -s "$data/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -U "$REPLICATION_USER" -q; do sleep 1; done
  mkdir -p "$data" && chown postgres:postgres "$data" && chmod 700 "$data"
  gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U "$REPLICATION_USER" -D "$data" \
    --wal-method=stream --write-recovery-conf --checkpoint=fast --progress
fi
exec docker-entrypoint.sh postgres -c hot_standby=on -c hot_standby_feedback=on
