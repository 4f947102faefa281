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
set -eu

dir="${1:-${LEDGER_BUNDLE_DIR:-./bundles}}"
keep="${LEDGER_BUNDLE_KEEP:-7}"
ledger="${LEDGER_BIN:-ledger}"
trust="${LEDGER_KEYS_DIR:-./keys}/trust-root.json"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
partial="$dir/.bundle-$stamp.partial"
final="$dir/bundle-$stamp"

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
