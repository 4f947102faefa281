"""Log positions of stored events: the one way positions are counted, from 0.

The store numbers events by notification id (from 1, with gaps on PostgreSQL where a sequence
value was drawn and rolled back); the log, the verification page and the projections count
positions from 0 without gaps. Commit order is notification order, so the log position of the
event with notification id N is the number of stored events with a smaller notification id, and
a command's events, saved in one transaction, stand next to each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.db import Database
from ledger.views.sql import trackings


def log_positions(db: Database, notification_ids: Sequence[int]) -> list[int]:
    """The log positions of the events with `notification_ids`, written by one command.

    Requires every event up to the highest of them to be committed. Counting from the start of
    the log would read the whole table, so the count starts from a projection's tracking row
    past them when there is one (its position is the number of events up to its notification
    id) and only counts the few events between."""
    if not notification_ids:
        return []
    first, last = min(notification_ids), max(notification_ids)
    rank = {nid: index for index, nid in enumerate(sorted(notification_ids))}
    with db.read() as tx:
        anchors = [t for t in trackings(tx, db) if t.active and t.notification_id >= last]
        if anchors:
            anchor = min(anchors, key=lambda t: t.notification_id)
            (between,) = tx.execute(
                f"SELECT COUNT(*) FROM {db.events_table} WHERE {db.nid} >= ? AND {db.nid} <= ?",
                (first, anchor.notification_id),
            ).fetchone()
            start = anchor.position - int(between)
        else:
            (before,) = tx.execute(
                f"SELECT COUNT(*) FROM {db.events_table} WHERE {db.nid} < ?", (first,)
            ).fetchone()
            start = int(before)
    return [start + rank[nid] for nid in notification_ids]
