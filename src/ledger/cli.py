"""The `ledger` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.config import ConfigError, Settings
from ledger.integrity.errors import IntegrityError
from ledger.integrity.keyring import (
    PURPOSES,
    KeyDirectory,
    format_time,
    init_keyring,
    parse_time,
)
from ledger.integrity.trust_root import TrustRoot, TrustRootError
from ledger.trust import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_UNPINNED,
    EXIT_USAGE,
    UNPINNED,
    KnownLedgers,
    add_trust_arguments,
    known_ledgers_path,
    load_trust_root,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _settings(args: argparse.Namespace) -> Settings:
    env = dict(os.environ)
    if getattr(args, "keys_dir", None):
        env["LEDGER_KEYS_DIR"] = args.keys_dir
    if getattr(args, "origin", None):
        env["LEDGER_ORIGIN"] = args.origin
    return Settings.from_env(env)


def _cmd_keys_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    keys = KeyDirectory(settings.keys_dir)
    if keys.exists():
        if args.if_missing:
            print(f"key ring already present at {keys.keyring_path}")
            return 0
        print(f"error: a key ring already exists at {keys.keyring_path}", file=sys.stderr)
        return 1
    keyring = init_keyring(keys, settings.origin, _now())
    print(f"created key ring for origin {keyring.origin} at {keys.keyring_path}")
    for key in keyring.keys:
        print(f"  {key.purpose:<12} {key.kid}")
    print(f"private keys are in {keys.path / 'private'} (mode 0600); back them up separately")
    return 0


def _cmd_keys_list(args: argparse.Namespace) -> int:
    keyring = KeyDirectory(_settings(args).keys_dir).load()
    if args.json:
        print(json.dumps(keyring.to_json(), indent=2))
        return 0
    print(f"origin: {keyring.origin}")
    print(f"{'kid':<18}{'purpose':<13}{'valid from':<29}{'valid until':<29}compromised from")
    for key in keyring.keys:
        until = format_time(key.valid_until) if key.valid_until else "-"
        comp = format_time(key.compromised_from) if key.compromised_from else "-"
        print(f"{key.kid:<18}{key.purpose:<13}{format_time(key.valid_from):<29}{until:<29}{comp}")
    return 0


def _cmd_keys_rotate(args: argparse.Namespace) -> int:
    from ledger.store.application import open_store
    from ledger.store.key_history import rotate

    settings = _settings(args)
    store = open_store(settings)
    try:
        fresh = rotate(store, KeyDirectory(settings.keys_dir), args.purpose, _now())
    finally:
        store.close()
    print(f"new {fresh.purpose} key {fresh.kid}, valid from {format_time(fresh.valid_from)}")
    print("the rotation is recorded in the log, signed by the key it retires;")
    print("records signed by earlier keys still verify within those keys' validity windows")
    return 0


def _cmd_keys_compromise(args: argparse.Namespace) -> int:
    from ledger.store.application import open_store
    from ledger.store.key_history import compromise

    settings = _settings(args)
    since = parse_time(args.since) if args.since else _now()
    store = open_store(settings)
    try:
        marked = compromise(store, KeyDirectory(settings.keys_dir), args.kid, since, _now())
    finally:
        store.close()
    print(f"key {marked.kid} marked compromised from {format_time(since)} (recorded in the log)")
    print("signatures it made from then on fail verification")
    return 0


def _cmd_keys_export(args: argparse.Namespace) -> int:
    keyring = KeyDirectory(_settings(args).keys_dir).load()
    text = json.dumps(keyring.to_json(), indent=2) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"public key ring written to {args.output}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ledger.audit.bundle import export_bundle
    from ledger.progress import Progress
    from ledger.runtime import open_runtime

    runtime = open_runtime(_settings(args))
    try:
        runtime.catch_up()
        size = runtime.public_log.size()
        projections = {
            s.name: {"version": s.version, "digest": s.digest, "position": s.position}
            for s in runtime.runner.status()
        }
        summary = export_bundle(
            runtime.log_storage,
            runtime.store.signing.keyring,
            Path(args.directory),
            projections=projections,
            progress=Progress("exporting", size),
        )
    finally:
        runtime.close()
    print(
        f"exported {summary.records:,} records, {summary.checkpoints:,} checkpoints and"
        f" {len(projections)} projection digests to {summary.path}"
    )
    print(
        f"verify it anywhere with: ledger audit {summary.path} --trust trust-root.json"
        " (the ledger's trust root, as `ledger trust-root` prints it and the Foundation publishes)"
    )
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from ledger.audit.importer import ImportError_, import_bundle
    from ledger.progress import Progress
    from ledger.runtime import open_runtime
    from ledger.store.key_history import TRUST_ROOT_FILE

    settings = _settings(args)
    trust_root = load_trust_root(args)
    own = settings.keys_dir / TRUST_ROOT_FILE
    if trust_root is None and own.is_file():
        trust_root = TrustRoot.parse(own.read_bytes())  # the importing ledger's own identity
    if trust_root is None and not args.trust_on_first_use:
        print(
            f"error: this ledger has no trust root yet ({own} is missing): pass --trust FILE"
            " (the trust root of the ledger the bundle restores) or --trust-on-first-use",
            file=sys.stderr,
        )
        return EXIT_UNPINNED
    runtime = open_runtime(settings, genesis=False)  # the bundle brings the genesis
    try:
        bundle_size = _bundle_size(Path(args.directory))
        summary = import_bundle(
            runtime,
            Path(args.directory),
            progress=Progress("importing", bundle_size),
            trust_root=trust_root,
        )
    except ImportError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        runtime.close()
    print(f"imported {summary.records:,} records and {summary.checkpoints:,} checkpoints")
    print(f"trust root {summary.trust_root}")
    return EXIT_OK


def _bundle_size(directory: Path) -> int:
    from ledger.audit.bundle import Bundle

    return Bundle(directory).size_hint()


def _cmd_projections(args: argparse.Namespace) -> int:
    from ledger.runtime import open_runtime

    runtime = open_runtime(_settings(args))
    try:
        if args.projections_command == "rebuild":
            from ledger.progress import Progress

            known = sorted(runtime.runner.projections)
            names = known if args.name == "all" else [args.name]
            if args.name != "all" and args.name not in runtime.runner.projections:
                print(
                    f"error: no projection {args.name!r} (known: {', '.join(known)}, or all)",
                    file=sys.stderr,
                )
                return 1
            size = runtime.public_log.size()
            rebuilt = runtime.runner.rebuild_many(names, progress=Progress("rebuilding", size))
            for tracking in rebuilt:
                print(
                    f"rebuilt {tracking.name} as generation {tracking.generation}"
                    f" at {tracking.position:,}"
                )
            return 0
        if args.catch_up:
            runtime.runner.catch_up()
        statuses = runtime.runner.status()
    finally:
        runtime.close()
    if args.json:
        print(json.dumps([vars(s) for s in statuses], indent=2))
        return 0
    print(f"{'projection':<22}{'version':>8}{'gen':>5}{'position':>11}{'lag':>8}  digest")
    for s in statuses:
        print(
            f"{s.name:<22}{s.version:>8}{s.generation:>5}{s.position:>11,}{s.lag:>8,}  {s.digest}"
        )
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from ledger.audit.bundle import Bundle, BundleError, DatabaseSource, Source
    from ledger.audit.report import render
    from ledger.store.key_history import TRUST_ROOT_FILE

    trusted = Path(args.trusted_checkpoint).read_text() if args.trusted_checkpoint else None
    trust_root = load_trust_root(args)
    not_checked: list[str] = []
    if args.live:
        from ledger.runtime import open_runtime

        settings = _settings(args)
        own = settings.keys_dir / TRUST_ROOT_FILE
        mine = trust_root is None and own.is_file()
        if mine:
            trust_root = TrustRoot.parse(own.read_bytes())  # this ledger's own, kept with its keys
        runtime = open_runtime(settings)
        try:
            runtime.sequencer.catch_up()
            source: Source = DatabaseSource(runtime.log_storage, runtime.store.signing.keyring)
            report = _run_audit(source, args, trusted, trust_root)
        finally:
            runtime.close()
        if mine:
            report.pinned_by = f"this ledger's own, {own}"
    elif args.source is not None and args.source.startswith(("http://", "https://")):
        from ledger.audit.remote import fetch_bundle, temporary_folder
        from ledger.audit.static_tree import StaticTree

        try:
            publication = StaticTree(args.source).is_publication()
        except BundleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if publication:  # `ledger publish`: tiles, no entries
            from ledger.audit.static_cli import audit_command

            return audit_command(args)

        with temporary_folder() as folder:  # removed on every exit, SIGTERM included
            try:
                token = args.token or os.environ.get("LEDGER_TOKEN")
                fetch_bundle(args.source, Path(folder) / "bundle", token=token)
                source = Bundle(Path(folder) / "bundle")
            except BundleError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USAGE
            report = _run_audit(source, args, trusted, trust_root)
        if not source.projections():
            not_checked.append(
                "projection digests (a ledger serves none: audit an exported bundle for them)"
            )
    else:
        if args.source is None:
            print("error: name a bundle folder or a ledger's URL, or use --live", file=sys.stderr)
            return EXIT_USAGE
        try:
            source = Bundle(Path(args.source))
            source.keyring()
        except BundleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        report = _run_audit(source, args, trusted, trust_root)
    report.not_checked.extend(not_checked)
    _pin_on_first_use(args, report)
    _check_witnesses(args, source, report)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render(report))
    if not report.ok:
        return EXIT_FAIL
    if not report.pinned:
        print(UNPINNED, file=sys.stderr)
        return EXIT_UNPINNED
    return EXIT_OK


def _pin_on_first_use(args: argparse.Namespace, report: Any) -> None:
    """With --trust-on-first-use and no --trust: pin the material's genesis, or check the pin."""
    from ledger.audit.auditor import Problem

    if report.pinned or not args.trust_on_first_use or report.genesis is None:
        return
    try:
        pin = KnownLedgers(known_ledgers_path(args)).pin(report.origin, report.genesis)
    except TrustRootError as exc:
        report.problems.append(Problem(0, str(exc)))
        return
    report.trust_root = pin.fingerprint
    report.pinned_by = "recorded now (trust on first use)" if pin.new else "known ledger"


