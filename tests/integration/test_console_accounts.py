"""Console accounts, invitations, sessions and sign-in on both backends: argon2id hashes only,
one-time invitations, the second factor, per-account lockout, idle timeout, CSRF, sign-out and
cookie flags. The real application in-process (Starlette's test client) on the real database,
with the test's clock."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest

from ledger.clock import ManualClock
from ledger.config import Settings
from ledger.console.accounts import AccountError, Accounts
from ledger.console.invitations import InvitationError, Invitations
from ledger.console.totp import code_at
from ledger.domain.actors import Actor, Role
from ledger.runtime import Runtime, open_runtime
from tests.dumps import schema_dump

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

WRONG = "The username or password is wrong, or the account is locked for a while"
PASSWORD = "a long enough passphrase"
IDLE_MINUTES = 5
PROXY = "10.0.0.5"


@pytest.fixture
def console_runtime(settings: Settings, clock: ManualClock) -> Iterator[Runtime]:
    tuned = replace(
        settings,
        console_idle_minutes=IDLE_MINUTES,
        trusted_proxies=(ip_network(f"{PROXY}/32"),),
    )
    runtime = open_runtime(tuned, clock=clock)
    try:
        yield runtime
    finally:
        runtime.close()


@dataclass
class Console:
    """A browser-like client of the console: it keeps cookies and reads forms' CSRF tokens."""

    client: Any
    runtime: Runtime

    def token(self, path: str) -> str:
        page = self.client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
        assert found is not None, page.text[:500]
        return found.group(1)

    def sign_in(self, username: str, password: str) -> Any:
        return self.client.post(
            "/console/sign-in",
            data={
                "csrf_token": self.token("/console/sign-in"),
                "username": username,
                "password": password,
                "next": "/console/staff",
            },
            follow_redirects=False,
        )

    def enter_code(self, code: str) -> Any:
        page = self.client.get("/console/sign-in/code?next=/console/staff")
        found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
        assert found is not None, page.text[:500]
        return self.client.post(
            "/console/sign-in/code",
            data={"csrf_token": found.group(1), "code": code, "next": "/console/staff"},
            follow_redirects=False,
        )

    def opens_staff_page(self) -> bool:
        answer = self.client.get("/console/staff", follow_redirects=False)
        if answer.status_code == 200:
            return True
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/sign-in?next=")
        return False


def open_console(runtime: Runtime, **options: Any) -> Console:
    from ledger.api.app import create_app

    app = create_app(runtime, run_worker=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = TestClient(app, **options)
    return Console(client, runtime)


@pytest.fixture
def console(console_runtime: Runtime) -> Console:
    return open_console(console_runtime)


@pytest.fixture
def accounts(console_runtime: Runtime, clock: ManualClock) -> Accounts:
    return Accounts(console_runtime.db, clock.now)


def database_bytes(settings: Settings) -> bytes:
    """Every byte the database holds: the SQLite files, or a PostgreSQL dump."""
    if settings.database_url is None:
        return b"".join(
            p.read_bytes() for p in sorted(Path(settings.data_dir).glob("*")) if p.is_file()
        )
    return schema_dump(settings.database_url, data_only=True)


def stored_hashes(runtime: Runtime) -> list[str]:
    with runtime.db.read() as tx:
        rows = tx.execute(f"SELECT password_hash FROM {runtime.db.table('console_accounts')}")
        return [row[0] for row in rows.fetchall()]


def count(runtime: Runtime, table: str) -> int:
    with runtime.db.read() as tx:
        return int(tx.execute(f"SELECT count(*) FROM {runtime.db.table(table)}").fetchone()[0])


# --- accounts and passwords ---------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes_only(
    console_runtime: Runtime, accounts: Accounts
) -> None:
    secret = "Quite-Secret-Passphrase-4711"
    staff_id = accounts.create("Registrar.One", Role.REGISTRAR, None, secret)
    assert re.fullmatch(r"staff-[0-9a-f]{16}", staff_id)
    [stored] = stored_hashes(console_runtime)
    assert stored.startswith("$argon2id$")
    console_runtime.db.checkpoint_wal()
    assert secret.encode() not in database_bytes(console_runtime.settings)


def test_usernames_are_unique_whatever_their_case(accounts: Accounts) -> None:
    accounts.create("Registrar.One", Role.REGISTRAR, None, PASSWORD)
    with pytest.raises(AccountError, match="taken"):
        accounts.create("registrar.ONE", Role.ADMIN, None, PASSWORD)
    found = accounts.by_username("REGISTRAR.one")
    assert found is not None
    assert found.username == "Registrar.One"


