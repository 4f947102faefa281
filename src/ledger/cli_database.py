"""One line, instead of a traceback, when a command cannot use the configured database or data
folder.

Every command that opens the ledger goes through `main`, which asks `database_problem` about an
error it did not expect. The storage library wraps the driver's errors, so the whole chain of
causes is searched. The line is built from the parsed URL, never from the driver's message, so a
password in LEDGER_DATABASE_URL cannot leak into it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import errors

from ledger.causes import chain
from ledger.config import ConfigError, Settings, parse_database_url


def database_problem(exc: BaseException, env: Mapping[str, str]) -> str | None:
    """Why the database configured in `env` cannot be used, or None if `exc` says nothing of it."""
    try:
        settings = Settings.from_env(env)
    except ConfigError:
        return None
    for cause in chain(exc):
        if settings.database_url is not None and isinstance(cause, psycopg.Error):
            problem = _postgres_problem(cause, settings.database_url)
            if problem is not None:
                return problem
        reason = _data_dir_failure(cause, settings.data_dir)
        if reason is not None:
            return (
                f"cannot use the data folder {settings.data_dir} ({reason}); LEDGER_DATA_DIR"
                " names it"
            )
    return None


def _data_dir_failure(cause: BaseException, data_dir: Path) -> str | None:
    if isinstance(cause, sqlite3.OperationalError) and "unable to open" in str(cause):
        return "the SQLite database cannot be opened"
    if not isinstance(cause, OSError) or not cause.filename:
        return None
    path = Path(os.fsdecode(cause.filename)).absolute()
    if path == data_dir.absolute() or data_dir.absolute() in path.parents:
        return (cause.strerror or "not usable").lower()
    return None


def _postgres_problem(cause: psycopg.Error, url: str) -> str | None:
    target = parse_database_url(url)
    where = f"database {target.dbname!r} on {target.host}:{target.port}"
    if isinstance(cause, errors.InvalidSchemaName):
        return (
            f"the schema {target.schema!r} does not exist in {where}; create it"
            f' (CREATE SCHEMA "{target.schema}") or correct ?schema= in LEDGER_DATABASE_URL'
        )
    # A missing database is refused at connection time, before any SQLSTATE is known.
    if isinstance(cause, errors.InvalidCatalogName) or (
        f'database "{target.dbname}" does not exist' in str(cause)
    ):
        return f"the {where} does not exist; create it or correct LEDGER_DATABASE_URL"
    if isinstance(cause, errors.InsufficientPrivilege):
        return f"the database user lacks a privilege it needs on the {where}"
    if isinstance(cause, errors.TooManyConnections) or "too many clients" in str(cause):
        return f"the {where} has no connection free (too many clients); try again later"
    if isinstance(cause, psycopg.OperationalError):
        return f"cannot connect to the {where}; is PostgreSQL running there?"
    return None