def _check_witnesses(args: argparse.Namespace, source: Any, report: Any) -> None:
    """With --witnesses: pinned cosignatures verify and the newest checkpoint has a quorum."""
    from ledger.audit.auditor import Problem
    from ledger.integrity.witness_policy import (
        InvalidCosignatureError,
        QuorumNotMetError,
        WitnessPolicyError,
        check_newest_checkpoint,
        load_witness_policy,
    )

    try:
        policy = load_witness_policy(args.witnesses, args.quorum)
        if policy is None:
            return
        result = check_newest_checkpoint(sorted(source.checkpoints()), policy)
    except (QuorumNotMetError, InvalidCosignatureError, WitnessPolicyError) as exc:
        report.problems.append(Problem(report.newest_checkpoint, f"witnesses: {exc}"))
        return
    report.witnesses.append(str(result))


def _run_audit(
    source: Any, args: argparse.Namespace, trusted: str | None, trust_root: TrustRoot | None
) -> Any:
    from ledger.audit.auditor import Auditor
    from ledger.progress import Progress
    from projections import BY_NAME
    from projections.base import replay_all

    def replay_named(names: list[str], records: Any) -> dict[str, str]:
        return replay_all([BY_NAME[n] for n in names if n in BY_NAME], records)

    progress = None if args.json else Progress("auditing", source.size_hint())
    auditor = Auditor(
        source.keyring(),
        deep=args.deep,
        trusted_checkpoint=trusted,
        progress=progress,
        replay=replay_named if source.projections() else None,
        replay_versions={name: projection.version for name, projection in BY_NAME.items()},
        trust_root=trust_root,
    )
    return auditor.audit(source)


