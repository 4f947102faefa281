"""The key ring a running ledger uses, derived from the key-history records in its own log.

A new ledger writes its genesis (the key folder's first keys) as its first record. From then on
`keyring.json` in the key folder is only a view that this module rewrites: rotation and
compromise marks are appended to the log first, and every process re-derives its key ring from
the records when the view changes. A key added to `keyring.json` by hand is never trusted.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from ledger.domain.actors import Actor, Role
from ledger.domain.errors import Conflict
from ledger.domain.key_history import (
    KEYRING_ID,
    KeyCompromised,
    KeyHistory,
    KeyIntroduced,
    KeyRetired,
    KeyringGenesis,
)
from ledger.integrity.errors import KeyringError
from ledger.integrity.key_history import KeyHistory as History
from ledger.integrity.key_history import compare, derive
from ledger.integrity.keyring import (
    KeyDirectory,
    Keyring,
    Purpose,
    format_time,
    new_key,
)
from ledger.integrity.record import open_record
from ledger.integrity.trust_root import TrustRoot

log = logging.getLogger("ledger.keys")

KEY_MANAGER = Actor("key-manager", Role.ADMIN)
TRUST_ROOT_FILE = "trust-root.json"


def read_history(app: Any, origin: str) -> History:
    """Derive the key history from the key-ring stream's stored records (signatures checked)."""
    rows = app.recorder.select_events(KEYRING_ID)
    records = []
    for index, row in enumerate(rows):
        signed = open_record(bytes(row.state), str(KEYRING_ID), int(row.originator_version))
        records.append((index, signed))
    return derive(origin, records)


def has_history(app: Any) -> bool:
    return bool(list(app.recorder.select_events(KEYRING_ID, limit=1)))


def holds_other_records(app: Any) -> bool:
    """Whether the log holds any record besides the key history."""
    for notification in app.recorder.select_notifications(start=1, limit=2):
        if notification.originator_id != KEYRING_ID:
            return True
    return False


def write_genesis(store: Any, directory: KeyDirectory) -> None:
    """Make the key folder's keys the ledger's genesis, as its first record."""
    keyring = directory.load()
    if any(k.valid_until or k.compromised_from for k in keyring.keys):
        raise KeyringError(
            f"{directory.keyring_path} holds retired or compromised keys but the log has no key"
            " history: a new ledger starts from fresh keys (`ledger keys init`)"
        )
    at = max(k.valid_from for k in keyring.keys)
    ring = KeyHistory.start(
        KeyringGenesis,
        KEYRING_ID,
        KEY_MANAGER,
        at,
        keys=tuple(k.to_json() for k in keyring.keys),
    )
    try:
        store.save(ring)
    except Conflict:
        return  # another process starting at the same moment wrote it
    log.info("wrote the key-ring genesis with %d keys", len(keyring.keys))


def ensure_key_history(store: Any, directory: KeyDirectory, *, genesis: bool = True) -> None:
    """Derive the key ring from the log (writing the genesis first on a new ledger)."""
    app = store.app
    if not has_history(app):
        if not genesis:
            return  # an import brings its own genesis
        if holds_other_records(app):
            raise KeyringError(
                "this ledger's log holds records but no key history (it was made before key"
                " history was recorded); export it with the earlier version and start anew"
            )
        write_genesis(store, directory)
    sync_view(store, directory)


def sync_view(store: Any, directory: KeyDirectory) -> Keyring:
    """Re-derive the key ring from the log, rewrite `keyring.json` as its view, and use it."""
    derived = read_history(store.app, store.signing.origin).final()
    if directory.exists():
        view = directory.load()
        difference = compare(view, derived)
        if difference is not None:
            known = {k.kid for k in derived.keys}
            if any(k.kid not in known for k in view.keys):
                log.warning("keyring.json is not the key history (%s); rewritten", difference)
            directory.save(derived)
    else:
        directory.save(derived)
    store.signing.use(derived)
    genesis = read_genesis(store.app)
    if genesis is not None:
        root = TrustRoot.from_genesis(genesis)
        path = directory.path / TRUST_ROOT_FILE
        if not path.exists() or path.read_text(encoding="utf-8") != root.text():
            path.write_text(root.text(), encoding="utf-8")
    return derived


def read_genesis(app: Any) -> Any:
    rows = list(app.recorder.select_events(KEYRING_ID, limit=1))
    if not rows:
        return None
    return open_record(bytes(rows[0].state), str(KEYRING_ID), 1)


def trust_root(store: Any) -> TrustRoot:
    genesis = read_genesis(store.app)
    if genesis is None:
        raise KeyringError("the ledger has no genesis record yet")
    return TrustRoot.from_genesis(genesis)


def _ring(store: Any) -> KeyHistory:
    try:
        aggregate = store.app.repository.get(KEYRING_ID)
    except AggregateNotFoundError:
        raise KeyringError("the ledger has no key history yet") from None
    assert isinstance(aggregate, KeyHistory)
    return aggregate


def rotate(store: Any, directory: KeyDirectory, purpose: Purpose, now: datetime) -> Any:
    """Introduce a new key of `purpose` from `now` and retire the current one at `now`.

    Both records are signed by the current records key at the last instant of its window, one
    microsecond before `now`: a record signed at `now` itself would lie outside the window the
    retirement closes (valid_until is exclusive), and the key ring would not audit.
    """
    keyring = sync_view(store, directory)
    old = keyring.current(purpose, now)
    fresh = new_key(directory, purpose, now)
    ring = _ring(store)
    signed_at = now - timedelta(microseconds=1)
    ring.record(KeyIntroduced, KEY_MANAGER, signed_at, key=fresh.to_json())
    ring.record(KeyRetired, KEY_MANAGER, signed_at, kid=old.kid, valid_until=format_time(now))
    store.save(ring)
    sync_view(store, directory)
    return fresh


def compromise(
    store: Any, directory: KeyDirectory, kid: str, since: datetime, now: datetime
) -> Any:
    """Mark `kid` compromised from `since`, signed by the current records key (another key)."""
    keyring = sync_view(store, directory)
    target = keyring.get(kid)
    signer = keyring.current("records", now)
    if signer.kid == kid:
        raise KeyringError(
            f"key {kid} is the current records key and cannot mark itself compromised:"
            " rotate first (`ledger keys rotate`), then mark it"
        )
    ring = _ring(store)
    ring.record(KeyCompromised, KEY_MANAGER, now, kid=kid, compromised_from=format_time(since))
    store.save(ring)
    sync_view(store, directory)  # verified signatures are re-checked against the new mark
    return target
