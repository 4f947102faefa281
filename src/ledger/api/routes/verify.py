"""`GET /verify/{certificate_id}`: what any third party may check, with the proof behind it."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ledger.api.deps import AppState
from ledger.api.language import mark, page_language, switch
from ledger.api.models import VerifyAnswer
from ledger.api.page import View, unknown_page, verification_page
from ledger.api.problems import problem_response
from ledger.api.routes.queries import AsOf, KnownAt
from ledger.credentials.holder import Holder, public_holder
from ledger.db import Database
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import DomainError
from ledger.runtime import Runtime
from ledger.views.verification import Bounded, CertificateRead, VerificationReads
from projections.facts import status_on

router = APIRouter(tags=["verification"])

# Verification is the busiest route: its short reads run on a few threads of their own rather
# than on the shared pool of 40, where under load the threads queue for the interpreter lock
# (measured: two threads serve the most, on SQLite and on PostgreSQL). A plain executor: handing
# a read to it and back costs less than half of what the framework's thread hop does, and the
# reads need nothing from the request's context.
_READERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify")
T = TypeVar("T")


async def _read(work: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_READERS, work, *args)


def verify_answer(
    runtime: Runtime, certificate_id: str, as_of: date, known_at: int | None
) -> dict[str, Any] | None:
    """The answer for `certificate_id` on `as_of` as known at log size `known_at` (None: as the
    ledger stands, read in one statement), or None when there is no such certificate."""
    if known_at is None:
        document = current_document(runtime, certificate_id)
        return None if document is None else copy.deepcopy(document.answer(as_of))
    return _answer_from_queries(runtime, certificate_id, as_of, known_at)


@dataclass
class Document:
    """Everything in a certificate's answer that does not depend on the date, for the ledger as
    it stands: the facts (reasons readable), the holder's public name, the evidence and the
    inclusion proof. Today's status is picked from the facts on the day asked."""

    certificate_id: str
    facts: dict[str, Any]
    holder: Holder
    evidence: list[dict[str, Any]]
    proof: dict[str, Any] | None
    version: str
    """A digest of what the document was made from (register row, holder stream version,
    checkpoint proven against): the root of its entity tags."""
    _json: Bounded[date, tuple[str, bytes]] = field(default_factory=lambda: Bounded(1))

    def answer(self, as_of: date) -> dict[str, Any]:
        facts = self.facts
        return {
            "certificate_id": self.certificate_id,
            **status_on(facts, as_of),
            "as_of": as_of.isoformat(),
            "known_at": None,
            "kind": facts["kind"],
            "holder": self.holder.name,
            "holder_name_state": self.holder.state,
            "valid_from": facts["valid_from"],
            "valid_until": facts["valid_until"],
            "scope": facts["scope"],
            "evidence": self.evidence,
            "log": self.proof,
        }

    def etag(self, as_of: date, representation: str) -> str:
        text = f"{self.version}\0{as_of.isoformat()}\0{representation}"
        return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'

    def json_answer(self, as_of: date) -> tuple[str, bytes]:
        """The JSON answer on `as_of`, its entity tag and its bytes, kept for the day last asked
        (today, mostly)."""
        return self._json.get_or_make(
            as_of,
            lambda: (
                self.etag(as_of, "json"),
                bytes(
                    JSONResponse(VerifyAnswer(**self.answer(as_of)).model_dump(mode="json")).body
                ),
            ),
        )


class _Kept:
    """What one ledger's process keeps for verification: its reads, the documents made and
    the holders' public names, each under the versions they were made from."""

    def __init__(self, db: Database) -> None:
        self.reads = VerificationReads(db)
        self.documents: Bounded[tuple[str, str, int | None], Document] = Bounded(10_000)
        self.holders: Bounded[tuple[str, int | None], Holder] = Bounded(20_000)
        self.batches = _Batches(self.reads)

    def document(self, certificate_id: str, found: CertificateRead) -> Document | None:
        """The document made from the same register row and holder version, if kept."""
        return self.documents.get((certificate_id, found.text, found.holder_version))