def _cmd_trust_root(args: argparse.Namespace) -> int:
    from ledger.store.application import open_store
    from ledger.store.key_history import trust_root

    settings = _settings(args)
    if not _require_keys(settings):
        return EXIT_FAIL
    store = open_store(settings)
    try:
        root = trust_root(store)
    finally:
        store.close()
    sys.stdout.write(root.text())
    print(f"fingerprint {root.fingerprint}", file=sys.stderr)
    return EXIT_OK


def _require_keys(settings: Settings) -> bool:
    if KeyDirectory(settings.keys_dir).exists():
        return True
    print(
        f"error: no key ring in {settings.keys_dir}; create one with `ledger keys init`",
        file=sys.stderr,
    )
    return False


def _banner(settings: Settings, host: str, port: int) -> None:
    from ledger.runtime import open_runtime

    runtime = open_runtime(settings)
    try:
        runtime.catch_up()
        grouped = runtime.queries.certificates_by_status(runtime.clock.now().date())
    finally:
        runtime.close()
    base = f"http://{host}:{port}"
    print(f"ledger serving on {base}  (API docs: {base}/docs)")
    for status in ("valid", "expired", "suspended", "revoked"):
        for certificate_id in sorted(grouped.get(status, []))[:2]:
            print(f"  {status:<10} {base}/verify/{certificate_id}")
    print(f"  checkpoint {base}/log/checkpoint")
    print(f"staff console: {base}/console  (the front door: {base}/)")
    print(
        "export and audit the whole history: ledger export ./bundle &&"
        f" ledger audit ./bundle --trust {settings.keys_dir / 'trust-root.json'}"
    )
    sys.stdout.flush()


