#!/bin/sh
# Writes a dated auditor bundle of the whole history, audits it, and keeps the newest few.
#
#     backup-bundle.sh [FOLDER]
#
# FOLDER defaults to $LEDGER_BUNDLE_DIR (else ./bundles). The ledger's own LEDGER_* settings
# say which database to read. A bundle only becomes bundle-<time> once `ledger audit` has
# passed on it; its audit report is kept beside it. LEDGER_BUNDLE_KEEP (default 7) bundles are
# kept, older ones removed. LEDGER_BIN names the ledger command (default: `ledger`). The audit
# is pinned to the ledger's own trust root, kept with its keys (LEDGER_KEYS_DIR/trust-root.json).
#
# With LEDGER_DATA_KEYS_DIR set, the data keys are backed up too, into that folder (keep it apart
# from the keys folder, and preferably apart from the bundles handed to auditors): a dated
# data-keys-<time>.backup from `ledger keys backup-data-keys`, every data key still held, wrapped
# under the key-encryption key, so that a restore from the bundle also brings back the personal
# data (deploy/restore.md). The newest LEDGER_BUNDLE_KEEP backups are kept there.
set -eu

dir="${1:-${LEDGER_BUNDLE_DIR:-./bundles}}"
keep="${LEDGER_BUNDLE_KEEP:-7}"
ledger="${LEDGER_BIN:-ledger}"
trust="${LEDGER_KEYS_DIR:-./keys}/trust-root.json"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
partial="$dir/.bundle-$stamp.partial"
final="$dir/bundle-$stamp"
data_keys="${LEDGER_DATA_KEYS_DIR:-}"

case "$keep" in
    '' | *[!0-9]* | 0)
        echo "error: LEDGER_BUNDLE_KEEP must be a whole number of at least 1" >&2
        exit 2
        ;;
esac

mkdir -p "$dir"
rm -rf "$partial"
"$ledger" export "$partial" >/dev/null
if ! "$ledger" audit "$partial" --trust "$trust" > "$partial.audit.txt" 2>&1; then
    echo "error: the new bundle did not pass the audit; see $partial.audit.txt" >&2
    exit 1
fi
mv "$partial" "$final"
mv "$partial.audit.txt" "$final.audit.txt"
echo "wrote and audited $final"

# Keep the newest $keep bundles (names sort by time).
count=0
for old in $(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'bundle-*' | sort -r); do
    count=$((count + 1))
    if [ "$count" -gt "$keep" ]; then
        rm -rf "$old" "$old.audit.txt"
    fi
done

if [ -n "$data_keys" ]; then
    mkdir -p "$data_keys"
    chmod 700 "$data_keys"
    # Written to a temporary name and renamed by the ledger itself, mode 0600.
    "$ledger" keys backup-data-keys --out "$data_keys/data-keys-$stamp.backup" >/dev/null
    echo "wrote $data_keys/data-keys-$stamp.backup"
    count=0
    for old in $(find "$data_keys" -mindepth 1 -maxdepth 1 -type f -name 'data-keys-*.backup' | sort -r); do
        count=$((count + 1))
        if [ "$count" -gt "$keep" ]; then
            rm -f "$old"
        fi
    done
fi