class _Batches:
    """Register rows asked for by requests in flight together, read in one statement per batch
    (PostgreSQL): while a batch is read, the ids asked for meanwhile wait for the next one, so
    under load each request shares its round trip and its hop to a reader thread with the
    others, and alone it waits for nothing."""

    def __init__(self, reads: VerificationReads) -> None:
        self._reads = reads
        self._waiting: dict[str, list[asyncio.Future[CertificateRead | None]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def certificate(self, certificate_id: str) -> CertificateRead | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a server started afresh in this process
            self._loop, self._waiting, self._reader = loop, {}, None
        future: asyncio.Future[CertificateRead | None] = loop.create_future()
        self._waiting.setdefault(certificate_id, []).append(future)
        if self._reader is None:
            self._reader = loop.create_task(self._read_all())
        return await future

    async def _read_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    found = await _read(self._reads.certificates, list(batch))
                except Exception as exc:  # each request in the batch answers with the error
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for certificate_id, futures in batch.items():
                    for future in futures:
                        if not future.done():  # else: its client went away
                            future.set_result(found.get(certificate_id))
        finally:
            self._reader = None


_KEPT: WeakKeyDictionary[Database, _Kept] = WeakKeyDictionary()


def current_document(runtime: Runtime, certificate_id: str) -> Document | None:
    """The certificate's document as the ledger stands (None: no such certificate). One SQL
    statement reads the register row and the holder's stream version; the rest is worked out
    only when either changed (or the event is not yet under a checkpoint)."""
    found, document = kept_document(runtime, certificate_id)
    if found is None or document is not None:
        return document
    return _make_document(runtime, certificate_id, found)


def kept_document(
    runtime: Runtime, certificate_id: str
) -> tuple[CertificateRead | None, Document | None]:
    """The register row as it stands (None: no such certificate), and the document kept for it
    if one was made from the same row and holder version (else None: it is to be made)."""
    kept = _kept(runtime)
    found = kept.reads.certificate(certificate_id)
    if found is None:
        return None, None
    return found, kept.document(certificate_id, found)


def _kept(runtime: Runtime) -> _Kept:
    kept = _KEPT.get(runtime.db)
    if kept is None:
        kept = _KEPT.setdefault(runtime.db, _Kept(runtime.db))
    return kept


def _make_document(runtime: Runtime, certificate_id: str, found: CertificateRead) -> Document:
    kept = _kept(runtime)
    key = (certificate_id, found.text, found.holder_version)
    holder_id = str(found.facts["holder"])
    facts = runtime.queries.reveal(found.facts)
    holder = kept.holders.get_or_make(
        (holder_id, found.holder_version),
        lambda: public_holder(runtime.service, holder_id),
    )
    proof = _proof(runtime, facts["events"][0][1])
    size = None if proof is None else proof["tree_size"]
    made_of = f"{found.text}\0{found.holder_version}\0{size}"
    document = Document(
        certificate_id=certificate_id,
        facts=facts,
        holder=holder,
        evidence=_evidence(facts),
        proof=proof,
        version=hashlib.sha256(made_of.encode()).hexdigest(),
    )
    if proof is not None:  # else: proven as soon as a checkpoint covers the event
        kept.documents.put(key, document)
    return document


def _answer_from_queries(
    runtime: Runtime, certificate_id: str, as_of: date, known_at: int | None
) -> dict[str, Any] | None:
    found = runtime.queries.certificate_status(certificate_id, as_of, known_at)
    if found is None:
        return None
    facts = found["facts"]
    answer: dict[str, Any] = {
        "certificate_id": certificate_id,
        "status": found["status"],
        "since": found["since"],
        "until": found["until"],
        "reason": found["reason"],
        "as_of": as_of.isoformat(),
        "known_at": known_at,
        "kind": None,
        "holder": None,
        "holder_name_state": None,
        "valid_from": None,
        "valid_until": None,
        "scope": None,
        "evidence": [],
        "log": None,
    }
    if facts is None:
        return answer
    holder = public_holder(runtime.service, facts["holder"])
    answer.update(
        kind=facts["kind"],
        valid_from=facts["valid_from"],
        valid_until=facts["valid_until"],
        scope=facts["scope"],
        holder=holder.name,
        holder_name_state=holder.state,
        evidence=_evidence(facts, known_at),
        log=_proof(runtime, facts["events"][0][1]),
    )
    return answer


def _evidence(facts: dict[str, Any], known_at: int | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    evidence = facts.get("evidence") or {}
    for name in ("enrolment", "sign_off", "qualification", "licence"):
        if evidence.get(name) is not None:
            value = evidence[name]
            items.append(
                {
                    "kind": name,
                    **(
                        {"position": value} if isinstance(value, int) else {"certificate_id": value}
                    ),
                }
            )
    attendance = evidence.get("attendance")
    if attendance:
        items.append(
            {
                "kind": "attendance",
                "weeks": attendance["weeks"],
                "positions": attendance["positions"],
            }
        )
    for name in ("courses", "full_programmes"):
        if evidence.get(name):
            items.append({"kind": name, "positions": evidence[name]})
    items.extend(_corrections(evidence, known_at))
    for version, position, event_type, on in facts["events"]:
        items.append(
            {
                "kind": "decision",
                "type": event_type,
                "version": version,
                "position": position,
                "effective_on": on,
            }
        )
    return items


def _corrections(evidence: dict[str, Any], known_at: int | None) -> list[dict[str, Any]]:
    """Corrections of the evidence (an attendance entry corrected, say): a verifier sees that
    the record behind the certificate was corrected, when, and where in the log, never why
    (a reason is personal free text and this answer is public). Read as the ledger knew it at
    `known_at`: a correction logged later was not known then."""
    return [
        {
            "kind": "correction",
            "type": found["type"],
            "week": found.get("week"),
            "on": found.get("on"),
            "position": found["position"],
        }
        for found in evidence.get("corrections") or []
        if known_at is None or found["position"] < known_at
    ]


def _proof(runtime: Runtime, position: int) -> dict[str, Any] | None:
    found = runtime.public_log.latest_inclusion(position)
    if found is None:
        return None  # not yet under a signed checkpoint (within a second of being recorded)
    latest, leaf, proof = found
    return {
        "position": position,
        "tree_size": latest.size,
        "leaf_hash": base64.b64encode(leaf).decode(),
        "proof": [base64.b64encode(h).decode() for h in proof],
        "checkpoint": {
            "size": latest.size,
            "root": base64.b64encode(latest.root).decode(),
            "note": latest.cosigned_note,
        },
    }


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


@router.get(
    "/verify/{certificate_id}",
    response_model=VerifyAnswer,
    responses={404: {"description": "no such certificate"}, 200: {"content": {"text/html": {}}}},
)
async def verify(
    certificate_id: str,
    request: Request,
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> Response:
    """The certificate's status (today, or `as_of` a date, as known at log size `known_at`),
    its evidence chain and an inclusion proof against a signed checkpoint covering it. JSON with
    `Accept: application/json` (with an `ETag`: `If-None-Match` gets 304), an HTML page for
    browsers."""
    # The application's state is read here rather than as a dependency: the busiest route
    # solves no dependencies beyond its parameters.
    app: AppState = request.app.state.ledger
    day = as_of or app.runtime.clock.now().date()
    try:
        _, normal = parse_certificate_id(certificate_id)
        if known_at is None:
            document = await _current(app, normal)
            if document is not None:
                return _present(request, app, document, day, current=as_of is None)
            answer = None
        else:
            answer = await _read(_answer_from_queries, app.runtime, normal, day, known_at)
    except DomainError as exc:
        answer, normal, reason = None, certificate_id, str(exc)
    else:
        reason = f"no certificate {normal} in this ledger"
    if answer is None:
        if _wants_html(request):
            return _html(request, unknown_page(certificate_id, _view(request, app)), 404)
        return problem_response(
            404,
            "unknown-certificate",
            "No such certificate",
            reason,
            certificate_id=certificate_id,
            certificate_status="unknown",
        )
    if _wants_html(request):
        view = _view(request, app, current=as_of is None and known_at is None)
        return _html(request, verification_page(answer, view))
    return cacheable(request, VerifyAnswer(**answer).model_dump(mode="json"))


async def _current(app: AppState, certificate_id: str) -> Document | None:
    """`current_document`. On SQLite the one indexed read of a local file and the look-up of
    the document kept run here, on the event loop (a hop to a thread and back costs more than
    they do: measured, about twice the throughput); on PostgreSQL the read goes to a reader
    thread in a batch with the reads of the requests in flight with it. Only making a document
    goes to a thread on its own."""
    if app.runtime.db.postgres:
        kept = _kept(app.runtime)
        found = await kept.batches.certificate(certificate_id)
        if found is None:
            return None
        document = kept.document(certificate_id, found)
    else:
        found, document = kept_document(app.runtime, certificate_id)
    if found is None or document is not None:
        return document
    return await _read(_make_document, app.runtime, certificate_id, found)


def _present(
    request: Request, app: AppState, document: Document, day: date, current: bool
) -> Response:
    """The answer as the ledger stands: the page, or the JSON with an entity tag derived from
    the document's version (a matching `If-None-Match` is answered 304 before any body is
    made)."""
    if _wants_html(request):
        return _html(request, verification_page(document.answer(day), _view(request, app, current)))
    tag, body = document.json_answer(day)
    headers = {"Cache-Control": "public, max-age=5", "ETag": tag}
    if _matches(request, tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _matches(request: Request, tag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return tag in {t.strip().removeprefix("W/") for t in wanted.split(",")} or wanted.strip() == "*"


def _view(request: Request, app: AppState, current: bool = True) -> View:
    """The page's language (switch, cookie, `Accept-Language`) and what it shows besides the
    answer; `current` when it answers for today as the ledger stands."""
    language = page_language(request)
    return View(
        language=language,
        languages=switch(request, language),
        public_url=app.runtime.settings.public_url,
        fingerprint=app.runtime.trust_root().short_fingerprint,
        current=current,
    )


def _html(request: Request, html: str, status_code: int = 200) -> Response:
    language = page_language(request)
    return mark(HTMLResponse(html, status_code=status_code), request, language)


def cacheable(request: Request, content: dict[str, Any]) -> Response:
    """JSON that caches may keep for five seconds, with an `ETag` of its exact bytes: a client
    or proxy that sends it back in `If-None-Match` gets 304 while the answer is unchanged."""
    body = JSONResponse(content).body
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"Cache-Control": "public, max-age=5", "ETag": tag}
    if _matches(request, tag):
        return Response(status_code=304, headers=headers)
    return Response(bytes(body), media_type="application/json", headers=headers)