def test_tutors_and_committee_members_must_name_their_person(accounts: Accounts) -> None:
    for role in (Role.TUTOR, Role.COMMITTEE):
        with pytest.raises(AccountError, match="must name the person") as refused:
            accounts.create(f"someone-{role}", role, None, PASSWORD)
        assert refused.value.field == "person_id"
    with pytest.raises(AccountError, match="UUID"):
        accounts.create("tutor", Role.TUTOR, "not-a-uuid", PASSWORD)


def test_a_short_password_or_the_username_as_password_is_refused(accounts: Accounts) -> None:
    with pytest.raises(AccountError, match="at least 12 characters"):
        accounts.create("registrar", Role.REGISTRAR, None, "short")
    with pytest.raises(AccountError, match="must not be the username"):
        accounts.create("registrar.long", Role.REGISTRAR, None, "REGISTRAR.LONG")


# --- invitations ----------------------------------------------------------------------------------


def test_an_invitation_is_used_once_only(
    console_runtime: Runtime, accounts: Accounts, clock: ManualClock
) -> None:
    invitations = Invitations(console_runtime.db, accounts, clock.now)
    token = invitations.invite(Role.REGISTRAR, None, "reg", invited_by="staff-0000000000000000")
    staff_id = invitations.accept(token, "reg", PASSWORD)
    account = accounts.by_staff_id(staff_id)
    assert account is not None
    assert account.role is Role.REGISTRAR
    with pytest.raises(InvitationError, match="used already"):
        invitations.accept(token, "reg-again", PASSWORD)
    assert accounts.by_username("reg-again") is None
    with console_runtime.db.read() as tx:
        kept = [
            r[0]
            for r in tx.execute(
                f"SELECT token_hash FROM {console_runtime.db.table('console_invitations')}"
            ).fetchall()
        ]
    assert token not in kept  # only its hash


def test_an_invitation_expires(
    console_runtime: Runtime, accounts: Accounts, clock: ManualClock
) -> None:
    invitations = Invitations(console_runtime.db, accounts, clock.now)
    token = invitations.invite(Role.AUDITOR, None, invited_by="command line")
    clock.advance(timedelta(days=7, seconds=1))
    with pytest.raises(InvitationError, match="expired"):
        invitations.accept(token, "auditor", PASSWORD)
    assert accounts.all() == []


