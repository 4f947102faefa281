"""Settings, built once at start-up from the environment (or given explicitly) and passed in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_ORIGIN = "ledger.efce.local/log"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
MIB = 1024 * 1024

Network = IPv4Network | IPv6Network


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    keys_dir: Path = Path("keys")
    database_url: str | None = None
    public_url: str = DEFAULT_PUBLIC_URL
    origin: str = DEFAULT_ORIGIN
    checkpoint_every: int = 10_000
    checkpoint_interval_ms: int = 500
    db_timeout_s: int = 5
    """Longest wait for a database connection (and for one to be made) before a request is
    answered 503: during an outage nothing waits longer."""
    ready_timeout_ms: int = 1000
    """`/readyz` answers within this, whatever the database is doing."""
    min_free_mb: int = 64
    """SQLite: below this much free space on the data directory's disk, `/readyz` is not ready."""
    retry_after_s: int = 2
    """The `Retry-After` of a 503 answer while the database is away."""
    witnesses: Path | None = None
    """A witness policy file (C2SP tlog-policy); its witnesses with a URL cosign checkpoints."""
    auth_failures_per_minute: int = 10
    max_body_bytes: int = MIB
    """Largest request body accepted; a larger one is refused (413) before it is read."""
    trusted_proxies: tuple[Network, ...] = ()
    """Peers whose X-Forwarded-For is believed; from anyone else the header is ignored."""
    renders_per_minute: int = 30
    """Per client: PDFs, credentials and bundles rendered afresh (cached answers are free)."""
    allow_loose_key_permissions: bool = False
    """Start even if private key files or their folder are open to other users."""
    console_idle_minutes: int = 30
    """A console session with no request for this long is over (sign in again)."""
    header_timeout_s: int = 10
    """A connection whose request head is not complete this long after it opened (or after the
    previous answer on a kept-alive connection) is closed."""
    body_timeout_s: int = 30
    """A connection that sends no byte of an expected request body for this long is closed."""
    max_connections_per_client: int = 32
    """Open connections from one address, per server process; trusted proxies are exempt."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        url = env.get("LEDGER_DATABASE_URL") or None
        if url is not None:
            parse_database_url(url)  # fail at start-up, not at first write
        return cls(
            data_dir=Path(env.get("LEDGER_DATA_DIR") or "var"),
            keys_dir=Path(env.get("LEDGER_KEYS_DIR") or "keys"),
            database_url=url,
            public_url=(env.get("LEDGER_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
            origin=env.get("LEDGER_ORIGIN") or DEFAULT_ORIGIN,
            checkpoint_every=_positive(env, "LEDGER_CHECKPOINT_EVERY", 10_000),
            checkpoint_interval_ms=_positive(env, "LEDGER_CHECKPOINT_INTERVAL_MS", 500),
            db_timeout_s=_positive(env, "LEDGER_DB_TIMEOUT_S", 5),
            ready_timeout_ms=_positive(env, "LEDGER_READY_TIMEOUT_MS", 1000),
            min_free_mb=_positive(env, "LEDGER_MIN_FREE_MB", 64),
            retry_after_s=_positive(env, "LEDGER_RETRY_AFTER_S", 2),
            witnesses=Path(env["LEDGER_WITNESSES"]) if env.get("LEDGER_WITNESSES") else None,
            auth_failures_per_minute=_positive(env, "LEDGER_AUTH_FAILURES_PER_MINUTE", 10),
            max_body_bytes=_positive(env, "LEDGER_MAX_BODY_BYTES", MIB),
            trusted_proxies=_networks(env, "LEDGER_TRUSTED_PROXIES"),
            renders_per_minute=_positive(env, "LEDGER_RENDERS_PER_MINUTE", 30),
            allow_loose_key_permissions=_flag(env, "LEDGER_ALLOW_LOOSE_KEY_PERMISSIONS"),
            console_idle_minutes=_idle_minutes(env, "LEDGER_CONSOLE_IDLE_MINUTES"),
            header_timeout_s=_positive(env, "LEDGER_HEADER_TIMEOUT_S", 10),
            body_timeout_s=_positive(env, "LEDGER_BODY_TIMEOUT_S", 30),
            max_connections_per_client=_positive(env, "LEDGER_MAX_CONNECTIONS_PER_CLIENT", 32),
        )

    @property
    def backend(self) -> str:
        return "postgres" if self.database_url else "sqlite"


def _positive(env: Mapping[str, str], key: str, default: int) -> int:
    text = env.get(key)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{key} has value {text!r}; expected a whole number") from None
    if value < 1:
        raise ConfigError(f"{key} has value {text!r}; expected at least 1")
    return value


def _idle_minutes(env: Mapping[str, str], key: str) -> int:
    """Minutes without a request before a console session ends: 1 to 720 (its lifetime)."""
    minutes = _positive(env, key, 30)
    if minutes > 720:
        raise ConfigError(f"{key} has value {minutes!r}; expected at most 720 (12 hours)")
    return minutes


def _networks(env: Mapping[str, str], key: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR ranges (`10.0.0.5, 172.18.0.0/16`)."""
    found = []
    for item in filter(None, (part.strip() for part in env.get(key, "").split(","))):
        try:
            found.append(ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{key} has value {item!r}; expected IP addresses or CIDR ranges, comma-separated"
            ) from None
    return tuple(found)


def _flag(env: Mapping[str, str], key: str) -> bool:
    text = env.get(key, "").strip().lower()
    if text in ("", "0", "false", "no"):
        return False
    if text in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{key} has value {text!r}; expected 1 or 0")


@dataclass(frozen=True)
class AuditClientLimits:
    """How much `ledger audit URL` takes from a server it does not trust."""

    max_response_bytes: int = 64 * MIB
    """Largest single answer read (a page of the log, the key ring, the checkpoint)."""
    time_limit_s: int = 3600
    """The whole download, however the server paces it."""
    read_timeout_s: int = 30
    """Longest silence from the server while an answer is awaited or read."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuditClientLimits:
        return cls(
            max_response_bytes=_positive(env, "LEDGER_AUDIT_MAX_RESPONSE_BYTES", 64 * MIB),
            time_limit_s=_positive(env, "LEDGER_AUDIT_TIME_LIMIT_S", 3600),
            read_timeout_s=_positive(env, "LEDGER_AUDIT_READ_TIMEOUT_S", 30),
        )


@dataclass(frozen=True)
class PostgresTarget:
    dbname: str
    host: str
    port: int
    user: str
    password: str
    schema: str

    def conninfo(self) -> str:
        parts = [f"dbname={self.dbname}", f"host={self.host}", f"port={self.port}"]
        if self.user:
            parts.append(f"user={self.user}")
        if self.password:
            parts.append(f"password={self.password}")
        return " ".join(parts)


def parse_database_url(url: str) -> PostgresTarget:
    """`postgresql://user:password@host:port/dbname?schema=name`. Errors never echo the password."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(
            f"LEDGER_DATABASE_URL has scheme {parts.scheme!r}; expected 'postgresql://'"
        )
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise ConfigError("LEDGER_DATABASE_URL names no database (postgresql://host/DBNAME)")
    schema = ""
    for pair in filter(None, parts.query.split("&")):
        key, _, value = pair.partition("=")
        if key != "schema":
            raise ConfigError(f"LEDGER_DATABASE_URL has unknown option {key!r}")
        schema = unquote(value)
    try:
        port = parts.port or 5432
    except ValueError as exc:
        raise ConfigError("LEDGER_DATABASE_URL has an invalid port") from exc
    return PostgresTarget(
        dbname=dbname,
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        schema=schema,
    )