SERVE_LIMITS = {
    "header_timeout": "LEDGER_HEADER_TIMEOUT_S",
    "body_timeout": "LEDGER_BODY_TIMEOUT_S",
    "max_connections_per_client": "LEDGER_MAX_CONNECTIONS_PER_CLIENT",
}


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ledger import logs
    from ledger.api.app import app_from_env
    from ledger.api.connections import LimitedHttpProtocol

    for option, key in SERVE_LIMITS.items():
        if getattr(args, option) is not None:
            os.environ[key] = str(getattr(args, option))  # the worker processes read it too
    settings = _settings(args)
    if not _require_keys(settings):
        return 1
    if args.workers > 1 and settings.database_url is None:
        print("error: several workers need PostgreSQL (set LEDGER_DATABASE_URL)", file=sys.stderr)
        return 1
    os.environ.update(
        {
            "LEDGER_DATA_DIR": str(settings.data_dir),
            "LEDGER_KEYS_DIR": str(settings.keys_dir),
            "LEDGER_ORIGIN": settings.origin,
            "LEDGER_PUBLIC_URL": settings.public_url,
        }
    )
    if not args.quiet:
        _banner(settings, args.host, args.port)
    logs.configure(os.environ.get("LEDGER_LOG_LEVEL", "INFO"))
    if args.workers > 1:
        from ledger.store.application import open_store

        open_store(settings).close()  # a database that cannot be used stops here, not per worker
        uvicorn.run(
            "ledger.api.app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            http=LimitedHttpProtocol,
            log_config=None,
            access_log=False,
            proxy_headers=False,  # X-Forwarded-For: LEDGER_TRUSTED_PROXIES only
        )
    else:
        uvicorn.run(
            app_from_env(),
            host=args.host,
            port=args.port,
            http=LimitedHttpProtocol,
            log_config=None,
            access_log=False,
            proxy_headers=False,
        )
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    import signal
    import threading

    from ledger import logs
    from ledger.runtime import open_runtime
    from ledger.worker import BackgroundWorker

    settings = _settings(args)
    if not _require_keys(settings):
        return 1
    logs.configure(os.environ.get("LEDGER_LOG_LEVEL", "INFO"))
    runtime = open_runtime(settings)
    worker = BackgroundWorker(runtime, listen=True)
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    worker.start()
    stopped.wait()
    worker.stop()
    runtime.close()
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from ledger.api.auth import TokenError, TokenStore
    from ledger.db import Database
    from ledger.domain.actors import Role
    from ledger.store.application import open_store

    settings = _settings(args)
    open_store(settings).close()  # the database and its tables exist
    db = Database(settings)
    try:
        tokens = TokenStore(db)
        if args.tokens_cmd == "create":
            token = tokens.create(args.name, Role(args.role), args.person)
            print(token)
            print(
                f"token {args.name!r} ({args.role}) created; it is shown only this once",
                file=sys.stderr,
            )
        elif args.tokens_cmd == "revoke":
            tokens.revoke(args.name)
            print(f"token {args.name!r} revoked")
        else:
            for name, role, person, created, revoked in tokens.list():
                state = f"revoked {revoked}" if revoked else "active"
                print(f"{name:<24}{role:<11}{person or '-':<38}{created}  {state}")
    except TokenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from ledger.demo import is_loaded, load_demo
    from ledger.runtime import open_runtime
    from ledger.store.key_history import holds_other_records

    settings = _settings(args)
    if not _require_keys(settings):
        return 1
    runtime = open_runtime(settings)
    try:
        empty = not holds_other_records(runtime.store.app)  # the key history does not count
        if is_loaded(runtime.service):
            message = "the demo history is already loaded"
        elif args.if_empty and not empty:
            message = "the store already holds records; the demo was not loaded"
        else:
            load_demo(runtime.service, runtime.clock.now().date())
            message = "loaded the demo: the 1st train-the-trainers programme and its later history"
        runtime.catch_up()
        grouped = runtime.queries.certificates_by_status(runtime.clock.now().date())
    finally:
        runtime.close()
    certificates = {
        s: sorted(grouped.get(s, [])) for s in ("valid", "expired", "suspended", "revoked")
    }
    if args.json:
        print(json.dumps({"certificates": certificates, "message": message}, indent=2))
    else:
        print(message)
        for status, ids in certificates.items():
            print(f"  {status:<10} {len(ids)} certificates")
    return 0


