"""Console pages: the acts on a person, one small page each: record a course delivered, retract
one (refused, naming the rule and the decision, once a licence counted it), mark the person as
a duplicate of another (with a page to check the answers first), hide or show their name on
public pages, list them in the public register or not, and erase their personal data
(administrators only; a page to check the answers warns that it cannot be undone).

Every form is Post/Redirect/Get: done, the person's page says so; refused, the form comes
back with the reason beside the field it concerns and in the error summary. An act the role
may not take is not offered, and a page of it answers 403 to that role."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ledger.api.deps import AppState, State
from ledger.console.decisions import in_words, rehearse
from ledger.console.frame import FieldError, render
from ledger.console.pages import done
from ledger.console.people_finder import find_people
from ledger.console.people_forms import (
    Field,
    Unanswered,
    refusal,
    status_of,
    typed_date,
    whole_number,
)
from ledger.console.session import (
    Admin,
    ConsoleRefusal,
    Form,
    FormFields,
    Registrar,
)
from ledger.console.timeline import ERASURE_GROUNDS
from ledger.domain.errors import DomainError, InvalidCommand, NotFound
from ledger.domain.person import ERASURE_REASONS, Delivery, Person
from ledger.service import Receipt

router = APIRouter()

BASE = "/console/people/{person_id}"
FOUND = 10
"""People shown to choose from when marking a duplicate."""

COURSE = {
    "delivered_on": Field("delivered_on", "Date delivered"),
    "region": Field("region", "Region"),
    "participants": Field("participants", "Number of participants"),
    "observed_by": Field("observed_by", "Observed by"),
}
REASON = {"reason": Field("reason", "Reason")}
DUPLICATE = {"kept": Field("kept", "Person kept"), **REASON}


def person_of(app: AppState, person_id: str) -> Person:
    try:
        return app.runtime.service.person(person_id)
    except (NotFound, InvalidCommand):
        raise ConsoleRefusal(
            404, "There is no person with this id.", title="Person not found"
        ) from None


# -- a course delivered -------------------------------------------------------------------------


def _course_page(
    request: Request,
    person: Person,
    answers: dict[str, str],
    errors: list[FieldError] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "people_course.html",
        title="Record a course delivered",
        status=status,
        errors=errors or [],
        person=person,
        answers=answers,
    )


@router.get(f"{BASE}/courses/new")
def course_form(request: Request, person_id: str, user: Registrar, app: State) -> Response:
    return _course_page(request, person_of(app, person_id), {})


@router.post(f"{BASE}/courses/new")
def record_course(
    request: Request, person_id: str, user: Registrar, app: State, form: Form
) -> Response:
    person = person_of(app, person_id)
    answers = {name: form.get(name).strip() for name in (*COURSE, "full_programme")}
    try:
        delivered_on = typed_date(answers["delivered_on"], COURSE["delivered_on"])
        participants = whole_number(answers["participants"], COURSE["participants"])
        receipt = app.runtime.service.record_course(
            user.actor,
            person_id,
            delivered_on,
            answers["region"],
            participants,
            full_programme=answers["full_programme"] == "yes",
            observed_by=answers["observed_by"] or None,
        )
    except Unanswered as unanswered:
        return _course_page(request, person, answers, [unanswered.error], 422)
    except DomainError as refused:
        errors = refusal(refused, COURSE, "delivered_on")
        return _course_page(request, person, answers, errors, status_of(refused))
    return done(request, app, receipt, "Course recorded.", f"/console/people/{person_id}")


# -- a course retracted -------------------------------------------------------------------------


def _retraction_page(
    request: Request,
    person: Person,
    course: Delivery,
    reason: str,
    errors: list[FieldError],
    status: int,
    blocked: bool,
) -> Response:
    return render(
        request,
        "people_retraction.html",
        title="Retract a course",
        status=status,
        errors=errors,
        person=person,
        course=course,
        reason=reason,
        blocked=blocked,
    )


def _course(person: Person, delivery_id: str) -> Delivery:
    found = person.delivery(delivery_id)
    if found is None:
        message = (
            "This course is already retracted."
            if delivery_id in person.retracted
            else "This person has no such course."
        )
        raise ConsoleRefusal(404, message, title="Course not found")
    return found


def _rule_error(refused: DomainError) -> tuple[list[FieldError], bool]:
    """A refusal of the retraction itself (a rule, the record's state) is shown at the course
    and the form is not offered again; an answer at fault, beside the reason."""
    if isinstance(refused, InvalidCommand) and refused.field == "reason":
        return refusal(refused, REASON, "reason"), False
    return [FieldError("course", in_words(refused))], True


@router.get(f"{BASE}/courses/{{delivery_id}}/retraction")
def retraction_form(
    request: Request, person_id: str, delivery_id: str, user: Registrar, app: State
) -> Response:
    """The course and a reason to give; when a decision counted the course, the rule and
    the decision instead (the retraction is rehearsed first, nothing written)."""
    person = person_of(app, person_id)
    course = _course(person, delivery_id)
    tried = rehearse(
        app.runtime.service,
        lambda s: s.retract_course(user.actor, person_id, delivery_id, "rehearsal"),
    )
    if tried.refusal is not None:
        errors, _ = _rule_error(tried.refusal)
        return _retraction_page(request, person, course, "", errors, 200, True)
    return _retraction_page(request, person, course, "", [], 200, False)


@router.post(f"{BASE}/courses/{{delivery_id}}/retraction")
def retract(
    request: Request, person_id: str, delivery_id: str, user: Registrar, app: State, form: Form
) -> Response:
    person = person_of(app, person_id)
    course = _course(person, delivery_id)
    reason = form.get("reason").strip()
    try:
        receipt = app.runtime.service.retract_course(user.actor, person_id, delivery_id, reason)
    except DomainError as refused:
        errors, blocked = _rule_error(refused)
        return _retraction_page(
            request, person, course, reason, errors, status_of(refused), blocked
        )
    return done(request, app, receipt, "Course retracted.", f"/console/people/{person_id}")


# -- marked as a duplicate ----------------------------------------------------------------------


def _candidates(app: AppState, person: Person, q: str) -> list[dict[str, object]]:
    """People found for `q` who could be the one kept (not this person, not erased)."""
    found = find_people(app, q, FOUND + 1)
    return [item for item in found if item["person_id"] != str(person.id)][:FOUND]


def _duplicate_page(
    request: Request,
    app: AppState,
    person: Person,
    q: str,
    kept: str = "",
    reason: str = "",
    errors: list[FieldError] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "people_duplicate.html",
        title="Mark as a duplicate",
        status=status,
        errors=errors or [],
        person=person,
        q=q,
        kept=kept,
        reason=reason,
        candidates=_candidates(app, person, q),
    )


@router.get(f"{BASE}/duplicate")
def duplicate_form(
    request: Request, person_id: str, user: Registrar, app: State, q: str = ""
) -> Response:
    """Find the person kept (the search of the people page), then give the reason."""
    return _duplicate_page(request, app, person_of(app, person_id), q.strip()[:200])


def _duplicate_answers(form: FormFields) -> tuple[str, str, str, list[FieldError]]:
    kept, reason, q = form.get("kept").strip(), form.get("reason").strip(), form.get("q").strip()
    errors = []
    if not kept:
        errors.append(FieldError("kept", "Choose the person to keep"))
    if not reason:
        errors.append(FieldError("reason", "Enter why these records are the same person"))
    return kept, reason, q, errors


@router.post(f"{BASE}/duplicate/check")
def check_duplicate(
    request: Request, person_id: str, user: Registrar, app: State, form: Form
) -> Response:
    """Check your answers: both people side by side and what marking does, once the marking
    was rehearsed (a refusal brings the form back with the reason)."""
    person = person_of(app, person_id)
    kept, reason, q, errors = _duplicate_answers(form)
    if errors:
        return _duplicate_page(request, app, person, q, kept, reason, errors, 422)
    tried = rehearse(
        app.runtime.service, lambda s: s.mark_duplicate(user.actor, person_id, kept, reason)
    )
    if tried.refusal is not None:
        errors = refusal(tried.refusal, DUPLICATE, "kept")
        return _duplicate_page(
            request, app, person, q, kept, reason, errors, status_of(tried.refusal)
        )
    return render(
        request,
        "people_duplicate_check.html",
        title="Check before marking as a duplicate",
        person=person,
        kept_person=app.runtime.service.person(kept),
        reason=reason,
        q=q,
    )


@router.post(f"{BASE}/duplicate")
def mark_duplicate(
    request: Request, person_id: str, user: Registrar, app: State, form: Form
) -> Response:
    person = person_of(app, person_id)
    kept, reason, q, errors = _duplicate_answers(form)
    if errors:
        return _duplicate_page(request, app, person, q, kept, reason, errors, 422)
    try:
        receipt = app.runtime.service.mark_duplicate(user.actor, person_id, kept, reason)
    except DomainError as refused:
        errors = refusal(refused, DUPLICATE, "kept")
        return _duplicate_page(request, app, person, q, kept, reason, errors, status_of(refused))
    return done(
        request,
        app,
        receipt,
        "Marked as a duplicate: the records now read as the kept person's.",
        f"/console/people/{kept}",
    )


# -- privacy choices ----------------------------------------------------------------------------


def _choice_page(
    request: Request,
    person: Person,
    kind: str,
    errors: list[FieldError] | None = None,
    status: int = 200,
) -> Response:
    if kind == "name":
        heading = "Name on public pages"
        now = "hidden on" if person.name_hidden else "shown on"
        value = "show" if person.name_hidden else "hide"
        button = "Show the name" if person.name_hidden else "Hide the name"
        explained = (
            "The verification page and the public register show a certificate holder's name"
            " unless it is hidden. The certificate itself stays valid either way."
        )
        state = f"The name is {now} public pages."
    else:
        heading = "Public register"
        value = "remove" if person.listed else "list"
        button = "Take off the public register" if person.listed else "List in the public register"
        explained = (
            "The public register lists valid certificates of holders who agreed to be listed."
            " Only list a person who asked for it."
        )
        state = (
            "This person is listed in the public register."
            if person.listed
            else "This person is not listed in the public register."
        )
    return render(
        request,
        "people_choice.html",
        title=heading,
        status=status,
        errors=errors or [],
        person=person,
        heading=heading,
        explained=explained,
        state=state,
        value=value,
        button=button,
        action=f"/console/people/{person.id}/{kind}",
    )


@router.get(f"{BASE}/name")
def name_form(request: Request, person_id: str, user: Registrar, app: State) -> Response:
    return _choice_page(request, person_of(app, person_id), "name")


def _choose(
    request: Request,
    app: AppState,
    person_id: str,
    kind: str,
    take: Callable[[], Receipt],
    said: str,
) -> Response:
    """Record a privacy choice; refused, its page comes back with the reason."""
    person = person_of(app, person_id)
    try:
        receipt = take()
    except DomainError as refused:
        errors = [FieldError("choice", in_words(refused))]
        return _choice_page(request, person, kind, errors, status_of(refused))
    return done(request, app, receipt, said, f"/console/people/{person_id}")


@router.post(f"{BASE}/name")
def name_visibility(
    request: Request, person_id: str, user: Registrar, app: State, form: Form
) -> Response:
    hidden = form.get("choice") == "hide"
    return _choose(
        request,
        app,
        person_id,
        "name",
        lambda: app.runtime.service.set_name_hidden(user.actor, person_id, hidden),
        "Name hidden on public pages." if hidden else "Name shown on public pages.",
    )


@router.get(f"{BASE}/listing")
def listing_form(request: Request, person_id: str, user: Registrar, app: State) -> Response:
    return _choice_page(request, person_of(app, person_id), "listing")


@router.post(f"{BASE}/listing")
def public_listing(
    request: Request, person_id: str, user: Registrar, app: State, form: Form
) -> Response:
    listed = form.get("choice") == "list"
    return _choose(
        request,
        app,
        person_id,
        "listing",
        lambda: app.runtime.service.set_public_listing(user.actor, person_id, listed),
        "Listed in the public register." if listed else "Taken off the public register.",
    )


# -- erasure ------------------------------------------------------------------------------------

GROUNDS = [(code, ERASURE_GROUNDS[code]) for code in ERASURE_REASONS]


def _erasure_page(
    request: Request,
    person: Person,
    reason: str = "",
    errors: list[FieldError] | None = None,
    status: int = 200,
) -> Response:
    if person.erased and not errors:
        errors = [FieldError("reason", "This person's personal data is already erased")]
        status = 409
    return render(
        request,
        "people_erasure.html",
        title="Erase personal data",
        status=status,
        errors=errors or [],
        person=person,
        reason=reason,
        grounds=GROUNDS,
    )


def _ground(form: FormFields) -> tuple[str, list[FieldError]]:
    reason = form.get("reason").strip()
    if reason not in ERASURE_REASONS:
        return reason, [FieldError("reason", "Choose why the personal data is erased")]
    return reason, []


@router.get(f"{BASE}/erasure")
def erasure_form(request: Request, person_id: str, user: Admin, app: State) -> Response:
    return _erasure_page(request, person_of(app, person_id))


@router.post(f"{BASE}/erasure/check")
def check_erasure(
    request: Request, person_id: str, user: Admin, app: State, form: Form
) -> Response:
    """Check your answers, with the warning that erasure cannot be undone."""
    person = person_of(app, person_id)
    reason, errors = _ground(form)
    if errors or person.erased:
        return _erasure_page(request, person, reason, errors, 422)
    return render(
        request,
        "people_erasure_check.html",
        title="Check before erasing personal data",
        person=person,
        reason=reason,
        grounds=dict(GROUNDS),
    )


@router.post(f"{BASE}/erasure")
def erase(request: Request, person_id: str, user: Admin, app: State, form: Form) -> Response:
    person = person_of(app, person_id)
    reason, errors = _ground(form)
    if errors:
        return _erasure_page(request, person, reason, errors, 422)
    try:
        receipt = app.runtime.service.erase_person(user.actor, person_id, reason)
    except DomainError as refused:
        status = status_of(refused)
        return _erasure_page(request, person, reason, refusal(refused, REASON, "reason"), status)
    return done(request, app, receipt, "Personal data erased.", f"/console/people/{person_id}")
