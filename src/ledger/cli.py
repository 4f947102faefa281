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
    mark_compromised,
    parse_time,
    rotate_key,
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
    keys = KeyDirectory(_settings(args).keys_dir)
    fresh = rotate_key(keys, args.purpose, _now())
    print(f"new {fresh.purpose} key {fresh.kid}, valid from {format_time(fresh.valid_from)}")
    print("records signed by earlier keys still verify within those keys' validity windows")
    return 0


def _cmd_keys_compromise(args: argparse.Namespace) -> int:
    keys = KeyDirectory(_settings(args).keys_dir)
    since = parse_time(args.since) if args.since else _now()
    marked = mark_compromised(keys, args.kid, since)
    print(f"key {marked.kid} marked compromised from {format_time(since)}")
    print("signatures it made from then on fail verification; rotate to a new key now")
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
    print(f"verify it anywhere with: ledger audit {summary.path}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from ledger.audit.importer import ImportError_, import_bundle
    from ledger.progress import Progress
    from ledger.runtime import open_runtime

    runtime = open_runtime(_settings(args))
    try:
        bundle_size = _bundle_size(Path(args.directory))
        summary = import_bundle(
            runtime, Path(args.directory), progress=Progress("importing", bundle_size)
        )
    except ImportError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(f"imported {summary.records:,} records and {summary.checkpoints:,} checkpoints")
    return 0


def _bundle_size(directory: Path) -> int:
    from ledger.audit.bundle import Bundle

    return Bundle(directory).size_hint()


def _cmd_projections(args: argparse.Namespace) -> int:
    from ledger.runtime import open_runtime

    runtime = open_runtime(_settings(args))
    try:
        if args.projections_command == "rebuild":
            if args.name not in runtime.runner.projections:
                known = ", ".join(sorted(runtime.runner.projections))
                print(f"error: no projection {args.name!r} (known: {known})", file=sys.stderr)
                return 1
            tracking = runtime.runner.rebuild(args.name)
            print(
                f"rebuilt {args.name} as generation {tracking.generation} at {tracking.position:,}"
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

    trusted = Path(args.trusted_checkpoint).read_text() if args.trusted_checkpoint else None
    if args.live:
        from ledger.runtime import open_runtime

        runtime = open_runtime(_settings(args))
        try:
            runtime.sequencer.catch_up()
            source: Source = DatabaseSource(runtime.log_storage, runtime.store.signing.keyring)
            report = _run_audit(source, args, trusted)
        finally:
            runtime.close()
    else:
        if args.source is None:
            print("error: name a bundle folder, or use --live", file=sys.stderr)
            return 2
        try:
            source = Bundle(Path(args.source))
            source.keyring()
        except BundleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        report = _run_audit(source, args, trusted)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render(report))
    return 0 if report.ok else 1


def _run_audit(source: Any, args: argparse.Namespace, trusted: str | None) -> Any:
    from ledger.audit.auditor import Auditor
    from ledger.progress import Progress
    from projections import ALL
    from projections.base import replay_all

    progress = None if args.json else Progress("auditing", source.size_hint())
    auditor = Auditor(
        source.keyring(),
        deep=args.deep,
        trusted_checkpoint=trusted,
        progress=progress,
        replay=(lambda records: replay_all(ALL, records)) if source.projections() else None,
    )
    return auditor.audit(source)


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

    bundle = commands.add_parser("export", help="write the auditor bundle of the whole history")
    bundle.add_argument("directory", help="a new (or empty) folder")
    bundle.set_defaults(func=_cmd_export)

    audit = commands.add_parser(
        "audit", help="verify an auditor bundle; exit 0 only if it all holds"
    )
    audit.add_argument("source", nargs="?", help="the bundle folder written by `ledger export`")
    audit.add_argument("--live", action="store_true", help="audit the configured database directly")
    audit.add_argument(
        "--trusted-checkpoint", metavar="FILE", help="a checkpoint note trusted from before"
    )
    audit.add_argument("--deep", action="store_true", help="verify every signature (all cores)")
    audit.add_argument("--json", action="store_true", help="machine-readable report")
    audit.set_defaults(func=_cmd_audit)

    load = commands.add_parser("import", help="load an audited bundle into an empty ledger")
    load.add_argument("directory", help="a bundle folder written by `ledger export`")
    load.set_defaults(func=_cmd_import)

    views = commands.add_parser("projections", help="read models: status and rebuild")
    view_commands = views.add_subparsers(dest="projections_command", required=True)
    status = view_commands.add_parser("status", help="position, lag and digest of each")
    status.add_argument("--json", action="store_true")
    status.add_argument("--catch-up", action="store_true", help="apply pending events first")
    status.set_defaults(func=_cmd_projections)
    rebuild = view_commands.add_parser("rebuild", help="rebuild beside the live one, then swap")
    rebuild.add_argument("name")
    rebuild.set_defaults(func=_cmd_projections)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (IntegrityError, ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