IMPORT_STAFF = "staff-csv-import"
"""The staff id the CSV import records as its actor, unless --staff names another."""


def _cmd_import_csv(args: argparse.Namespace) -> int:
    from ledger.domain.actors import Actor, Role
    from ledger.domain.errors import DomainError
    from ledger.imports.columns import ImportKind
    from ledger.imports.plan import import_csv
    from ledger.imports.resolve import programme_titles
    from ledger.runtime import open_runtime

    settings = _settings(args)
    if not _require_keys(settings):
        return 1
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    runtime = open_runtime(settings)
    try:
        runtime.catch_up()  # programme titles are read from the projection
        report = import_csv(
            data,
            ImportKind(args.kind),
            service=runtime.service,
            people=runtime.people,
            programmes=programme_titles(runtime.queries),
            actor=Actor(args.staff, Role.REGISTRAR),
            commit=not args.dry_run,
        )
        if report.committed:
            runtime.catch_up()
    except DomainError as exc:  # the commit was refused (a concurrent change): nothing written
        print(f"error: {exc}; nothing was written", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    for problem in report.problems:
        print(problem)
    print(report.summary())
    return 1 if report.problems else 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from datetime import date

    from ledger.credentials.offline import load_bundle, since_until, verify_offline
    from ledger.credentials.verifier import Verdict, verify_credential
    from ledger.integrity.witness_policy import WitnessPolicyError, load_witness_policy

    if args.source:  # a static publication (`ledger publish`): FILE is the certificate id
        from ledger.audit.static_cli import verify_command

        return verify_command(args)
    try:
        credential = json.loads(Path(args.file).read_text(encoding="utf-8"))
        on = date.fromisoformat(args.at) if args.at else date.today()
        trust_root = load_trust_root(args)
        witnesses = load_witness_policy(args.witnesses, args.quorum)
        verdict: Verdict
        if args.bundle:
            verdict = verify_offline(
                credential, load_bundle(Path(args.bundle)), on, witnesses, trust_root
            )
        else:
            did = json.loads(Path(args.did).read_text()) if args.did else None
            if did is None:
                print(
                    "error: give --bundle DIR (or --did FILE with saved status lists)",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            verdict = verify_credential(credential, did, {}, on)
    except (OSError, ValueError, WitnessPolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if verdict.ok and verdict.trust_root is None and args.trust_on_first_use and verdict.genesis:
        origin = str(load_bundle(Path(args.bundle)).get("keyring", {}).get("origin", ""))
        try:
            pin = KnownLedgers(known_ledgers_path(args)).pin(origin, verdict.genesis)
        except TrustRootError as exc:
            verdict.add("trust root", False, str(exc))
        else:
            verdict.trust_root = pin.fingerprint
            how = "recorded now (trust on first use)" if pin.new else "a known ledger"
            verdict.add("trust root", True, f"{pin.fingerprint}, {how}")
    for line in verdict.lines():
        print(line)
    if not verdict.ok:
        print(f"NOT VALID: status {verdict.status} on {on}{since_until(verdict)}")
        return EXIT_FAIL
    if verdict.trust_root is None:
        print(f"CONSISTENT, NOT PINNED: status {verdict.status} on {on}{since_until(verdict)}")
        print(UNPINNED, file=sys.stderr)
        return EXIT_UNPINNED
    print(
        f"VALID: status {verdict.status} on {on} (trust root {verdict.trust_root})"
        + since_until(verdict)
    )
    return EXIT_OK


def add_witness_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--witnesses", metavar="FILE", help="witness policy (C2SP tlog-policy: pinned witness keys)"
    )
    parser.add_argument(
        "--quorum", type=int, metavar="K", help="how many pinned witnesses must have cosigned"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger", description="Certification and licensing ledger of signed events."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    keys = commands.add_parser("keys", help="manage the signing key ring")
    keys.add_argument("--keys-dir", help="key folder (env LEDGER_KEYS_DIR, default ./keys)")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    init = key_commands.add_parser("init", help="create the key ring and first keys")
    init.add_argument("--origin", help="the ledger's origin (env LEDGER_ORIGIN)")
    init.add_argument("--if-missing", action="store_true", help="do nothing if one exists")
    init.set_defaults(func=_cmd_keys_init)
    listing = key_commands.add_parser("list", help="show every key and its validity")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_cmd_keys_list)
    rotate = key_commands.add_parser("rotate", help="retire the current key and start a new one")
    rotate.add_argument("--purpose", choices=PURPOSES, default="records")
    rotate.set_defaults(func=_cmd_keys_rotate)
    compromise = key_commands.add_parser("compromise", help="distrust a key from a time on")
    compromise.add_argument("kid")
    compromise.add_argument("--since", help="RFC 3339 time (default: now)")
    compromise.set_defaults(func=_cmd_keys_compromise)
    export = key_commands.add_parser("export", help="write the public key ring")
    export.add_argument("output", nargs="?", default="-")
    export.set_defaults(func=_cmd_keys_export)
    from ledger.cli_keys import register as register_data_keys  # data-key backups

    register_data_keys(key_commands)

    bundle = commands.add_parser("export", help="write the auditor bundle of the whole history")
    bundle.add_argument("directory", help="a new (or empty) folder")
    bundle.set_defaults(func=_cmd_export)

    audit = commands.add_parser(
        "audit", help="verify an auditor bundle; exit 0 only if it all holds"
    )
    audit.add_argument(
        "source", nargs="?", help="a bundle folder (`ledger export`) or a ledger's base URL"
    )
    audit.add_argument("--live", action="store_true", help="audit the configured database directly")
    audit.add_argument(
        "--trusted-checkpoint", metavar="FILE", help="a checkpoint note trusted from before"
    )
    audit.add_argument("--deep", action="store_true", help="verify every signature (all cores)")
    audit.add_argument("--json", action="store_true", help="machine-readable report")
    add_trust_arguments(audit)
    audit.add_argument(
        "--token",
        help="an auditor's API token, for a ledger's URL (default: LEDGER_TOKEN); the full log"
        " is for auditors only",
    )
    add_witness_arguments(audit)
    audit.set_defaults(func=_cmd_audit)

    root = commands.add_parser(
        "trust-root", help="print this ledger's trust root (publish it apart from the ledger)"
    )
    root.set_defaults(func=_cmd_trust_root)

    serve = commands.add_parser("serve", help="serve the API (with the background worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="API processes (PostgreSQL)")
    serve.add_argument("--quiet", action="store_true", help="no start-up banner")
    serve.add_argument(
        "--header-timeout",
        type=int,
        metavar="S",
        help="close a connection whose request head is not in after S seconds (default 10)",
    )
    serve.add_argument(
        "--body-timeout",
        type=int,
        metavar="S",
        help="close a connection sending no byte of a request body for S seconds (default 30)",
    )
    serve.add_argument(
        "--max-connections-per-client",
        type=int,
        metavar="N",
        help="open connections per client address and process (default 32; trusted proxies"
        " are exempt)",
    )
    serve.set_defaults(func=_cmd_serve)

    worker = commands.add_parser("worker", help="run the log sequencer and projections only")
    worker.set_defaults(func=_cmd_worker)

    token = commands.add_parser("token", help="API tokens")
    tokens_cmds = token.add_subparsers(dest="tokens_cmd", required=True)
    create = tokens_cmds.add_parser("create", help="create a token (printed once)")
    create.add_argument(
        "--role", required=True, choices=["admin", "registrar", "tutor", "committee", "auditor"]
    )
    create.add_argument("--name", required=True)
    create.add_argument("--person", help="the person id a tutor or committee member acts as")
    create.set_defaults(func=_cmd_token)
    revoke = tokens_cmds.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")
    revoke.set_defaults(func=_cmd_token)
    tokens_cmds.add_parser("list", help="list tokens (never their values)").set_defaults(
        func=_cmd_token
    )

    demo = commands.add_parser("demo", help="load the 1st programme's demo history")
    demo.add_argument("--json", action="store_true", help="print certificate ids by status")
    demo.add_argument("--if-empty", action="store_true", help="only into an empty store")
    demo.set_defaults(func=_cmd_demo)

    check = commands.add_parser("verify", help="verify a credential offline")
    check.add_argument("file", help="the credential (JSON, from /credentials/{id})")
    check.add_argument("--bundle", help="its proof bundle (folder with proof.json, or the file)")
    check.add_argument("--did", help="a saved DID document of the issuer (without a bundle)")
    check.add_argument("--at", help="the date to check (YYYY-MM-DD, default today)")
    check.add_argument(
        "--from",
        dest="source",
        metavar="URL",
        help="read it from a static publication (`ledger publish`); FILE is then the"
        " certificate id",
    )
    add_trust_arguments(check)
    add_witness_arguments(check)
    check.set_defaults(func=_cmd_verify)

    csv_import = commands.add_parser(
        "import-csv",
        help="import people, enrolments or attendance from a CSV file (docs/csv-import.md)",
    )
    csv_import.add_argument("file", help="UTF-8 CSV, comma or semicolon separated, with a header")
    csv_import.add_argument("--kind", required=True, choices=["people", "enrolments", "attendance"])
    csv_import.add_argument(
        "--dry-run", action="store_true", help="check every row and write nothing"
    )
    csv_import.add_argument(
        "--staff",
        default=IMPORT_STAFF,
        help=f"the registrar's staff id recorded as the actor (default {IMPORT_STAFF})",
    )
    csv_import.set_defaults(func=_cmd_import_csv)

    load = commands.add_parser("import", help="load an audited bundle into an empty ledger")
    load.add_argument("directory", help="a bundle folder written by `ledger export`")
    add_trust_arguments(load)
    load.set_defaults(func=_cmd_import)

    views = commands.add_parser("projections", help="read models: status and rebuild")
    view_commands = views.add_subparsers(dest="projections_command", required=True)
    status = view_commands.add_parser("status", help="position, lag and digest of each")
    status.add_argument("--json", action="store_true")
    status.add_argument("--catch-up", action="store_true", help="apply pending events first")
    status.set_defaults(func=_cmd_projections)
    rebuild = view_commands.add_parser("rebuild", help="rebuild beside the live one, then swap")
    rebuild.add_argument("name", help="a projection's name, or all (one pass for every one)")
    rebuild.set_defaults(func=_cmd_projections)
    from ledger.cli_witness import register as register_witness  # witness, monitor

    register_witness(commands)
    from ledger.cli_demo_admin import register as register_demo_admin  # make run's sign-in

    register_demo_admin(commands)
    from ledger.cli_staff import register as register_staff  # console accounts

    register_staff(commands)
    from ledger.publish.cli import register as register_publish  # static publication

    register_publish(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (IntegrityError, ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        from ledger.cli_database import database_problem

        problem = database_problem(exc, os.environ)
        if problem is None:
            raise
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
