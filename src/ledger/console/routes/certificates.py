"""Console pages of certificates: the register with its filters, one certificate's facts,
status, evidence and decisions, and the committee's acts on it (grant a licence, renew,
suspend, reinstate, reduce scope, revoke; certify, renew and revoke an instructor), each a form,
a check-your-answers step, and the act itself.

An act the signed-in person may not take is not offered: it is rehearsed first and its refusal
is shown in words, naming the rule. Posted anyway, it is refused the same way."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledger.api.deps import AppState, State
from ledger.console.acts import ACTS, EVENT_WORDS, KIND_WORDS, Act, Answers, acts_for, kind_of
from ledger.console.appeal_list import appeals
from ledger.console.decisions import (
    Deciders,
    actor_words,
    field_error,
    listed,
    name_of,
    not_found,
    parse_day,
    refusal_words,
    rehearse,
    status_of,
)
from ledger.console.frame import FieldError, long_date, render
from ledger.console.pages import done
from ledger.console.session import Committee, ConsoleUser, Form, FormFields
from ledger.domain.actors import Role
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import DomainError, InvalidCommand
from ledger.views import lists
from ledger.views.queries import QueryError

router = APIRouter()

PAGE_SIZE = 50
KINDS = (("", "Any kind"), *KIND_WORDS.items())
STATUSES = (
    ("", "Any status"),
    ("valid", "Valid"),
    ("suspended", "Suspended"),
    ("revoked", "Revoked"),
    ("expired", "Expired"),
)


def _today(app: AppState) -> date:
    return app.runtime.clock.now().date()


def _normal(certificate_id: str) -> str | None:
    try:
        return parse_certificate_id(certificate_id)[1]
    except InvalidCommand:
        return None


# -- the register ------------------------------------------------------------------------------


@router.get("/console/licences")
def register(
    request: Request,
    user: Deciders,
    app: State,
    kind: str = "",
    status: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """Every certificate, by kind and status today, a page at a time, with its holder's name."""
    errors: list[FieldError] = []
    if kind not in dict(KINDS):
        errors.append(FieldError("kind", "Choose a kind of certificate from the list"))
    if status not in dict(STATUSES):
        errors.append(FieldError("status", "Choose a status from the list"))
    page = lists.Page([], 0, None)
    if not errors:
        wanted = lists.CertificateFilter(kind=kind or None, status=status or None)
        try:
            page = lists.certificates(
                app.runtime.queries,
                _today(app),
                wanted,
                limit=PAGE_SIZE,
                cursor=cursor or None,
            )
        except QueryError as refused:
            errors.append(
                FieldError("kind", f"This page of the list has expired: {refused.detail}")
            )
    service = app.runtime.service
    names: dict[str, str] = {}
    for item in page.items:
        holder = item["holder_id"]
        names.setdefault(holder, name_of(service, holder))
    return render(
        request,
        "certificates_list.html",
        title="Certificates",
        status=422 if errors else 200,
        errors=errors,
        page=page,
        names=names,
        kind=kind,
        status_wanted=status,
        kinds=KINDS,
        statuses=STATUSES,
    )


# -- one certificate ---------------------------------------------------------------------------


@router.get("/console/certificates/{certificate_id}")
def certificate(request: Request, certificate_id: str, user: Deciders, app: State) -> HTMLResponse:
    """The certificate's facts, status, evidence (each piece a log position), decisions, the
    link a third party verifies it with, and the acts the signed-in person may take."""
    normal = _normal(certificate_id)
    found = None if normal is None else app.runtime.queries.certificate_status(normal, _today(app))
    if normal is None or found is None or found["facts"] is None:
        return not_found(request, "certificate", certificate_id)
    service = app.runtime.service
    facts = found["facts"]
    cert = service.certificate(normal)
    deciders = {d.version: d.decided_by for d in cert.decisions}
    decisions = [
        {
            "what": EVENT_WORDS.get(kind, kind),
            "on": on,
            "position": position,
            "by": actor_words(service, deciders.get(version, "")),
        }
        for version, position, kind, on in facts["events"]
    ]
    programme = None
    if facts.get("programme"):
        row = app.runtime.queries.row("programme_roster", "programmes", facts["programme"])
        programme = {
            "id": facts["programme"],
            "title": (row or {}).get("title", facts["programme"]),
        }
    return render(
        request,
        "certificates_page.html",
        title=f"{KIND_WORDS[facts['kind']]} {normal}",
        certificate_id=normal,
        found=found,
        facts=facts,
        kind_words=KIND_WORDS[facts["kind"]],
        holder=name_of(service, facts["holder"]),
        programme=programme,
        evidence=_evidence(facts),
        decisions=decisions,
        offers=_offers(app, user, normal, facts["kind"]),
        committee=user.role is Role.COMMITTEE,
        may_lodge=user.role in (Role.ADMIN, Role.REGISTRAR),
        appeals=appeals(app.runtime.queries, normal),
    )


