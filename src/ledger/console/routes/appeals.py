"""Console pages of appeals (R11): the open and decided appeals, lodging one against a
decision on a certificate (registrar, administrator), and the panel's decision on it by a
committee member who did not take the decision appealed and has no part in the case."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledger.api.deps import AppState, State
from ledger.console.acts import EVENT_WORDS, KIND_WORDS, kind_of
from ledger.console.appeal_list import AppealEntry, appeal, appeals
from ledger.console.decisions import (
    Deciders,
    actor_words,
    field_error,
    name_of,
    not_found,
    parse_day,
    refusal_words,
    rehearse,
    status_of,
)
from ledger.console.frame import FieldError, long_date, render
from ledger.console.pages import done
from ledger.console.session import (
    Committee,
    ConsoleUser,
    Form,
    FormFields,
    Registrar,
)
from ledger.domain.actors import Role
from ledger.domain.certificates import Certificate, parse_certificate_id
from ledger.domain.errors import DomainError
from ledger.service import LedgerService, Receipt

router = APIRouter()

OUTCOMES = (("upheld", "Upheld"), ("rejected", "Rejected"))
REHEARSAL = "rehearsal"


def _today(app: AppState) -> date:
    return app.runtime.clock.now().date()


def _row(app: AppState, entry: AppealEntry) -> dict[str, Any]:
    """An appeal in words for the list and its page."""
    service = app.runtime.service
    return {
        "entry": entry,
        "href": f"/console/appeals/{entry.appeal_id}",
        "appellant": name_of(service, entry.appellant_id),
        "decision": EVENT_WORDS.get(entry.decision_type, entry.decision_type),
        "decided_by": actor_words(service, entry.decided_by),
        "lodged_by": actor_words(service, entry.lodged_by, entry.lodged_role),
        "panel_member": actor_words(service, entry.panel_member or ""),
    }


@router.get("/console/appeals")
def appeal_list(request: Request, user: Deciders, app: State) -> HTMLResponse:
    """Open appeals first, then those the panel has decided."""
    rows = [_row(app, entry) for entry in appeals(app.runtime.queries)]
    return render(
        request,
        "appeals_list.html",
        title="Appeals",
        open_rows=[r for r in rows if r["entry"].open],
        decided_rows=[r for r in rows if not r["entry"].open],
        may_lodge=user.role in (Role.ADMIN, Role.REGISTRAR),
    )


# -- lodging -------------------------------------------------------------------------------------


def _decisions(app: AppState, user: ConsoleUser, cert: Certificate) -> list[dict[str, Any]]:
    """The certificate's decisions, each appealable today or not (R11: within 30 days), with
    the reason in words when not."""
    service, today = app.runtime.service, _today(app)
    found = []
    for decision in cert.decisions:

        def lodge(s: LedgerService, version: int = decision.version) -> Receipt:
            return s.lodge_appeal(user.actor, cert.certificate_id, version, REHEARSAL, today)

        tried = rehearse(service, lodge)
        found.append(
            {
                "version": decision.version,
                "what": EVENT_WORDS.get(decision.type, decision.type),
                "on": decision.decided_on,
                "by": actor_words(service, decision.decided_by),
                "refusal": None if tried.refusal is None else refusal_words(tried.refusal),
            }
        )
    return found


def _lodge_page(
    request: Request,
    app: AppState,
    user: ConsoleUser,
    typed_id: str,
    values: dict[str, str],
    errors: list[FieldError],
    status: int = 200,
) -> HTMLResponse:
    """Which certificate (asked first), then which of its decisions and on what grounds."""
    service = app.runtime.service
    cert = None
    if typed_id:
        try:
            cert = service.certificate(parse_certificate_id(typed_id)[1])
        except DomainError as refused:
            errors = [*errors, field_error(refused, "certificate")]
            status = status_of(refused) if status == 200 else status
    decisions = _decisions(app, user, cert) if cert is not None else []
    return render(
        request,
        "appeals_lodge.html",
        title="Lodge an appeal",
        status=status,
        errors=errors,
        typed_id=typed_id,
        cert=cert,
        kind_words=KIND_WORDS[kind_of(cert)] if cert is not None else "",
        holder=name_of(service, cert.holder_id) if cert is not None else "",
        decisions=decisions,
        appealable=[d for d in decisions if d["refusal"] is None],
        values={"on": _today(app).isoformat(), "decision": "", "grounds": "", **values},
    )


@router.get("/console/appeals/new")
def lodge_form(
    request: Request, user: Registrar, app: State, certificate: str = ""
) -> HTMLResponse:
    return _lodge_page(request, app, user, certificate.strip(), {}, [])


def _lodging(
    form: FormFields, today: date
) -> tuple[tuple[str, int, str, date] | None, list[FieldError]]:
    problems = []
    version = form.get("decision")
    if not version.isdigit():
        problems.append(FieldError("decision", "Choose the decision appealed"))
    grounds = form.get("grounds").strip()
    if not grounds:
        problems.append(FieldError("grounds", "Enter the grounds of the appeal"))
    on = parse_day(form.get("on"), today)
    if on is None:
        problems.append(FieldError("on", "Enter the date lodged as YYYY-MM-DD, like 2025-03-31"))
    if problems or on is None:
        return None, problems
    return (form.get("certificate"), int(version), grounds, on), []


def _lodge_values(form: FormFields) -> dict[str, str]:
    return {name: form.get(name) for name in ("decision", "grounds", "on")}


@router.post("/console/appeals/new/check")
def lodge_check(request: Request, user: Registrar, app: State, form: Form) -> HTMLResponse:
    """The appeal's answers shown back before it is lodged."""
    typed_id = form.get("certificate")
    lodging, problems = _lodging(form, _today(app))
    if lodging is None:
        return _lodge_page(request, app, user, typed_id, _lodge_values(form), problems, 422)
    certificate_id, version, grounds, on = lodging
    tried = rehearse(
        app.runtime.service,
        lambda s: s.lodge_appeal(user.actor, certificate_id, version, grounds, on),
    )
    if tried.refusal is not None:
        problem = field_error(tried.refusal, "decision", None, {"R11": "decision"})
        return _lodge_page(
            request,
            app,
            user,
            typed_id,
            _lodge_values(form),
            [problem],
            status_of(tried.refusal),
        )
    cert = app.runtime.service.certificate(certificate_id)
    decision = cert.decision(version)
    assert decision is not None
    return render(
        request,
        "appeals_check.html",
        title="Check before you lodge the appeal",
        action="/console/appeals/new",
        button_label="Lodge appeal",
        rows=[
            (KIND_WORDS[kind_of(cert)], cert.certificate_id),
            ("Holder", name_of(app.runtime.service, cert.holder_id)),
            (
                "Decision appealed",
                f"{EVENT_WORDS.get(decision.type, decision.type)} on"
                f" {long_date(decision.decided_on)}",
            ),
            ("Grounds", grounds),
            ("Date lodged", long_date(on)),
        ],
        hidden={
            "certificate": cert.certificate_id,
            "decision": str(version),
            "grounds": grounds,
            "on": on.isoformat(),
        },
    )


