"""Demo data: the 1st "train the trainers" programme, recorded through the service layer.

Everything goes through `LedgerService` (no back door), so every rule R1 to R11 is checked while
the demo loads, exactly as for real data.

From the press release of 19 July 2013 (`seed/efce-press-release-2013-07-19.txt`): the programme
ran from December 2012 to July 2013 with 6 in-class weeks (10 modules, mostly in Barcelona, also
Linz and Brussels) and field projects coached by Foundation tutors; 31 participants from 19
European regions, proposed by consortia of the CIP Call 2011-2012, qualified as Associate
Trainers; the 13 field projects worked with the 13 cluster initiatives listed in `TEAMS`.

Invented for the demo (the public record is silent on them): every person (the names are
fictitious, the emails are under example.org), the organisations, the week dates and module
names, the team composition and tutors, the participants who did not qualify, and all the
later history: local courses, material version ECEI-2014, licences and their fates, an
Instructor Certification, an appeal and an erasure. That later history is dated relative to
`today`, so a demo loaded on any day after 2016 reads the same way: most licences valid, one
renewed, one suspended, one revoked, one expired.

The participants who did not qualify make the rules visible: the committee's award is attempted
and refused, and `DemoResult.refusals` keeps the rule's answer (R2: 4 of 6 weeks, one of them a
corrected attendance record; R4: withdrew in March 2013; R3: attended every week but joined no
field project, since the programme has exactly the 13 projects of the press release). One
project (Technical Textile, Galicia) shows R3's other side: returned for rework in June, then
signed off by its tutor in July. Tutors and committee members are registered people (an actor's
id is their person id), all of the Foundation, so R1 and R10 hold by construction.

Later history, with T = `today` (every licence follows a local course 30 days before its grant):

| licence of | granted | then | today |
|---|---|---|---|
| Lucía Arce Somavilla | 2014-05-12 | never renewed | expired (since 2016-05-12) |
| Desislava Krasteva | T-26 months | courses at +4, +13; renewed 30 days before expiry | valid |
| Sigrún Hallgrímsdóttir | T-20 months | full programme at +9; Instructor Certified at +14 | valid |
| Íñigo Ruiz Setién | T-18 months | suspended at +8 months, reinstated at +9 | valid |
| Burak Tekinalp | T-15 months | revoked T-21 days; appeal T-14 days, rejected T-3 days | revoked |
| Nemanja Stojiljković | T-11 months | suspended since T-12 days, for 3 months | suspended |
| six others | T-15 to T-2 months | a second course a month later | valid |

Three more Associate Trainers delivered a course (T-8, T-5 and T-3 months) and hold no licence
yet. Five licensed trainers opt in to the public register, one of them with the name hidden, and
the participant who withdrew has their personal data erased.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from ledger.domain.actors import Actor, Role
from ledger.domain.calendar import add_months
from ledger.domain.errors import Conflict, RuleViolation
from ledger.service import LedgerService

DEMO_PROGRAMME_TITLE = "1st train the trainers programme in Cluster Management Excellence"
PROGRAMME_STARTS = date(2012, 12, 3)
PROGRAMME_ENDS = date(2013, 7, 19)
PROGRAMME_MATERIAL = "ECEI-2012"
PROGRAMME_MATERIAL_TITLE = "European Cluster Management Excellence training material, 2012 edition"
PROGRAMME_MATERIAL_PUBLISHED = date(2012, 11, 5)
DEMO_MATERIAL_VERSION = "ECEI-2014"
DEMO_MATERIAL_TITLE = "European Cluster Management Excellence training material, 2014 edition"
DEMO_MATERIAL_PUBLISHED = date(2014, 1, 15)
CONSORTIUM = "CIP Call 2011-2012"
RETURNED_ON = date(2013, 6, 14)
SIGNED_OFF_ON = date(2013, 7, 17)
AWARDED_ON = date(2013, 7, 19)
EXPIRED_LICENCE_GRANTED = date(2014, 5, 12)
EARLIEST_TODAY = date(2017, 1, 1)
"""The later history needs `today` after 2016 (the expired licence ran from 2014 to 2016)."""

FOUNDATION = "European Foundation for Cluster Excellence"
# Staff act under pseudonymous staff ids, as through their API tokens (docs/privacy.md).
REGISTRAR = Actor("staff-7c1e5a9d3b2f4e60", Role.REGISTRAR)
DATA_PROTECTION = Actor("staff-2d8b6f0a4c9e1b73", Role.ADMIN)


# -- the programme -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    starts_on: date
    ends_on: date
    place: str
    modules: tuple[str, ...]


WEEKS: tuple[Week, ...] = (
    Week(
        date(2012, 12, 10),
        date(2012, 12, 14),
        "Barcelona",
        ("Cluster strategy", "Cluster analysis and mapping"),
    ),
    Week(
        date(2013, 1, 28),
        date(2013, 2, 1),
        "Barcelona",
        ("Cluster governance", "Cluster financing and business models"),
    ),
    Week(
        date(2013, 3, 11),
        date(2013, 3, 15),
        "Linz",
        ("Services to cluster members", "Cluster internationalisation"),
    ),
    Week(date(2013, 4, 22), date(2013, 4, 26), "Barcelona", ("Cluster performance evaluation",)),
    Week(date(2013, 6, 3), date(2013, 6, 7), "Brussels", ("Cluster policy",)),
    Week(
        date(2013, 7, 15),
        date(2013, 7, 19),
        "Barcelona",
        ("Cluster management excellence", "Training delivery and facilitation"),
    ),
)


# -- people --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    name: str
    region: str
    country: str
    organisation: str = FOUNDATION


TUTORS: tuple[Staff, ...] = (
    Staff("Montserrat Vilaró Pujol", "Catalonia", "Spain"),
    Staff("Ulrike Hafner", "Upper Austria", "Austria"),
    Staff("Pieter Van Daele", "Brussels", "Belgium"),
    Staff("Henrik Strandberg", "Västra Götaland", "Sweden"),
    Staff("Joana Ferraz Lobo", "Catalonia", "Spain"),
)

COMMITTEE_CHAIR = Staff("Ingrid Vasberg", "Oslo", "Norway")  # awards the qualifications
LICENSING_MEMBER = Staff("Rafael Esteve Colomer", "Catalonia", "Spain")  # licence decisions
APPEAL_PANEL_MEMBER = Staff("Katrin Oberholzer", "Upper Austria", "Austria")  # decides appeals
COMMITTEE: tuple[Staff, ...] = (COMMITTEE_CHAIR, LICENSING_MEMBER, APPEAL_PANEL_MEMBER)


class Outcome(StrEnum):
    """Whether the committee awards the qualification, else the rule that blocks it."""

    QUALIFIED = "qualified"
    TOO_FEW_WEEKS = "R2"
    NO_PROJECT = "R3"
    WITHDRAWN = "R4"


@dataclass(frozen=True)
class Withdrawal:
    on: date
    reason: str


@dataclass(frozen=True)
class Participant:
    name: str
    organisation: str
    region: str
    country: str
    absent: tuple[int, ...] = ()  # in-class weeks missed (recorded as absences)
    misrecorded: tuple[int, ...] = ()  # first recorded as attended by mistake, then corrected
    withdrawn: Withdrawal | None = None
    outcome: Outcome = Outcome.QUALIFIED


@dataclass(frozen=True)
class Team:
    """A field project: the cluster initiative (as the press release names it), its team."""

    initiative: str
    sector: str
    region: str
    country: str
    tutor: str
    members: tuple[Participant, ...]
    returned_for: str = ""  # why the tutor returned it for rework before signing it off


RDA = "Regional Development Agency"

TEAMS: tuple[Team, ...] = (
    Team(
        "Contract Manufacturing (furniture)",
        "Furniture",
        "Bulgaria",
        "Bulgaria",
        "Montserrat Vilaró Pujol",
        (
            Participant("Desislava Krasteva", f"Plovdiv {RDA}", "Plovdiv", "Bulgaria"),
            Participant("Bozhidar Nenkov", f"Plovdiv {RDA}", "Plovdiv", "Bulgaria"),
            Participant("Radostina Velcheva", "Ministry of Economy, Bulgaria", "Sofia", "Bulgaria"),
        ),
    ),
    Team(
        "Wicker",
        "Wicker and basketry",
        "Rzeszow",
        "Poland",
        "Ulrike Hafner",
        (
            Participant("Agnieszka Wróblewska", f"Podkarpackie {RDA}", "Podkarpackie", "Poland"),
            Participant(
                "Tomasz Pietruszka", f"Podkarpackie {RDA}", "Podkarpackie", "Poland", absent=(4,)
            ),
            Participant(
                "Marek Gąsiorek",
                f"Podkarpackie {RDA}",
                "Podkarpackie",
                "Poland",
                absent=(3, 6),
                misrecorded=(6,),
                outcome=Outcome.TOO_FEW_WEEKS,
            ),
        ),
    ),
    Team(
        "Gourmet Food",
        "Gourmet food",
        "Cantabria",
        "Spain",
        "Montserrat Vilaró Pujol",
        (
            Participant("Lucía Arce Somavilla", f"Cantabria {RDA}", "Cantabria", "Spain"),
            Participant("Íñigo Ruiz Setién", f"Cantabria {RDA}", "Cantabria", "Spain"),
            Participant("Marta Cobo Saiz", f"Cantabria {RDA}", "Cantabria", "Spain", absent=(2,)),
        ),
    ),
    Team(
        "Gourmet Food",
        "Gourmet food",
        "Asturias",
        "Spain",
        "Pieter Van Daele",
        (
            Participant("Xuan Fernández Llaneza", f"Asturias {RDA}", "Asturias", "Spain"),
            Participant(
                "Begoña Álvarez Cueto", f"Asturias {RDA}", "Asturias", "Spain", absent=(4,)
            ),
            Participant(
                "Rodrigo Menéndez Tuñón",
                f"Asturias {RDA}",
                "Asturias",
                "Spain",
                withdrawn=Withdrawal(
                    date(2013, 3, 1), "moved to a new post and could not continue the programme"
                ),
                outcome=Outcome.WITHDRAWN,
            ),
        ),
    ),
    Team(
        "Interior Design",
        "Interior design",
        "Croatia",
        "Croatia",
        "Montserrat Vilaró Pujol",
        (
            Participant(
                "Ivana Markulin", "Ministry of Entrepreneurship, Croatia", "Zagreb", "Croatia"
            ),
            Participant("Dario Šimunec", f"Zagreb {RDA}", "Zagreb", "Croatia"),
            Participant("Petra Jurišić Bego", f"Split-Dalmatia {RDA}", "Split-Dalmatia", "Croatia"),
        ),
    ),
    Team(
        "Microelectronics",
        "Microelectronics",
        "Greece",
        "Greece",
        "Pieter Van Daele",
        (
            Participant(
                "Eleni Papadaki-Rousou", "Ministry of Development, Greece", "Attica", "Greece"
            ),
            Participant(
                "Stavros Vrettakos",
                f"Central Macedonia {RDA}",
                "Central Macedonia",
                "Greece",
                absent=(5,),
            ),
        ),
    ),
    Team(
        "Microelectronics",
        "Microelectronics",
        "Serbia",
        "Serbia",
        "Ulrike Hafner",
        (
            Participant(
                "Jelena Radić Milovanović", "Ministry of Economy, Serbia", "Belgrade", "Serbia"
            ),
            Participant("Nemanja Stojiljković", f"Belgrade {RDA}", "Belgrade", "Serbia"),
            Participant("Vesna Kovačev", f"Vojvodina {RDA}", "Vojvodina", "Serbia"),
        ),
    ),
    Team(
        "Nature Tourism",
        "Nature tourism",
        "Northern Iceland",
        "Iceland",
        "Henrik Strandberg",
        (
            Participant(
                "Sigrún Hallgrímsdóttir", f"Northern Iceland {RDA}", "Northern Iceland", "Iceland"
            ),
            Participant(
                "Einar Þórólfsson",
                f"Northern Iceland {RDA}",
                "Northern Iceland",
                "Iceland",
                absent=(3,),
            ),
        ),
    ),
    Team(
        "Wedding Tourism",
        "Wedding tourism",
        "Killarney",
        "Ireland",
        "Henrik Strandberg",
        (
            Participant("Siobhán Ní Bhriain", f"Kerry {RDA}", "Kerry", "Ireland"),
            Participant("Declan Moriarty-Foley", f"Kerry {RDA}", "Kerry", "Ireland"),
        ),
    ),
    Team(
        "Agricultural Machinery",
        "Agricultural machinery",
        "Romania",
        "Romania",
        "Ulrike Hafner",
        (
            Participant(
                "Andreea Vlăduț", "Ministry of Economy, Romania", "Bucharest-Ilfov", "Romania"
            ),
            Participant("Cosmin Bărbulescu", f"Centru {RDA}", "Centru", "Romania"),
            Participant("Ioana Sârbu-Pop", f"Centru {RDA}", "Centru", "Romania", absent=(2,)),
        ),
    ),
    Team(
        "Clothing Design",
        "Clothing design",
        "Slovakia",
        "Slovakia",
        "Pieter Van Daele",
        (
            Participant(
                "Zuzana Hrušovská", "Ministry of Economy, Slovakia", "Bratislava", "Slovakia"
            ),
            Participant("Matej Kollárik", f"Kosice {RDA}", "Kosice", "Slovakia"),
        ),
    ),
    Team(
        "Technical Textile",
        "Technical textiles",
        "Galicia",
        "Spain",
        "Joana Ferraz Lobo",
        (
            Participant("Uxía Castro Rañó", f"Galicia {RDA}", "Galicia", "Spain"),
            Participant("Breixo Otero Lema", f"Galicia {RDA}", "Galicia", "Spain"),
        ),
        returned_for="the competitiveness diagnosis lacks interviews with member companies",
    ),
    Team(
        "Wedding Textile",
        "Wedding textiles",
        "Izmir",
        "Turkey",
        "Joana Ferraz Lobo",
        (
            Participant("Elif Sezgin Önal", "Izmir Development Agency", "Izmir", "Turkey"),
            Participant(
                "Burak Tekinalp", "Izmir Development Agency", "Izmir", "Turkey", absent=(5,)
            ),
        ),
    ),
)

UNASSIGNED: tuple[Participant, ...] = (
    # Attended every week, but the cluster initiative proposed for her field project pulled out
    # and she joined no team: R3 blocks the qualification.
    Participant(
        "Dimitra Sfakianaki", f"Attica {RDA}", "Attica", "Greece", outcome=Outcome.NO_PROJECT
    ),
)

TUTOR_OF = {member.name: team.tutor for team in TEAMS for member in team.members}

ERASED_PARTICIPANT = "Rodrigo Menéndez Tuñón"
ERASURE_REASON = "request"  # a code: the person asked (GDPR article 17(1))
MISRECORDED_REASON = "recorded as attended by mistake; the week's sign-in sheet shows an absence"


# -- later history (invented, dated relative to today) ------------------------------------------


class Fate(StrEnum):
    VALID = "valid"
    REINSTATED = "reinstated"  # suspended and reinstated in the past; valid today
    INSTRUCTOR = "instructor"  # valid, and its holder certified as Instructor
    RENEWED = "renewed"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"


STATUS_OF_FATE: dict[Fate, str] = {
    Fate.VALID: "valid",
    Fate.REINSTATED: "valid",
    Fate.INSTRUCTOR: "valid",
    Fate.RENEWED: "valid",
    Fate.SUSPENDED: "suspended",
    Fate.REVOKED: "revoked",
    Fate.EXPIRED: "expired",
}


@dataclass(frozen=True)
class LicencePlan:
    holder: str
    fate: Fate
    months_ago: int  # granted this many months before today (EXPIRED: granted in 2014)
    regions: tuple[str, ...]
    languages: tuple[str, ...]


LICENCES: tuple[LicencePlan, ...] = (
    LicencePlan("Lucía Arce Somavilla", Fate.EXPIRED, 0, ("Cantabria",), ("es", "en")),
    LicencePlan("Desislava Krasteva", Fate.RENEWED, 26, ("Plovdiv", "Sofia"), ("bg", "en")),
    LicencePlan("Sigrún Hallgrímsdóttir", Fate.INSTRUCTOR, 20, ("Northern Iceland",), ("is", "en")),
    LicencePlan("Íñigo Ruiz Setién", Fate.REINSTATED, 18, ("Cantabria",), ("es",)),
    LicencePlan("Zuzana Hrušovská", Fate.VALID, 15, ("Bratislava",), ("sk", "en")),
    LicencePlan("Burak Tekinalp", Fate.REVOKED, 15, ("Izmir",), ("tr", "en")),
    LicencePlan("Uxía Castro Rañó", Fate.VALID, 12, ("Galicia",), ("gl", "es")),
    LicencePlan("Nemanja Stojiljković", Fate.SUSPENDED, 11, ("Belgrade",), ("sr", "en")),
    LicencePlan("Cosmin Bărbulescu", Fate.VALID, 9, ("Centru",), ("ro",)),
    LicencePlan("Siobhán Ní Bhriain", Fate.VALID, 6, ("Kerry",), ("en", "ga")),
    LicencePlan("Ivana Markulin", Fate.VALID, 4, ("Zagreb", "Split-Dalmatia"), ("hr", "en")),
    LicencePlan("Agnieszka Wróblewska", Fate.VALID, 2, ("Podkarpackie",), ("pl", "en")),
)

# Associate Trainers who have started a local programme but hold no licence yet.
COURSES_ONLY: tuple[tuple[str, int], ...] = (
    ("Eleni Papadaki-Rousou", 8),
    ("Xuan Fernández Llaneza", 5),
    ("Matej Kollárik", 3),
)

LISTED = (
    "Desislava Krasteva",
    "Sigrún Hallgrímsdóttir",
    "Uxía Castro Rañó",
    "Siobhán Ní Bhriain",
    "Ivana Markulin",
)
NAME_HIDDEN = "Uxía Castro Rañó"

SUSPENSION_REASON = "complaint from course participants under review by the committee"
REVOCATION_REASON = "ran Foundation courses with unauthorised copies of the ECEI material"
APPEAL_GROUNDS = "the copies were printed by the host agency without the trainer's knowledge"
APPEAL_REASONING = "the trainer distributed the copies in person; the revocation stands"


# -- result --------------------------------------------------------------------------------------


@dataclass
class DemoResult:
    """What the demo made. `certificates` maps each status a verifier reads today to the
    certificates in it: the 31 Associate Trainer qualifications, the valid licences (the renewed
    and the reinstated one included) and the Instructor Certification are under "valid"."""

    programme_id: str
    person_ids: dict[str, str] = field(default_factory=dict)  # name -> person id (everyone)
    project_ids: dict[str, str] = field(default_factory=dict)  # "initiative, region" -> id
    qualified_ids: list[str] = field(default_factory=list)  # person ids of Associate Trainers
    qualifications: dict[str, str] = field(default_factory=dict)  # person id -> certificate id
    refusals: dict[str, str] = field(default_factory=dict)  # person id -> the rule's answer
    certificates: dict[str, list[str]] = field(
        default_factory=lambda: {"valid": [], "expired": [], "suspended": [], "revoked": []}
    )
    instructor_id: str = ""
    appeal_id: str = ""
    erased_person_id: str = ""


# -- loading -------------------------------------------------------------------------------------


def is_loaded(service: LedgerService) -> bool:
    """Whether the demo is in the store: the catalogue holds the demo's ECEI-2014 edition.

    `load_demo` publishes it once the programme is recorded, before the licences.
    """
    return service.published_versions().get(DEMO_MATERIAL_VERSION) == DEMO_MATERIAL_TITLE


def load_demo(service: LedgerService, today: date) -> DemoResult:
    """Record the demo; `today` is the service clock's date (or earlier), after 2016.

    Refuses (Conflict, writing nothing) when the demo, or another ECEI-2014, is already there.
    """
    if today < EARLIEST_TODAY:
        raise ValueError(f"the demo needs today on or after {EARLIEST_TODAY}, not {today}")
    if today > service.clock.now().date():
        raise ValueError(f"{today} is after the service clock's date")
    if is_loaded(service):
        raise Conflict("the demo is already loaded")
    if DEMO_MATERIAL_VERSION in service.published_versions():
        raise Conflict(f"material version {DEMO_MATERIAL_VERSION} is already published")

    people: dict[str, str] = {}
    for staff in (*TUTORS, *COMMITTEE):
        people[staff.name] = _register(
            service, staff.name, staff.organisation, staff.region, staff.country
        )
    if PROGRAMME_MATERIAL not in service.published_versions():
        service.publish_material(
            REGISTRAR, PROGRAMME_MATERIAL, PROGRAMME_MATERIAL_TITLE, on=PROGRAMME_MATERIAL_PUBLISHED
        )
    result = DemoResult(programme_id=_open_programme(service))
    result.person_ids = people
    _run_programme(service, result)
    _award(service, result)

    service.publish_material(
        REGISTRAR, DEMO_MATERIAL_VERSION, DEMO_MATERIAL_TITLE, on=DEMO_MATERIAL_PUBLISHED
    )
    for plan in LICENCES:
        _licence(service, result, plan, result.qualifications[people[plan.holder]], today)
    region_of = {member.name: member.region for member in _participants()}
    for name, months_ago in COURSES_ONLY:
        _course(service, people[name], add_months(today, -months_ago), region_of[name])
    for name in LISTED:
        service.set_public_listing(DATA_PROTECTION, people[name], True)
    service.set_name_hidden(DATA_PROTECTION, people[NAME_HIDDEN], True)

    result.erased_person_id = people[ERASED_PARTICIPANT]
    service.erase_person(DATA_PROTECTION, result.erased_person_id, ERASURE_REASON)
    return result


def _register(
    service: LedgerService, name: str, organisation: str, region: str, country: str
) -> str:
    return service.register_person(
        REGISTRAR, name, email_for(name), organisation, region, country
    ).id


_ASCII = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "\u0131": "i",
    }
)


def email_for(name: str) -> str:
    """A plausible address under example.org: `first.last@example.org`, in plain ASCII."""
    plain = unicodedata.normalize("NFKD", name.translate(_ASCII)).encode("ascii", "ignore")
    words = "".join(c if c.isalnum() else " " for c in plain.decode().lower()).split()
    return ".".join(words) + "@example.org"


def _open_programme(service: LedgerService) -> str:
    programme = service.open_programme(
        REGISTRAR, DEMO_PROGRAMME_TITLE, PROGRAMME_STARTS, PROGRAMME_ENDS, PROGRAMME_MATERIAL
    ).id
    for number, week in enumerate(WEEKS, start=1):
        service.schedule_week(
            REGISTRAR, programme, number, week.starts_on, week.ends_on, week.place, week.modules
        )
    return programme


def _run_programme(service: LedgerService, result: DemoResult) -> None:
    """Teams, enrolments, attendance, withdrawals and the tutors' sign-offs."""
    programme = result.programme_id
    for team in TEAMS:
        project = service.register_project(
            REGISTRAR, programme, team.initiative, team.sector, team.region, team.country
        ).id
        result.project_ids[f"{team.initiative}, {team.region}"] = project
        service.assign_tutor(REGISTRAR, project, result.person_ids[team.tutor])
        for member in team.members:
            person = _enrol(service, result, member)
            service.assign_member(REGISTRAR, project, person)
            _attend(service, programme, person, member)
    for member in UNASSIGNED:
        _attend(service, programme, _enrol(service, result, member), member)
    for team in TEAMS:
        tutor = Actor(result.person_ids[team.tutor], Role.TUTOR)
        project = result.project_ids[f"{team.initiative}, {team.region}"]
        if team.returned_for:
            service.return_project(tutor, project, team.returned_for, on=RETURNED_ON)
        service.sign_off(tutor, project, "methodology applied with the cluster", on=SIGNED_OFF_ON)


