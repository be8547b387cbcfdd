#!/bin/sh
# Container entrypoint: bring the schema to head, then run the command (default: anjian serve).
#   ANJIAN_MIGRATE=0    skip the migration (e.g. replicas after a one-off `anjian db upgrade`)
#   ANJIAN_LOAD_DEMO=1  load the demo county into an empty database and print its accounts
set -eu

if [ "${ANJIAN_MIGRATE:-1}" = "1" ]; then
    anjian db upgrade
fi
if [ "${ANJIAN_LOAD_DEMO:-0}" = "1" ]; then
    anjian demo --if-empty --print-accounts
fi
exec "$@"