@router.post("/console/appeals/new")
def lodge(request: Request, user: Registrar, app: State, form: Form) -> Response:
    """Lodge the appeal (R11: within 30 days of the decision)."""
    typed_id = form.get("certificate")
    if form.get("change"):
        return _lodge_page(request, app, user, typed_id, _lodge_values(form), [])
    lodging, problems = _lodging(form, _today(app))
    if lodging is None:
        return _lodge_page(request, app, user, typed_id, _lodge_values(form), problems, 422)
    certificate_id, version, grounds, on = lodging
    try:
        receipt = app.runtime.service.lodge_appeal(user.actor, certificate_id, version, grounds, on)
    except DomainError as refused:
        problem = field_error(refused, "decision", None, {"R11": "decision"})
        return _lodge_page(
            request, app, user, typed_id, _lodge_values(form), [problem], status_of(refused)
        )
    return done(
        request,
        app,
        receipt,
        f"Appeal lodged against a decision on {certificate_id}.",
        f"/console/appeals/{receipt.id}",
    )


# -- one appeal and its decision ----------------------------------------------------------------


def _appeal_page(
    request: Request,
    app: AppState,
    user: ConsoleUser,
    appeal_id: str,
    values: dict[str, str],
    errors: list[FieldError],
    status: int = 200,
) -> HTMLResponse:
    entry = appeal(app.runtime.queries, appeal_id)
    if entry is None:
        return not_found(request, "appeal", appeal_id)
    refusal = None
    if user.role is Role.COMMITTEE and entry.open:
        tried = rehearse(
            app.runtime.service,
            lambda s: s.decide_appeal(user.actor, entry.appeal_id, "rejected", REHEARSAL),
        )
        refusal = None if tried.refusal is None else refusal_words(tried.refusal, user.person_id)
    return render(
        request,
        "appeals_page.html",
        title="Appeal against a decision on " + entry.certificate_id,
        status=status,
        errors=errors,
        row=_row(app, entry),
        entry=entry,
        committee=user.role is Role.COMMITTEE,
        refusal=refusal,
        outcomes=OUTCOMES,
        values={"on": _today(app).isoformat(), "outcome": "", "reasoning": "", **values},
    )