def _enrol(service: LedgerService, result: DemoResult, member: Participant) -> str:
    person = _register(service, member.name, member.organisation, member.region, member.country)
    result.person_ids[member.name] = person
    service.enrol(REGISTRAR, result.programme_id, person, consortium=CONSORTIUM)
    return person


def _attend(service: LedgerService, programme: str, person: str, member: Participant) -> None:
    for number, week in enumerate(WEEKS, start=1):
        if member.withdrawn is not None and week.starts_on >= member.withdrawn.on:
            break
        attended = number not in member.absent
        if number in member.misrecorded:
            service.record_attendance(REGISTRAR, programme, person, number, attended=not attended)
            service.correct_attendance(
                REGISTRAR, programme, person, number, attended, MISRECORDED_REASON
            )
            continue
        service.record_attendance(REGISTRAR, programme, person, number, attended=attended)
    if member.withdrawn is not None:
        service.withdraw(
            REGISTRAR, programme, person, member.withdrawn.reason, on=member.withdrawn.on
        )


def _award(service: LedgerService, result: DemoResult) -> None:
    """The committee's July 2013 decisions; the rules refuse those who do not qualify."""
    chair = Actor(result.person_ids[COMMITTEE_CHAIR.name], Role.COMMITTEE)
    for member in _participants():
        person = result.person_ids[member.name]
        try:
            certificate = service.award_qualification(
                chair, result.programme_id, person, on=AWARDED_ON
            ).id
        except RuleViolation as refused:
            if refused.rule != member.outcome.value:
                raise
            result.refusals[person] = str(refused)
            continue
        if member.outcome is not Outcome.QUALIFIED:
            raise AssertionError(f"{member.name} qualified, but {member.outcome} should block it")
        result.qualified_ids.append(person)
        result.qualifications[person] = certificate
        result.certificates["valid"].append(certificate)


