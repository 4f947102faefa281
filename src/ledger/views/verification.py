"""The read behind a verification answer for the ledger as it stands: one SQL statement.

It fetches the certificate's row from the active generation of the certificate register (its
facts, status timeline and evidence: everything in the answer that does not depend on the date)
together with the version of the holder's stream. The statement checks in itself that the
generation it names is still the active one; when it is not (a rebuild was activated) the
active generation is looked up again.

What depends on personal data (the holder's public name, reasons decrypted under the holder's
data key) is never copied into a table: it is worked out from the records as before and kept
in this process only, under the holder's stream version. Any event of the person (a name hidden,
a consent withdrawn, an erasure) raises that version, so the next answer works it out afresh.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

from ledger.db import Database
from ledger.views.sql import trackings

Row = dict[str, Any]
REGISTER = "certificate_register"

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class CertificateRead:
    """A certificate's register row (as stored, parsed when first asked: a document already
    made from the same row needs only its text) and its holder's stream version."""

    text: str
    holder_version: int | None

    @cached_property
    def facts(self) -> Row:
        found: Row = json.loads(self.text)
        return found


class Bounded(Generic[K, V]):
    """A small least-recently-used map shared by the request threads."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        found = self.get(key)
        return found if found is not None else self.put(key, make())


class VerificationReads:
    """One statement per verification; the active generation's table name is remembered."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._generation: int | None = None
        self._statements: dict[int, str] = {}
        self._many: dict[int, str] = {}

    def certificate(self, certificate_id: str) -> CertificateRead | None:
        return self._in_active(self._read_one, [certificate_id]).get(certificate_id)

    def certificates(self, certificate_ids: Sequence[str]) -> dict[str, CertificateRead]:
        """The rows of many certificates in one statement (those found: a missing id is no such
        certificate), for requests that arrived together."""
        return self._in_active(self._read_many, list(dict.fromkeys(certificate_ids)))

    def _in_active(
        self, read: Callable[[int, list[str]], dict[str, CertificateRead]], wanted: list[str]
    ) -> dict[str, CertificateRead]:
        """`read` from the generation remembered; an id not found there is looked for again in
        the active generation if that is another one (a rebuild was activated meanwhile). The
        generation remembered may be gone altogether (a second rebuild, perhaps in another
        process, dropped it): a read that fails there is made again in the active one."""
        found: dict[str, CertificateRead] = {}
        for attempt in range(2):
            generation = self._generation
            if generation is None or attempt:
                generation = self._active_generation()
                if generation is None:
                    return found
            try:
                found.update(read(generation, wanted))
            except Exception:
                if attempt or self._active_generation() == generation:
                    raise  # not a generation replaced: the database's own error
                continue
            missing = [i for i in wanted if i not in found]
            if not missing or attempt or self._active_generation() == generation:
                return found
            wanted = missing
        return found  # pragma: no cover - the loop returns

    def _active_generation(self) -> int | None:
        with self.db.read() as tx:
            active = next((t for t in trackings(tx, self.db, REGISTER) if t.active), None)
        self._generation = None if active is None else active.generation
        return self._generation

    def _read_one(self, generation: int, wanted: list[str]) -> dict[str, CertificateRead]:
        sql = self._statements.get(generation)
        if sql is None:
            sql = self._statements[generation] = self._statement(generation)
        with self.db.statement() as tx:
            row = tx.execute(sql, (wanted[0], REGISTER, generation)).fetchone()
        return {} if row is None else {wanted[0]: _certificate_read(row)}

    def _read_many(self, generation: int, wanted: list[str]) -> dict[str, CertificateRead]:
        sql = self._many.get(generation)
        if sql is None:
            sql = self._many[generation] = self._statement(generation, many=True)
        # One parameter however many ids: the statement's text stays the same (and prepared).
        ids: Any = wanted if self.db.postgres else json.dumps(wanted)
        with self.db.statement() as tx:
            rows = tx.execute(sql, (ids, REGISTER, generation)).fetchall()
        return {str(row[2]): _certificate_read(row) for row in rows}

    def _statement(self, generation: int, many: bool = False) -> str:
        """The statement for `generation`, written once (the same text each time, so that the
        database keeps it prepared)."""
        db = self.db
        table = db.table(f"proj_{REGISTER}_g{generation}")
        if db.postgres:
            holder = "= (p.data::json->>'holder')::uuid"
        else:  # the recorder keeps stream ids as 32 hex digits
            holder = "= replace(json_extract(p.data, '$.holder'), '-', '')"
        if not many:
            keys = "= ?"
        elif db.postgres:
            keys = "= ANY(?)"
        else:
            keys = "IN (SELECT value FROM json_each(?))"
        return (
            "SELECT p.data, (SELECT max(e.originator_version) FROM"
            f" {db.events_table} e WHERE e.originator_id {holder}), p.key"
            f" FROM {db.table('ledger_projections')} t JOIN {table} p"
            f" ON p.tbl = 'certificates' AND p.key {keys}"
            " WHERE t.name = ? AND t.generation = ? AND t.active = 1"
        )


def _certificate_read(row: Sequence[Any]) -> CertificateRead:
    return CertificateRead(str(row[0]), None if row[1] is None else int(row[1]))