@router.get("/console/appeals/{appeal_id}")
def appeal_page(request: Request, appeal_id: str, user: Deciders, app: State) -> HTMLResponse:
    """The appeal, its grounds, the decision appealed; the panel's outcome and reasoning once
    decided, or, for a committee member who may decide it, the form."""
    return _appeal_page(request, app, user, appeal_id, {}, [])


def _deciding(
    form: FormFields, today: date
) -> tuple[tuple[str, str, date] | None, list[FieldError]]:
    problems = []
    outcome = form.get("outcome")
    if outcome not in dict(OUTCOMES):
        problems.append(FieldError("outcome", "Choose whether the appeal is upheld or rejected"))
    reasoning = form.get("reasoning").strip()
    if not reasoning:
        problems.append(FieldError("reasoning", "Enter the panel's reasoning"))
    on = parse_day(form.get("on"), today)
    if on is None:
        problems.append(FieldError("on", "Enter the date decided as YYYY-MM-DD, like 2025-03-31"))
    if problems or on is None:
        return None, problems
    return (outcome, reasoning, on), []


def _decide_values(form: FormFields) -> dict[str, str]:
    return {name: form.get(name) for name in ("outcome", "reasoning", "on")}


@router.post("/console/appeals/{appeal_id}/check")
def decide_check(
    request: Request, appeal_id: str, user: Committee, app: State, form: Form
) -> HTMLResponse:
    """The panel's decision shown back before it is recorded."""
    deciding, problems = _deciding(form, _today(app))
    if deciding is None:
        return _appeal_page(request, app, user, appeal_id, _decide_values(form), problems, 422)
    outcome, reasoning, on = deciding
    tried = rehearse(
        app.runtime.service,
        lambda s: s.decide_appeal(user.actor, appeal_id, outcome, reasoning, on),
    )
    if tried.refusal is not None:
        problem = field_error(tried.refusal, "outcome", user.person_id)
        return _appeal_page(
            request,
            app,
            user,
            appeal_id,
            _decide_values(form),
            [problem],
            status_of(tried.refusal),
        )
    entry = appeal(app.runtime.queries, appeal_id)
    assert entry is not None
    return render(
        request,
        "appeals_check.html",
        title="Check before you decide the appeal",
        action=f"/console/appeals/{appeal_id}/decision",
        button_label="Record decision",
        rows=[
            ("Certificate", entry.certificate_id),
            ("Appellant", name_of(app.runtime.service, entry.appellant_id)),
            (
                "Decision appealed",
                f"{EVENT_WORDS.get(entry.decision_type, entry.decision_type)} on"
                f" {long_date(entry.decided_on)}",
            ),
            ("Outcome", dict(OUTCOMES)[outcome]),
            ("Reasoning", reasoning),
            ("Date decided", long_date(on)),
        ],
        hidden={"outcome": outcome, "reasoning": reasoning, "on": on.isoformat()},
    )


@router.post("/console/appeals/{appeal_id}/decision")
def decide(request: Request, appeal_id: str, user: Committee, app: State, form: Form) -> Response:
    """The panel's decision (R11), refused naming the rule when the member took the decision
    appealed or has a part in the case."""
    if form.get("change"):
        return _appeal_page(request, app, user, appeal_id, _decide_values(form), [])
    deciding, problems = _deciding(form, _today(app))
    if deciding is None:
        return _appeal_page(request, app, user, appeal_id, _decide_values(form), problems, 422)
    outcome, reasoning, on = deciding
    try:
        receipt = app.runtime.service.decide_appeal(user.actor, appeal_id, outcome, reasoning, on)
    except DomainError as refused:
        problem = field_error(refused, "outcome", user.person_id)
        return _appeal_page(
            request, app, user, appeal_id, _decide_values(form), [problem], status_of(refused)
        )
    return done(
        request,
        app,
        receipt,
        f"Appeal {dict(OUTCOMES)[outcome].lower()}, with effect from {long_date(on)}.",
        f"/console/appeals/{appeal_id}",
    )
