"""`GET /verify/{id}` for the ledger as it stands: an entity tag that a client sends back gets
304, and a change of the holder's consent shows at once, in the answer and in its tag."""

from __future__ import annotations

import httpx

from ledger.domain.actors import Role
from tests.e2e.conftest import Server
from tests.e2e.test_http_path import post, qualify, settled

JSON = {"Accept": "application/json"}


def test_a_sent_back_tag_gets_304_until_the_holder_hides_their_name(server: Server) -> None:
    registrar = server.client(server.token("ana", Role.REGISTRAR))
    [(person, certificate)] = qualify(server, ("Odile Example",))
    first = settled(server, certificate)
    assert first.json()["holder"] == "Odile Example"
    tag = first.headers["ETag"]

    unchanged = httpx.get(
        f"{server.base}/verify/{certificate}", headers={**JSON, "If-None-Match": tag}
    )
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert unchanged.headers["ETag"] == tag

    other_day = httpx.get(
        f"{server.base}/verify/{certificate}",
        params={"as_of": "2013-07-21"},
        headers={**JSON, "If-None-Match": tag},
    )
    assert other_day.status_code == 200
    assert other_day.headers["ETag"] != tag

    post(registrar, f"/v1/people/{person}/name-visibility", {"hidden": True})
    hidden = httpx.get(
        f"{server.base}/verify/{certificate}", headers={**JSON, "If-None-Match": tag}
    )
    assert hidden.status_code == 200
    assert hidden.headers["ETag"] != tag
    assert (hidden.json()["holder"], hidden.json()["holder_name_state"]) == (None, "withheld")
    assert hidden.json()["status"] == "valid"
    page = httpx.get(f"{server.base}/verify/{certificate}", headers={"Accept": "text/html"}).text
    assert "Odile" not in page
