"""Structured JSON logs: one object per line, never personal data or secrets.

An error's entry carries its class, its chain of causes and its traceback (code locations and
messages), with what could be personal data or a secret in a message blanked: email addresses,
the values a database quotes back (`Key (email)=(...)`), bearer tokens and passwords.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime

SAFE_EXTRAS = (
    "method",
    "route",
    "status",
    "duration_ms",
    "role",
    "tree_size",
    "projection",
    "generation",
    "port",
    "host",
    "cause",
)

_SCRUB = (
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"\)=\(.*?\)( |$|\.|\n)", re.MULTILINE), ")=([redacted])\\1"),
    (re.compile(r"(?i)(bearer\s+)\S+"), "\\1[redacted]"),
    (re.compile(r"(?i)(password\s*[=:]\s*)\S+"), "\\1[redacted]"),
)
# The application logs each failed request itself (route, status, traceback); the server's own
# line for the same error would say it twice.
_DUPLICATE_SERVER_ERROR = "Exception in ASGI application"


def scrub(text: str) -> str:
    """`text` with email addresses, quoted key values, bearer tokens and passwords blanked."""
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in SAFE_EXTRAS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            kind, error, _ = record.exc_info
            entry["error"] = kind.__name__ if kind else "error"
            if error is not None:
                entry["traceback"] = scrub("".join(traceback.format_exception(error)))
        return json.dumps(entry)


def _not_a_duplicate(record: logging.LogRecord) -> bool:
    return record.msg != _DUPLICATE_SERVER_ERROR


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    server_errors = logging.getLogger("uvicorn.error")
    if _not_a_duplicate not in server_errors.filters:
        server_errors.addFilter(_not_a_duplicate)