def _participants() -> list[Participant]:
    return [*(m for team in TEAMS for m in team.members), *UNASSIGNED]


def _course(
    service: LedgerService,
    person: str,
    on: date,
    region: str,
    full_programme: bool = False,
    observed_by: str | None = None,
) -> None:
    participants = 8 + sum(map(ord, person + on.isoformat())) % 17  # stable, 8 to 24
    service.record_course(REGISTRAR, person, on, region, participants, full_programme, observed_by)


@dataclass(frozen=True)
class _Granted:
    """A licence just granted, and what its follow-up needs."""

    service: LedgerService
    result: DemoResult
    plan: LicencePlan
    licence: str
    granted: date
    today: date
    committee: Actor

    def course(self, months_after: int, full_programme: bool = False) -> None:
        """A local course delivered `months_after` the grant (observed, if a full programme)."""
        people = self.result.person_ids
        observer = people[TUTOR_OF[self.plan.holder]] if full_programme else None
        on = min(add_months(self.granted, months_after), self.today)
        _course(
            self.service,
            people[self.plan.holder],
            on,
            self.plan.regions[0],
            full_programme,
            observer,
        )


def _licence(
    service: LedgerService, result: DemoResult, plan: LicencePlan, qualification: str, today: date
) -> None:
    """Grant a licence after a first local course (R5), then follow it to its fate."""
    committee = Actor(result.person_ids[LICENSING_MEMBER.name], Role.COMMITTEE)
    if plan.fate is Fate.EXPIRED:
        granted = EXPIRED_LICENCE_GRANTED
    else:
        granted = add_months(today, -plan.months_ago)
    holder = result.person_ids[plan.holder]
    _course(service, holder, granted - timedelta(days=30), plan.regions[0])
    licence = service.grant_licence(
        committee, qualification, plan.regions, plan.languages, DEMO_MATERIAL_VERSION, on=granted
    ).id
    result.certificates[STATUS_OF_FATE[plan.fate]].append(licence)
    FOLLOW_UP[plan.fate](_Granted(service, result, plan, licence, granted, today, committee))


