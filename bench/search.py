"""Searching people: the people directory over a ledger of many people (fictitious names made
up from lists of given names, surnames and organisations), queried as a registrar types: whole
surnames, accented or not, type-ahead prefixes, two words, an organisation word."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from bench.figures import Figure, percentile
from bench.places import Places
from ledger.domain.actors import Actor, Role
from ledger.domain.folding import fold, words
from ledger.runtime import Runtime, open_runtime
from ledger.views import lists

GIVEN = (
    "Zuzana",
    "Květa",
    "Ivana",
    "Marek",
    "Tomás",
    "Ana",
    "Lucía",
    "João",
    "Inês",
    "Ágnes",
    "Zoltán",
    "Łucja",
    "Bartłomiej",
    "Ioana",
    "Ştefan",
    "Ayşe",
    "Burak",
    "Søren",
    "Ærin",
    "Jürgen",
    "Renée",
    "Élodie",
    "Matthías",
    "Guðrún",
    "Dorota",
    "Milena",
    "Bogdan",
    "Yaroslava",
    "Nuño",
    "Begoña",
    "Xosé",
    "Iñaki",
    "Maëlle",
    "Françoise",
    "Chiara",
    "Niccolò",
    "Eleftheria",
    "Ilkka",
    "Aino",
)
SURNAMES = (
    "Hrušovská",
    "Nováková",
    "Dvořák",
    "Ferreiro",
    "Lagoa",
    "Szabó",
    "Kovács",
    "Wiśniewska",
    "Grzegorczyk",
    "Popescu",
    "Ţăranu",
    "Yılmaz",  # noqa: RUF001 (the Turkish dotless i, on purpose)
    "Öztürk",
    "Sørensen",
    "Bækgaard",
    "Müller",
    "Weiß",
    "Lefèvre",
    "Bérénger",
    "Guðmundsdóttir",
    "Kowalczyk",
    "Petrović",
    "Ivanović",
    "Marković",
    "Castañeda",
    "Íñiguez",
    "Conceição",
    "Gonçalves",
    "Ribeiro",
    "Håkansson",
    "Virtanen",
    "Mäkinen",
    "Papadopoulou",
    "Karagiannis",
    "Esposito",
    "Bianchi",
    "Rüegg",
    "Šimková",
    "Čermák",
    "Žáková",
    "Łukasiewicz",
    "Ñúñez",
    "Fernández",
    "Ortíz",
    "Quirino",
    "Baptista",
    "Vasquez",
    "Oliveira",
)
ORGANISATIONS = (
    "Ústav Regionálneho Rozvoja",
    "Asociación Comarcal del Valle",
    "Agência de Desenvolvimento Local",
    "Regionalverband Südost",
    "Fundacja Rozwoju Wsi",
    "Kalkınma Ajansı Doğu",  # noqa: RUF001 (the Turkish dotless i, on purpose)
    "Landsbyforeningen Nord",
    "Agenzia per lo Sviluppo Rurale",
    "Maakunnan Kehittämiskeskus",
    "Asociația Grupului de Acțiune Locală",
)
QUERIES = 400
BATCH = 500


def made_up_people(count: int, seed: int = 14) -> list[tuple[str, str, str, str]]:
    """(person_id, name, email, organisation) for `count` fictitious people."""
    rng = random.Random(seed)
    people = []
    for n in range(count):
        given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
        if rng.random() < 0.2:  # some have two surnames
            surname = f"{surname} {rng.choice(SURNAMES)}"
        name = f"{given} {surname}"
        email = f"{'.'.join(words(name))}.{n}@example.org"
        people.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                name,
                email,
                rng.choice(ORGANISATIONS),
            )
        )
    return people


def typed_queries(people: list[tuple[str, str, str, str]], count: int) -> list[str]:
    """What a registrar types: a whole surname folded or accented, a prefix of three to five
    characters, a given name with the start of a surname, an organisation word."""
    rng = random.Random(41)
    queries = []
    for n in range(count):
        _, name, _, organisation = rng.choice(people)
        given, surname = name.split()[0], name.split()[-1]
        kind = n % 5
        if kind == 0:
            queries.append(fold(surname))
        elif kind == 1:
            queries.append(surname)
        elif kind == 2:
            queries.append(fold(surname)[: rng.randint(3, 5)])
        elif kind == 3:
            queries.append(f"{given} {surname[:4]}")
        else:
            queries.append(rng.choice(organisation.split()))
    return queries


def latencies(search: Callable[[str], list[str]], queries: list[str]) -> list[float]:
    found = []
    for query in queries:
        started = time.perf_counter()
        search(query)
        found.append((time.perf_counter() - started) * 1000)
    return found


def register(runtime: Runtime, people: list[tuple[str, str, str, str]]) -> None:
    """Register `people` through the service, in batches (look-alike names are confirmed)."""
    actor = Actor("staff-bench-search", Role.REGISTRAR)
    for start in range(0, len(people), BATCH):
        batch = runtime.service.batch()
        for _, name, email, organisation in people[start : start + BATCH]:
            batch.service.register_person(
                actor, name, email, organisation, "Region", "Country", confirm_duplicate=True
            )
        batch.commit()
    runtime.catch_up()


def search_figures(places: Places, backend: str, count: int = 10_000) -> list[Figure]:
    """p95 of a search for one page (20 people) over `count` people, against the p95 of the
    cheapest search, a whole email (one token, one person), in the same ledger: in the
    directory alone, and as staff see it (`GET /v1/people?q=`'s work: the directory, the
    read models of the people found, and the page's names decrypted from their records)."""
    settings = places.settings(backend, "search")
    runtime = open_runtime(settings)
    try:
        people = made_up_people(count)
        register(runtime, people)
        queries = typed_queries(people, QUERIES)
        emails = [p[2] for p in random.Random(7).sample(people, min(QUERIES, count))]

        def directory(query: str) -> list[str]:
            return runtime.people.search(query, 20)

        def listed(query: str) -> list[str]:
            page = lists.people(
                runtime.queries,
                runtime.service.persons,
                limit=20,
                q=query,
                directory=runtime.people,
            )
            return [item["person_id"] for item in page.items]

        figures = []
        for label, search in (("directory", directory), ("page with names", listed)):
            latencies(search, queries[:40])  # warm the connections and the caches
            typed = latencies(search, queries)
            whole_email = latencies(search, emails)
            p95, base = percentile(typed, 0.95), percentile(whole_email, 0.95)
            figures.append(
                Figure(
                    f"search people ({label}): a page of 20 from {count:,} people,"
                    f" {len(queries)} typed queries, p95",
                    backend,
                    p95,
                    "ms",
                    base,
                    p95 / base if base else None,
                    "p95 < 50 ms",
                    p95 < 50,
                    detail=(
                        f"p50 {percentile(typed, 0.5):.1f} ms, max {max(typed):.1f} ms;"
                        " baseline: search by whole email"
                    ),
                )
            )
        return figures
    finally:
        runtime.close()
