"""The CSV import: people with their enrolments, read from a spreadsheet's CSV and written in one
batch, against the same commands (a registration and an enrolment per person) sent one at a
time: through the service layer, and over HTTP as a registrar would (one POST /v1/imports/people
against a POST /v1/people and a POST .../enrolments per person, one after the other, each
answered once projected). Each on a fresh ledger of the same backend, with one programme opened
before the clock starts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from functools import partial

import httpx

from bench.figures import Figure, ratio_figure, timed
from bench.places import Places
from bench.server import serve, token
from ledger.clock import ManualClock
from ledger.domain.actors import Actor, Role
from ledger.imports.columns import COLUMNS, ImportKind
from ledger.imports.plan import import_csv
from ledger.imports.resolve import programme_titles
from ledger.runtime import Runtime, open_runtime
from ledger.store.application import open_store

REGISTRAR = Actor("registrar-bench", Role.REGISTRAR)
TITLE = "Bench programme"
CONSORTIUM = "CIP Call 2011-2012"
NOW = datetime(2020, 1, 1, tzinfo=UTC)


def person(n: int) -> dict[str, str]:
    """Fictitious participant `n`: a unique email, and a unique name within its organisation."""
    return {
        "name": f"Participant {n} Example",
        "email": f"participant.{n}@agency{n % 40}.example.org",
        "organisation": f"Agency {n % 40}",
        "region": f"Region {n % 12}",
        "country": "Spain",
        "programme": TITLE,
        "consortium": CONSORTIUM,
    }


def people_csv(count: int) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS[ImportKind.PEOPLE].all, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(person(n) for n in range(count))
    return out.getvalue().encode()


def _ledger(places: Places, backend: str, name: str) -> tuple[Runtime, str]:
    runtime = open_runtime(places.settings(backend, name), clock=ManualClock(NOW))
    programme = runtime.service.open_programme(
        REGISTRAR, TITLE, date(2019, 1, 7), date(2019, 7, 31), "ECEI-2012"
    ).id
    runtime.catch_up()
    return runtime, programme


def batch_rate(places: Places, backend: str, count: int) -> float:
    """People per second, imported from the CSV file in one batch."""
    data = people_csv(count)
    runtime, _ = _ledger(places, backend, "csv-import")

    def run() -> int:
        report = import_csv(
            data,
            ImportKind.PEOPLE,
            service=runtime.service,
            people=runtime.people,
            programmes=programme_titles(runtime.queries),
            actor=REGISTRAR,
            commit=True,
        )
        if not report.valid or report.appended != count:
            raise RuntimeError(f"the bench import failed: {report.summary()}")
        return report.appended

    try:
        return timed(run)
    finally:
        runtime.close()


def one_at_a_time_rate(places: Places, backend: str, count: int) -> float:
    """People per second, each registered and enrolled by its own commands."""
    runtime, programme = _ledger(places, backend, "csv-baseline")
    service = runtime.service

    def run() -> int:
        for n in range(count):
            p = person(n)
            person_id = service.register_person(
                REGISTRAR, p["name"], p["email"], p["organisation"], p["region"], p["country"]
            ).id
            service.enrol(REGISTRAR, programme, person_id, CONSORTIUM)
        return count

    try:
        return timed(run)
    finally:
        runtime.close()


def _served_programme(places: Places, backend: str, name: str) -> tuple[Runtime, str]:
    """A fresh ledger on the real clock (the server's), with the bench programme opened."""
    settings = places.settings(backend, name)
    open_store(settings).close()
    runtime = open_runtime(settings)
    programme = runtime.service.open_programme(
        REGISTRAR, TITLE, date(2019, 1, 7), date(2019, 7, 31), "ECEI-2012"
    ).id
    runtime.catch_up()
    return runtime, programme


def _post_file(client: httpx.Client, count: int) -> int:
    answer = client.post(
        "/v1/imports/people", content=people_csv(count), headers={"Content-Type": "text/csv"}
    )
    answer.raise_for_status()
    return count


def _post_singly(client: httpx.Client, programme: str, count: int) -> int:
    for n in range(count):
        p = person(n)
        body = {k: p[k] for k in ("name", "email", "organisation", "region", "country")}
        made = client.post("/v1/people", json=body)
        made.raise_for_status()
        client.post(
            f"/v1/programmes/{programme}/enrolments",
            json={"person_id": made.json()["id"], "consortium": CONSORTIUM},
        ).raise_for_status()
    return count


def http_rates(places: Places, backend: str, count: int) -> tuple[float, float]:
    """People per second over HTTP: (the CSV posted once, the same commands posted one by
    one), each against a real server on a fresh ledger."""
    rates = []
    for name in ("csv-http", "csv-http-baseline"):
        runtime, programme = _served_programme(places, backend, name)
        settings = runtime.settings
        runtime.close()
        secret = token(settings, f"bench-{name}", Role.REGISTRAR)
        headers = {"Authorization": f"Bearer {secret}"}
        with (
            serve(settings) as server,
            httpx.Client(base_url=server.base, headers=headers, timeout=600) as client,
        ):
            work = (
                partial(_post_file, client, count)
                if name == "csv-http"
                else partial(_post_singly, client, programme, count)
            )
            rates.append(timed(work))
    return rates[0], rates[1]


def csv_import_figures(places: Places, backend: str, count: int) -> list[Figure]:
    baseline = one_at_a_time_rate(places, backend, count)
    rate = batch_rate(places, backend, count)
    over_http, posted_singly = http_rates(places, backend, count)
    return [
        ratio_figure(
            f"CSV import of {count:,} people with enrolments, one batch",
            backend,
            rate,
            "people/s",
            baseline,
            1.0,
            ">= 1x the same commands one at a time",
        ),
        ratio_figure(
            f"CSV import over HTTP of {count:,} people with enrolments",
            backend,
            over_http,
            "people/s",
            posted_singly,
            5.0,
            ">= 5x the same commands as single POSTs",
        ),
    ]