def _keep_teaching(it: _Granted) -> None:
    it.course(1)


def _never_renewed(it: _Granted) -> None:
    del it  # the holder stopped teaching; the licence lapsed two years after the grant


def _suspend_and_reinstate(it: _Granted) -> None:
    """R7: suspended eight months into the term, reinstated a month later (valid today)."""
    it.course(2)
    it.service.suspend_licence(
        it.committee,
        it.licence,
        "course records incomplete",
        add_months(it.granted, 11),
        on=add_months(it.granted, 8),
    )
    it.service.reinstate_licence(it.committee, it.licence, on=add_months(it.granted, 9))


def _certify_instructor(it: _Granted) -> None:
    """R9: a full programme delivered, the licence held 14 months, then certified."""
    it.course(3)
    it.course(9, full_programme=True)
    it.result.instructor_id = it.service.certify_instructor(
        it.committee, it.licence, on=add_months(it.granted, 14)
    ).id
    it.result.certificates["valid"].append(it.result.instructor_id)


def _renew(it: _Granted) -> None:
    """R6: two courses during the term, renewed 30 days before it would have expired."""
    it.course(4)
    it.course(13)
    expires = it.service.licence(it.licence).valid_until
    it.service.renew_licence(it.committee, it.licence, on=expires - timedelta(days=30))