def test_accepting_an_invitation_in_the_browser_sets_password_and_second_factor(
    console: Console, accounts: Accounts, clock: ManualClock
) -> None:
    admin = open_console(console.runtime)
    accounts.create("admin.one", Role.ADMIN, None, PASSWORD)
    assert admin.sign_in("admin.one", PASSWORD).status_code == 303
    made = admin.client.post(
        "/console/staff/invitations",
        data={"csrf_token": admin.token("/console/staff"), "role": "registrar", "username": ""},
    )
    assert made.status_code == 201
    link = re.search(r'value="(http[^"]+/console/invitation/[^"]+)"', made.text)
    assert link is not None
    path = link.group(1).split("127.0.0.1:8000", 1)[1]
    page = console.client.get(path)
    secret = re.search(r'name="totp_secret" value="([A-Z2-7]+)"', page.text)
    assert page.status_code == 200
    assert secret is not None
    assert "<svg" in page.text
    answer = console.client.post(
        path,
        data={
            "csrf_token": console.token(path),
            "totp_secret": secret.group(1),
            "username": "Reg.Two",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "code": code_at(secret.group(1), clock.now()),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    account = accounts.by_username("reg.two")
    assert account is not None
    assert account.has_totp
    assert console.client.get(path).status_code == 410  # used once
    with console.runtime.db.read() as tx:
        wrapped = tx.execute(
            f"SELECT totp_secret FROM {console.runtime.db.table('console_accounts')}"
            " WHERE staff_id = ?",
            (account.staff_id,),
        ).fetchone()[0]
    assert secret.group(1) not in wrapped
    console.runtime.db.checkpoint_wal()
    assert secret.group(1).encode() not in database_bytes(console.runtime.settings)


# --- signing in -----------------------------------------------------------------------------------


def test_the_second_factor_is_required_when_set(
    console: Console, accounts: Accounts, clock: ManualClock
) -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    accounts.create(
        "committee.one",
        Role.COMMITTEE,
        "6b1d3c2e-5f4a-4b3c-9d8e-7f6a5b4c3d2e",
        PASSWORD,
        totp_secret=secret,
    )
    answer = console.sign_in("committee.one", PASSWORD)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/sign-in/code")
    assert not console.opens_staff_page()  # a password alone opens nothing
    wrong = console.enter_code("000000" if code_at(secret, clock.now()) != "000000" else "111111")
    assert wrong.status_code == 401
    right = console.enter_code(code_at(secret, clock.now()))
    assert right.status_code == 303
    assert right.headers["location"] == "/console/staff"
    answer = console.client.get("/console/staff", follow_redirects=False)
    assert answer.status_code == 403  # signed in, but a committee member is no admin


def test_a_code_works_once(console: Console, accounts: Accounts, clock: ManualClock) -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    accounts.create("admin.two", Role.ADMIN, None, PASSWORD, totp_secret=secret)
    console.sign_in("admin.two", PASSWORD)
    code = code_at(secret, clock.now())
    assert console.enter_code(code).status_code == 303
    other = open_console(console.runtime)
    other.sign_in("admin.two", PASSWORD)
    assert other.enter_code(code).status_code == 401


def test_a_locked_account_answers_like_a_wrong_password_and_locks_no_other(
    console: Console, accounts: Accounts, clock: ManualClock
) -> None:
    accounts.create("registrar.a", Role.REGISTRAR, None, PASSWORD)
    accounts.create("admin.b", Role.ADMIN, None, PASSWORD)
    wrong_answers = [console.sign_in("registrar.a", f"wrong password {n}") for n in range(5)]
    assert {a.status_code for a in wrong_answers} == {401}
    locked = console.sign_in("registrar.a", PASSWORD)
    assert locked.status_code == wrong_answers[0].status_code
    assert WRONG in locked.text
    assert WRONG in wrong_answers[0].text
    unknown = console.sign_in("nobody.at.all", PASSWORD)
    assert unknown.status_code == 401
    assert WRONG in unknown.text
    other = open_console(console.runtime)
    assert other.sign_in("admin.b", PASSWORD).status_code == 303
    assert other.opens_staff_page()
    clock.advance(timedelta(minutes=16))
    assert console.sign_in("registrar.a", PASSWORD).status_code == 303


# --- sessions ---------------------------------------------------------------------------------------


def test_a_session_past_its_idle_timeout_is_refused(
    console: Console, accounts: Accounts, clock: ManualClock
) -> None:
    accounts.create("admin.c", Role.ADMIN, None, PASSWORD)
    console.sign_in("admin.c", PASSWORD)
    clock.advance(timedelta(minutes=IDLE_MINUTES - 1))
    assert console.opens_staff_page()  # activity restarts the idle clock
    clock.advance(timedelta(minutes=IDLE_MINUTES - 1))
    assert console.opens_staff_page()
    clock.advance(timedelta(minutes=IDLE_MINUTES + 1))
    assert not console.opens_staff_page()
    assert count(console.runtime, "console_sessions") == 0


def test_a_session_ends_after_twelve_hours_whatever_the_activity(
    console: Console, accounts: Accounts, clock: ManualClock
) -> None:
    accounts.create("admin.d", Role.ADMIN, None, PASSWORD)
    console.sign_in("admin.d", PASSWORD)
    step = timedelta(minutes=IDLE_MINUTES - 1)
    for _ in range(timedelta(hours=12) // step):  # never idle, up to 12 hours
        clock.advance(step)
        assert console.opens_staff_page()
    clock.advance(step)
    assert not console.opens_staff_page()


def test_signing_out_ends_the_session(console: Console, accounts: Accounts) -> None:
    accounts.create("admin.e", Role.ADMIN, None, PASSWORD)
    console.sign_in("admin.e", PASSWORD)
    cookie = console.client.cookies.get("ledger_session")
    out = console.client.post(
        "/console/sign-out",
        data={"csrf_token": console.token("/console/staff")},
        follow_redirects=False,
    )
    assert out.status_code == 303
    assert not console.opens_staff_page()
    replay = open_console(console.runtime)
    replay.client.cookies.set("ledger_session", cookie, path="/console")
    assert not replay.opens_staff_page()  # the old cookie opens nothing either


def test_a_disabled_account_can_no_longer_sign_in_and_its_sessions_end(
    console: Console, accounts: Accounts
) -> None:
    accounts.create("admin.f", Role.ADMIN, None, PASSWORD)
    staff_id = accounts.create("registrar.g", Role.REGISTRAR, None, PASSWORD)
    colleague = open_console(console.runtime)
    colleague.sign_in("registrar.g", PASSWORD)
    console.sign_in("admin.f", PASSWORD)
    done = console.client.post(
        f"/console/staff/{staff_id}/disable",
        data={"csrf_token": console.token(f"/console/staff/{staff_id}/disable")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "is disabled" in console.client.get("/console/staff").text
    assert colleague.client.get("/console/staff", follow_redirects=False).status_code == 303
    assert WRONG in colleague.sign_in("registrar.g", PASSWORD).text


# --- CSRF and cookies -------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "0" * 64])
def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(
    console: Console, accounts: Accounts, token: str | None
) -> None:
    accounts.create("admin.h", Role.ADMIN, None, PASSWORD)
    victim = accounts.create("registrar.h", Role.REGISTRAR, None, PASSWORD)
    console.sign_in("admin.h", PASSWORD)
    form = {"role": "registrar", "username": "forged"}
    if token is not None:
        form["csrf_token"] = token
    invited = console.client.post("/console/staff/invitations", data=form)
    assert invited.status_code == 403
    assert count(console.runtime, "console_invitations") == 0
    disabled = console.client.post(
        f"/console/staff/{victim}/disable", data={} if token is None else {"csrf_token": token}
    )
    assert disabled.status_code == 403
    account = accounts.by_staff_id(victim)
    assert account is not None
    assert not account.disabled


def test_a_csrf_token_of_another_session_is_refused(console: Console, accounts: Accounts) -> None:
    accounts.create("admin.i", Role.ADMIN, None, PASSWORD)
    console.sign_in("admin.i", PASSWORD)
    other = open_console(console.runtime)
    other.sign_in("admin.i", PASSWORD)
    theirs = other.token("/console/staff")
    answer = console.client.post(
        "/console/staff/invitations", data={"csrf_token": theirs, "role": "auditor"}
    )
    assert answer.status_code == 403
    assert count(console.runtime, "console_invitations") == 0


def test_a_sign_in_form_without_its_token_is_refused(console: Console, accounts: Accounts) -> None:
    accounts.create("admin.j", Role.ADMIN, None, PASSWORD)
    console.client.get("/console/sign-in")
    answer = console.client.post(
        "/console/sign-in",
        data={"username": "admin.j", "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "ledger_session" not in console.client.cookies


def test_the_session_cookie_is_httponly_strict_and_scoped_to_the_console(
    console: Console, accounts: Accounts
) -> None:
    accounts.create("admin.k", Role.ADMIN, None, PASSWORD)
    cookie = console.sign_in("admin.k", PASSWORD).headers["set-cookie"].lower()
    assert cookie.startswith("ledger_session=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/console" in cookie
    assert "secure" not in cookie  # plain HTTP (a local run): the browser would drop it


@pytest.mark.parametrize(
    ("options", "headers", "secure"),
    [
        ({"base_url": "https://ledger.example"}, {}, True),
        ({"client": (PROXY, 4000)}, {"X-Forwarded-Proto": "https"}, True),
        ({"client": ("192.0.2.9", 4000)}, {"X-Forwarded-Proto": "https"}, False),
    ],
    ids=["https", "https-behind-our-proxy", "header-from-a-stranger"],
)
def test_the_session_cookie_is_secure_behind_https(
    console_runtime: Runtime,
    accounts: Accounts,
    options: dict[str, Any],
    headers: dict[str, str],
    secure: bool,
) -> None:
    accounts.create("admin.l", Role.ADMIN, None, PASSWORD)
    console = open_console(console_runtime, **options)
    console.client.headers.update(headers)
    cookie = console.sign_in("admin.l", PASSWORD).headers["set-cookie"].lower()
    assert ("; secure" in cookie) is secure


# --- roles and the records ---------------------------------------------------------------------------


def test_only_administrators_open_the_staff_page(console: Console, accounts: Accounts) -> None:
    accounts.create("registrar.m", Role.REGISTRAR, None, PASSWORD)
    console.sign_in("registrar.m", PASSWORD)
    refused = console.client.get("/console/staff", follow_redirects=False)
    assert refused.status_code == 403


def test_console_accounts_are_in_the_administrators_staff_mapping(
    console: Console, accounts: Accounts
) -> None:
    staff_id = accounts.create("registrar.n", Role.REGISTRAR, None, PASSWORD)
    token = console.client.app.state.ledger.tokens.create("Ada Admin", Role.ADMIN)
    staff = console.client.get("/v1/staff", headers={"Authorization": f"Bearer {token}"}).json()[
        "staff"
    ]
    assert {"staff_id": staff_id, "name": "registrar.n", "role": "registrar"} in staff


def test_an_act_in_the_console_records_the_staff_id(
    console_runtime: Runtime, accounts: Accounts
) -> None:
    from ledger.console.session import ConsoleUser

    staff_id = accounts.create("registrar.o", Role.REGISTRAR, None, PASSWORD)
    account = accounts.by_staff_id(staff_id)
    assert account is not None
    assert ConsoleUser.of(account).actor == Actor(staff_id, Role.REGISTRAR)
    tutor = "6b1d3c2e-5f4a-4b3c-9d8e-7f6a5b4c3d2e"
    tutor_account = accounts.by_staff_id(accounts.create("tutor.p", Role.TUTOR, tutor, PASSWORD))
    assert tutor_account is not None
    assert ConsoleUser.of(tutor_account).actor == Actor(tutor, Role.TUTOR)


def test_the_command_line_invites_lists_and_disables(
    console_runtime: Runtime,
    accounts: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ledger.cli import main

    settings = console_runtime.settings
    monkeypatch.setenv("LEDGER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LEDGER_KEYS_DIR", str(settings.keys_dir))
    monkeypatch.setenv("LEDGER_ORIGIN", settings.origin)
    monkeypatch.setenv("LEDGER_PUBLIC_URL", "https://ledger.example")
    if settings.database_url:
        monkeypatch.setenv("LEDGER_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    assert main(["staff", "invite", "--role", "registrar", "--username", "reg.cli"]) == 0
    link = capsys.readouterr().out.strip()
    assert re.fullmatch(r"https://ledger\.example/console/invitation/[A-Za-z0-9_-]{43}", link)
    assert main(["staff", "invite", "--role", "tutor"]) == 1
    assert "must name the person" in capsys.readouterr().err
    accounts.create("reg.cli", Role.REGISTRAR, None, PASSWORD)
    assert main(["staff", "list"]) == 0
    listed = capsys.readouterr().out
    assert "reg.cli" in listed
    assert "active" in listed
    assert PASSWORD not in listed
    assert main(["staff", "disable", "REG.CLI"]) == 0
    found = accounts.by_username("reg.cli")
    assert found is not None
    assert found.disabled


def test_each_lockout_in_a_row_lasts_longer(
    console: Console, accounts: Accounts, clock: ManualClock
) -> None:
    accounts.create("registrar.q", Role.REGISTRAR, None, PASSWORD)
    for _ in range(5):
        console.sign_in("registrar.q", "a wrong password")
    clock.advance(timedelta(minutes=16))
    elsewhere = open_console(console.runtime, client=("192.0.2.45", 5000))  # not paused
    for _ in range(5):
        elsewhere.sign_in("registrar.q", "a wrong password again")
    clock.advance(timedelta(minutes=16))
    owner = open_console(console.runtime, client=("192.0.2.46", 5000))
    assert WRONG in owner.sign_in("registrar.q", PASSWORD).text  # the second lasts 30 minutes
    clock.advance(timedelta(minutes=15))
    assert owner.sign_in("registrar.q", PASSWORD).status_code == 303


def test_many_failures_from_one_client_pause_its_sign_ins(
    console: Console, accounts: Accounts
) -> None:
    accounts.create("admin.r", Role.ADMIN, None, PASSWORD)
    limit = console.runtime.settings.auth_failures_per_minute
    for n in range(limit):
        assert console.sign_in(f"guess.{n}", "a guessed password").status_code == 401
    paused = console.sign_in("admin.r", PASSWORD)
    assert paused.status_code == 429
    assert "try again in" in paused.text
    elsewhere = open_console(console.runtime, client=("192.0.2.44", 5000))
    assert elsewhere.sign_in("admin.r", PASSWORD).status_code == 303


@pytest.mark.parametrize("value", ["0", "721", "half an hour"])
def test_the_idle_timeout_setting_is_checked(value: str) -> None:
    from ledger.config import ConfigError

    with pytest.raises(ConfigError, match="LEDGER_CONSOLE_IDLE_MINUTES"):
        Settings.from_env({"LEDGER_CONSOLE_IDLE_MINUTES": value})
    assert Settings.from_env({}).console_idle_minutes == 30
