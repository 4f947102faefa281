#!/bin/sh
# The image's `ledger` command: reads secrets from mounted files, then runs the ledger.
#
# LEDGER_DATABASE_URL_FILE names a file holding the database URL (with its password), e.g. a
# Compose secret at /run/secrets/database_url; the URL then reaches the ledger as
# LEDGER_DATABASE_URL without ever being written into the image or the container's
# configuration. Installed as /usr/local/bin/ledger, so `docker compose exec api-1 ledger ...`
# reads the same file.
set -eu
if [ -n "${LEDGER_DATABASE_URL_FILE:-}" ]; then
    if [ ! -r "$LEDGER_DATABASE_URL_FILE" ]; then
        echo "error: LEDGER_DATABASE_URL_FILE names a file that cannot be read" >&2
        exit 1
    fi
    LEDGER_DATABASE_URL="$(cat "$LEDGER_DATABASE_URL_FILE")"
    export LEDGER_DATABASE_URL
    unset LEDGER_DATABASE_URL_FILE
fi
exec /opt/ledger/bin/ledger "$@"