def _suspend(it: _Granted) -> None:
    """R7: suspended 12 days ago for three months, so still suspended today."""
    it.course(1)
    start = it.today - timedelta(days=12)
    it.service.suspend_licence(
        it.committee, it.licence, SUSPENSION_REASON, add_months(start, 3), on=start
    )


def _revoke(it: _Granted) -> None:
    """R8: revoked 21 days ago, with a reason; then appealed (R11)."""
    it.course(1)
    it.service.revoke_licence(
        it.committee, it.licence, REVOCATION_REASON, on=it.today - timedelta(days=21)
    )
    it.result.appeal_id = _appeal(it.service, it.result, it.licence, it.today)


FOLLOW_UP: dict[Fate, Callable[[_Granted], None]] = {
    Fate.VALID: _keep_teaching,
    Fate.EXPIRED: _never_renewed,
    Fate.REINSTATED: _suspend_and_reinstate,
    Fate.INSTRUCTOR: _certify_instructor,
    Fate.RENEWED: _renew,
    Fate.SUSPENDED: _suspend,
    Fate.REVOKED: _revoke,
}


def _appeal(service: LedgerService, result: DemoResult, licence: str, today: date) -> str:
    """The holder appeals the revocation within 30 days; another committee member rejects it."""
    revocation = service.licence(licence).decisions[-1]
    appeal = service.lodge_appeal(
        REGISTRAR, licence, revocation.version, APPEAL_GROUNDS, on=today - timedelta(days=14)
    ).id
    panel = Actor(result.person_ids[APPEAL_PANEL_MEMBER.name], Role.COMMITTEE)
    service.decide_appeal(panel, appeal, "rejected", APPEAL_REASONING, on=today - timedelta(days=3))
    return appeal
