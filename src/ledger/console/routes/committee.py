"""Console pages of the certification committee: a programme's roster with what each
participant is missing, and the award of the Associate Trainer qualification with the rule
checks shown before it is confirmed (R2, R3, R4, R10). Certificates and appeals have their
own modules, included here."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledger.api.deps import AppState, State
from ledger.console.decisions import (
    Deciders,
    name_of,
    not_found,
    parse_day,
    refusal_words,
    rehearse,
    rule_of,
    status_of,
    written_out,
)
from ledger.console.frame import FieldError, long_date, render
from ledger.console.pages import done
from ledger.console.routes import appeals, certificates
from ledger.console.session import Committee, ConsoleUser, Form
from ledger.domain.actors import Role
from ledger.domain.errors import DomainError
from ledger.domain.folding import fold
from ledger.service import LedgerService, Receipt
from ledger.views.roster import describe_roster

router = APIRouter()
router.include_router(certificates.router)
router.include_router(appeals.router)

RULE_NAMES = {
    "R2": "Attendance",
    "R3": "Field project signed off by its tutor",
    "R4": "Active enrolment, awarded once",
    "R10": "Impartiality of the decision",
}


def _today(app: AppState) -> date:
    return app.runtime.clock.now().date()


@router.get("/console/programmes/{programme_id}/roster")
def roster(
    request: Request, programme_id: str, user: Deciders, app: State, as_of: str = ""
) -> HTMLResponse:
    """Every participant: weeks attended of those required, the field project and its
    sign-off, the certificate awarded, and what is missing in words; for the committee, the
    award of each eligible participant whom the signed-in member may decide on."""
    service = app.runtime.service
    errors: list[FieldError] = []
    day = parse_day(as_of, _today(app)) if as_of else None
    if as_of and day is None:
        errors.append(FieldError("as_of", "Enter the date as YYYY-MM-DD, like 2013-07-19"))
    found = describe_roster(
        app.runtime.queries, programme_id, day, lambda person: name_of(service, person)
    )
    if found is None:
        return not_found(request, "programme", programme_id)
    found["participants"] = sorted(
        (_dates_written_out(entry) for entry in found["participants"]),
        key=lambda entry: fold(entry["name"]),
    )
    offers: dict[str, str | None] = {}
    if user.role is Role.COMMITTEE and day is None:
        for entry in found["participants"]:
            if entry["eligible"] and entry["awarded"] is None:
                person: str = entry["person_id"]

                def award(s: LedgerService, person: str = person) -> Receipt:
                    return s.award_qualification(user.actor, programme_id, person)

                tried = rehearse(service, award)
                offers[person] = (
                    None if tried.refusal is None else refusal_words(tried.refusal, user.person_id)
                )
    return render(
        request,
        "roster_page.html",
        title=f"Roster of {found['title']}",
        status=422 if errors else 200,
        errors=errors,
        roster=found,
        offers=offers,
        as_of=as_of,
        committee=user.role is Role.COMMITTEE,
    )


def _dates_written_out(entry: dict[str, Any]) -> dict[str, Any]:
    """A roster entry whose sentences give their dates written out."""
    entry["missing"] = [written_out(sentence) for sentence in entry["missing"]]
    for rule in entry["rules"].values():
        rule["detail"] = written_out(rule["detail"])
    return entry


def _award_page(
    request: Request,
    app: AppState,
    user: ConsoleUser,
    programme_id: str,
    person_id: str,
    on: str,
    errors: list[FieldError],
    status: int = 200,
) -> HTMLResponse:
    service = app.runtime.service
    found = describe_roster(app.runtime.queries, programme_id)
    entry = None
    if found is not None:
        entry = next((e for e in found["participants"] if e["person_id"] == person_id), None)
    if found is None or entry is None:
        return not_found(request, "participant", person_id)
    entry = _dates_written_out(entry)
    tried = rehearse(service, lambda s: s.award_qualification(user.actor, programme_id, person_id))
    return render(
        request,
        "decisions_award.html",
        title="Check before you award Associate Trainer",
        status=status,
        errors=errors,
        programme=found,
        entry=entry,
        name=name_of(service, person_id),
        checks=_checks(entry, tried.refusal, user),
        refusal=None if tried.refusal is None else refusal_words(tried.refusal, user.person_id),
        on=on or _today(app).isoformat(),
    )


def _checks(entry: dict[str, Any], refusal: DomainError | None, user: ConsoleUser) -> list[Any]:
    """R2, R3, R4 as the roster words them, and R10 as the rehearsal found it: each met or
    not, in a sentence."""
    rules = entry["rules"]
    checks = [
        (rule, RULE_NAMES[rule], rules[rule]["met"], rules[rule]["detail"]) for rule in ("R2", "R3")
    ]
    awarded = entry["awarded"]
    if awarded is not None:
        r4 = (
            False,
            f"already awarded: {awarded['certificate_id']} on {long_date(awarded['on'])}",
        )
    elif not entry["active"]:
        r4 = (False, "the enrolment is withdrawn")
    else:
        r4 = (True, "the enrolment is active and nothing has been awarded for it yet")
    checks.append(("R4", RULE_NAMES["R4"], *r4))
    if rule_of(refusal) == "R10" and refusal is not None:
        r10 = (False, refusal_words(refusal, user.person_id).removeprefix("R10: "))
    else:
        r10 = (
            True,
            "you are not the participant, their project's tutor, nor a recorder of their"
            " attendance or sign-off",
        )
    checks.append(("R10", RULE_NAMES["R10"], *r10))
    return checks


@router.get("/console/programmes/{programme_id}/award/{person_id}")
def award_check(
    request: Request, programme_id: str, person_id: str, user: Committee, app: State
) -> HTMLResponse:
    """Check your answers before the award: each rule met or not, and the date of effect."""
    return _award_page(request, app, user, programme_id, person_id, "", [])


@router.post("/console/programmes/{programme_id}/award/{person_id}")
def award(
    request: Request,
    programme_id: str,
    person_id: str,
    user: Committee,
    app: State,
    form: Form,
) -> Response:
    """Award Associate Trainer (R4): refused, naming the rule, when the rules or
    impartiality (R10) do not allow it, even when posted without the button."""
    service = app.runtime.service
    typed = form.get("on")
    on = parse_day(typed, _today(app))
    if on is None:
        problem = FieldError("on", "Enter the date of effect as YYYY-MM-DD, like 2013-07-19")
        return _award_page(request, app, user, programme_id, person_id, typed, [problem], 422)
    try:
        receipt = service.award_qualification(user.actor, programme_id, person_id, on)
    except DomainError as refused:
        problem = FieldError("on", refusal_words(refused, user.person_id))
        return _award_page(
            request, app, user, programme_id, person_id, typed, [problem], status_of(refused)
        )
    said = (
        f"Associate Trainer {receipt.id} awarded to {name_of(service, person_id)}"
        f" with effect from {long_date(on)}."
    )
    return done(request, app, receipt, said, f"/console/programmes/{programme_id}/roster")