def _evidence(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """The evidence chain in words, each piece with the log positions of its records."""
    evidence = facts.get("evidence") or {}
    rows: list[dict[str, Any]] = []

    def add(label: str, text: str, positions: list[int], link: str | None = None) -> None:
        rows.append({"label": label, "text": text, "positions": positions, "link": link})

    if facts["kind"] == "associate_trainer":
        if evidence.get("enrolment") is not None:
            add("Enrolment", "enrolled in the programme", [evidence["enrolment"]])
        attendance = evidence.get("attendance") or {}
        weeks = int(attendance.get("weeks", 0))
        add(
            "Attendance",
            f"{weeks} in-class week{'s' if weeks != 1 else ''} attended",
            list(attendance.get("positions", [])),
        )
        sign_off = evidence.get("sign_off")
        add(
            "Field project",
            "signed off by its tutor" if sign_off is not None else "sign-off withdrawn since",
            [] if sign_off is None else [sign_off],
        )
        for fix in evidence.get("corrections", []):
            state = "attended" if fix["attended"] else "absent"
            add(
                "Correction",
                f"week {fix['week']} corrected to {state} ({long_date(fix['on'])})",
                [fix["position"]],
            )
    elif facts["kind"] == "licence":
        qualification = evidence.get("qualification")
        if qualification:
            add(
                "Qualification",
                f"Associate Trainer {qualification}",
                [],
                f"/console/certificates/{qualification}",
            )
        courses = list(evidence.get("courses", []))
        add(
            "Courses counted",
            f"{len(courses)} local course{'s' if len(courses) != 1 else ''}",
            courses,
        )
    else:
        licence = evidence.get("licence")
        if licence:
            add("Licence", f"Licence {licence}", [], f"/console/certificates/{licence}")
        full = list(evidence.get("full_programmes", []))
        add(
            "Full programmes counted",
            f"{len(full)} full programme{'s' if len(full) != 1 else ''}",
            full,
        )
    if evidence.get("decision") is not None:
        add("Decision", "the committee's decision", [evidence["decision"]])
    return rows


def _offers(
    app: AppState, user: ConsoleUser, certificate_id: str, kind: str
) -> list[dict[str, Any]]:
    """The acts on a certificate of `kind`, each offered or not, with the reason in words."""
    if user.role is not Role.COMMITTEE:
        return []
    service, today = app.runtime.service, _today(app)
    offers = []
    for act in acts_for(kind):

        def attempt(s: Any, act: Act = act) -> Any:
            return act.run(s, user.actor, certificate_id, act.sample(s, certificate_id, today))

        tried = rehearse(service, attempt)
        offers.append(
            {
                "act": act,
                "href": f"/console/certificates/{certificate_id}/{act.slug}",
                "refusal": None
                if tried.refusal is None
                else refusal_words(tried.refusal, user.person_id),
            }
        )
    return offers


# -- acts: form, check your answers, the act -------------------------------------------------


def _act_of(slug: str, kind: str) -> Act | None:
    act = ACTS.get(slug)
    return act if act is not None and act.kind == kind else None


def _defaults(app: AppState, act: Act, certificate_id: str) -> dict[str, Any]:
    """What the form shows first: today, and for a grant the holder's region and the newest
    edition of the material; for a reduction, the whole current scope ticked."""
    service = app.runtime.service
    values: dict[str, Any] = {"on": _today(app).isoformat(), "reason": "", "until": ""}
    if act.slug == "grant-licence":
        cert = service.certificate(certificate_id)
        versions = sorted(service.published_versions())
        values.update(
            regions=service.person(cert.holder_id).region or "",
            languages="",
            material_version=versions[-1] if versions else "",
        )
    elif act.slug == "reduce-scope":
        licence = service.licence(certificate_id)
        values.update(regions=list(licence.regions), languages=list(licence.languages))
    return values


def _typed(form: FormFields, act: Act) -> dict[str, Any]:
    """The form's values as typed, to show again."""
    if act.slug == "reduce-scope":
        regions: Any = form.getlist("regions")
        languages: Any = form.getlist("languages")
    else:
        regions = ", ".join(listed(",".join(form.getlist("regions"))))
        languages = ", ".join(listed(",".join(form.getlist("languages"))))
    return {
        "on": form.get("on"),
        "regions": regions,
        "languages": languages,
        "material_version": form.get("material_version"),
        "reason": form.get("reason"),
        "until": form.get("until"),
    }


def _answers(
    form: FormFields, act: Act, today: date, published: list[str]
) -> tuple[Answers | None, list[FieldError]]:
    """The form's answers, or what is wrong with them (the rule named where a rule asks)."""
    problems: list[FieldError] = []
    on = parse_day(form.get("on"), today)
    if on is None:
        problems.append(FieldError("on", "Enter the date of effect as YYYY-MM-DD, like 2025-03-31"))
    if act.slug == "reduce-scope":
        regions = tuple(v.strip() for v in form.getlist("regions") if v.strip())
        languages = tuple(v.strip() for v in form.getlist("languages") if v.strip())
    else:
        regions = listed(",".join(form.getlist("regions")))
        languages = listed(",".join(form.getlist("languages")))
    reason = form.get("reason").strip()
    until = None
    if "regions" in act.asks and not regions:
        problems.append(FieldError("regions", "R5: name at least one region"))
    if "languages" in act.asks and not languages:
        problems.append(FieldError("languages", "R5: name at least one language"))
    version = form.get("material_version")
    if "material_version" in act.asks and version not in published:
        problems.append(
            FieldError("material_version", "R5: choose a published edition of the material")
        )
    if "reason" in act.asks and not reason:
        rule = f"{act.reason_rule}: e" if act.reason_rule else "E"
        problems.append(FieldError("reason", f"{rule}nter the reason"))
    if "until" in act.asks:
        until = parse_day(form.get("until"), today) if form.get("until").strip() else None
        if until is None:
            problems.append(
                FieldError("until", "R7: enter the date the suspension ends, like 2025-03-31")
            )
    if problems or on is None:
        return None, _ordered(problems, act)
    return Answers(on, regions, languages, version, reason, until), []


def _ordered(problems: list[FieldError], act: Act) -> list[FieldError]:
    """Errors in the order of the form's fields, as the error summary lists them."""
    order = [*act.asks, "on"]
    return sorted(problems, key=lambda p: order.index(p.field) if p.field in order else 99)


def _form_page(
    request: Request,
    app: AppState,
    user: ConsoleUser,
    act: Act,
    certificate_id: str,
    values: dict[str, Any],
    errors: list[FieldError],
    status: int = 200,
    refusal: str | None = None,
) -> HTMLResponse:
    service = app.runtime.service
    cert = service.certificate(certificate_id)
    return render(
        request,
        "certificates_act.html",
        title=act.title,
        status=status,
        errors=errors,
        act=act,
        certificate_id=certificate_id,
        holder=name_of(service, cert.holder_id),
        values=values,
        version_options=[(v, v) for v in sorted(service.published_versions())],
        scope=_scope(cert),
        refusal=refusal,
    )


def _scope(cert: Any) -> dict[str, list[str]]:
    return {
        "regions": list(getattr(cert, "regions", ())),
        "languages": list(getattr(cert, "languages", ())),
    }


def _check_page(
    request: Request,
    app: AppState,
    user: ConsoleUser,
    act: Act,
    certificate_id: str,
    answers: Answers,
    values: dict[str, Any],
    errors: list[FieldError],
    status: int = 200,
) -> HTMLResponse:
    """Check your answers: what the act will record, found by rehearsing it; with the
    reason it cannot be done instead of the button, when the rehearsal is refused."""
    service = app.runtime.service
    tried = rehearse(service, lambda s: act.run(s, user.actor, certificate_id, answers))
    refusal = None if tried.refusal is None else refusal_words(tried.refusal, user.person_id)
    rows = _summary(act, certificate_id, answers, tried.service, tried.receipt, service)
    return render(
        request,
        "certificates_check.html",
        title=f"Check before you {act.button[0].lower()}{act.button[1:]}",
        status=status,
        errors=errors,
        act=act,
        certificate_id=certificate_id,
        rows=rows,
        values=values,
        answers=answers,
        refusal=refusal,
    )


def _summary(
    act: Act,
    certificate_id: str,
    answers: Answers,
    after: Any,
    receipt: Any,
    before: Any,
) -> list[tuple[str, str]]:
    """The check-your-answers rows: the certificate, the holder, the answers, and what the act
    would record (read from the rehearsal's batch)."""
    cert = before.certificate(certificate_id)
    rows = [
        (KIND_WORDS[kind_of(cert)], certificate_id),
        ("Holder", name_of(before, cert.holder_id)),
    ]
    if act.slug == "grant-licence":
        rows += [
            ("Regions", ", ".join(answers.regions)),
            ("Languages", ", ".join(answers.languages)),
            ("Material version", answers.material_version),
        ]
        if receipt is not None:
            rows.append(("Valid until", long_date(after.licence(receipt.id).valid_until)))
    elif act.slug in ("renew", "renew-instructor"):
        rows.append(("Valid until now", long_date(cert.valid_until)))
        if receipt is not None:
            renewed = after.certificate(certificate_id)
            rows.append(("Valid until after renewal", long_date(renewed.valid_until)))
    elif act.slug == "suspend":
        rows += [("Reason", answers.reason), ("Suspended until", long_date(answers.until))]
    elif act.slug == "reinstate":
        current = cert.active_suspension(answers.on)
        if current is not None:
            rows.append(("Suspended until", long_date(current.until)))
    elif act.slug == "reduce-scope":
        rows += [
            ("Regions kept", ", ".join(answers.regions)),
            ("Languages kept", ", ".join(answers.languages)),
            ("Reason", answers.reason),
        ]
    elif act.slug in ("revoke", "revoke-instructor"):
        rows.append(("Reason", answers.reason))
    elif act.slug == "certify-instructor" and receipt is not None:
        rows.append(("Valid until", long_date(after.instructor(receipt.id).valid_until)))
    rows.append(("Date of effect", long_date(answers.on)))
    return rows


def _certificate_of(request: Request, certificate_id: str, slug: str, app: AppState) -> Any:
    """(normal id, act), or the 404 page when either names nothing."""
    normal = _normal(certificate_id)
    if normal is None:
        return None, None
    try:
        kind = kind_of(app.runtime.service.certificate(normal))
    except DomainError:
        return None, None
    return normal, _act_of(slug, kind)


@router.get("/console/certificates/{certificate_id}/{slug}")
def act_form(
    request: Request, certificate_id: str, slug: str, user: Committee, app: State
) -> HTMLResponse:
    """The act's form (or, for an act that asks only a date, its check page); the reason in
    words instead, when the signed-in member may not take it."""
    normal, act = _certificate_of(request, certificate_id, slug, app)
    if normal is None or act is None:
        return not_found(request, "certificate act", f"{certificate_id}/{slug}")
    service, today = app.runtime.service, _today(app)
    values = _defaults(app, act, normal)

    def attempt(s: Any) -> Any:
        return act.run(s, user.actor, normal, act.sample(s, normal, today))

    tried = rehearse(service, attempt)
    if tried.refusal is not None:
        refusal = refusal_words(tried.refusal, user.person_id)
        return _form_page(request, app, user, act, normal, values, [], refusal=refusal)
    if not act.asks:
        return _check_page(request, app, user, act, normal, Answers(today), values, [])
    return _form_page(request, app, user, act, normal, values, [])


@router.post("/console/certificates/{certificate_id}/{slug}/check")
def act_check(
    request: Request, certificate_id: str, slug: str, user: Committee, app: State, form: Form
) -> HTMLResponse:
    """The form's answers checked, then shown back with what the act will record."""
    normal, act = _certificate_of(request, certificate_id, slug, app)
    if normal is None or act is None:
        return not_found(request, "certificate act", f"{certificate_id}/{slug}")
    service = app.runtime.service
    values = _typed(form, act)
    answers, problems = _answers(form, act, _today(app), sorted(service.published_versions()))
    if answers is None:
        return _form_page(request, app, user, act, normal, values, problems, 422)
    tried = rehearse(service, lambda s: act.run(s, user.actor, normal, answers))
    if tried.refusal is not None:
        problem = field_error(tried.refusal, act.first_field, user.person_id, act.rule_fields)
        return _form_page(
            request, app, user, act, normal, values, [problem], status_of(tried.refusal)
        )
    return _check_page(request, app, user, act, normal, answers, values, [])


@router.post("/console/certificates/{certificate_id}/{slug}")
def take_act(
    request: Request, certificate_id: str, slug: str, user: Committee, app: State, form: Form
) -> Response:
    """The act, confirmed: recorded, or refused naming the rule (and nothing written)."""
    normal, act = _certificate_of(request, certificate_id, slug, app)
    if normal is None or act is None:
        return not_found(request, "certificate act", f"{certificate_id}/{slug}")
    service = app.runtime.service
    values = _typed(form, act)
    if form.get("change"):
        return _form_page(request, app, user, act, normal, values, [])
    answers, problems = _answers(form, act, _today(app), sorted(service.published_versions()))
    if answers is None:
        if act.asks:
            return _form_page(request, app, user, act, normal, values, problems, 422)
        return _check_page(
            request, app, user, act, normal, Answers(_today(app)), values, problems, 422
        )
    try:
        receipt = act.run(service, user.actor, normal, answers)
    except DomainError as refused:
        problem = field_error(refused, act.first_field, user.person_id, act.rule_fields)
        if act.asks:
            return _form_page(
                request, app, user, act, normal, values, [problem], status_of(refused)
            )
        return _check_page(
            request, app, user, act, normal, answers, values, [problem], status_of(refused)
        )
    shown = receipt.id if act.issues else normal
    said = act.done.format(id=shown) + f", with effect from {long_date(answers.on)}."
    return done(request, app, receipt, said, f"/console/certificates/{shown}")
