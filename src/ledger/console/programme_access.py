"""Who may do what on the programme pages, and the records a page is about (a 'not found'
page when there is none).

Acts are offered only to those who may take them; the service decides in the end, so a form
posted by someone else anyway is refused with the rule it breaks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ledger.api.deps import AppState
from ledger.console.programme_read import ProgrammeView, ProjectCard, find_project, programme_view
from ledger.console.session import ADMIN, REGISTRAR, TUTOR, ConsoleRefusal, ConsoleUser, roles

AttendanceTaker = Annotated[ConsoleUser, Depends(roles(ADMIN, REGISTRAR, TUTOR))]
"""Those who may record attendance: registrars and admins, and tutors where the programme's
policy lets them (the service checks the policy and that they tutor in the programme)."""

ProjectStaff = Annotated[ConsoleUser, Depends(roles(ADMIN, REGISTRAR, TUTOR))]
"""Those who act on a field project: the registrar keeps its team, its own tutor signs it off
(R3; the service refuses anyone else)."""


def keeps_records(user: ConsoleUser) -> bool:
    """Whether `user` keeps the programmes' records (registrars and admins)."""
    return user.role in (ADMIN, REGISTRAR)


def tutors(user: ConsoleUser, project: ProjectCard) -> bool:
    """Whether `user` is the project's own tutor (R3)."""
    return user.role is TUTOR and project.tutored_by(user.person_id)


def the_programme(app: AppState, programme_id: str) -> ProgrammeView:
    found = programme_view(app.runtime, programme_id)
    if found is None:
        raise ConsoleRefusal(404, "There is no programme with this id.", title="Page not found")
    return found


def the_project(app: AppState, project_id: str) -> ProjectCard:
    found = find_project(app.runtime, project_id)
    if found is None:
        raise ConsoleRefusal(404, "There is no field project with this id.", title="Page not found")
    return found
