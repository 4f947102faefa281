"""Finding people to choose from on a form (a tutor, people to enrol, the person kept when
marking a duplicate): through the people directory, best matches first, never an erased
person, since no act can name one."""

from __future__ import annotations

from ledger.api.deps import AppState
from ledger.views import lists


def find_people(app: AppState, q: str, limit: int) -> list[dict[str, object]]:
    """At most `limit` people found for `q` (none when nothing is typed), erased people left
    out."""
    if not q.strip():
        return []
    runtime = app.runtime
    page = lists.people(
        runtime.queries,
        runtime.service.persons,
        limit=limit,
        q=q,
        directory=runtime.people,
    )
    return [item for item in page.items if not item["erased"]]
