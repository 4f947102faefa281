"""`ledger witness ...` (run a C2SP tlog-witness) and `ledger monitor URL` (follow a ledger)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_DIR = "witness"


def _folder(args: argparse.Namespace) -> Any:
    from ledger.witness.folder import WitnessFolder

    return WitnessFolder(Path(args.dir or os.environ.get("LEDGER_WITNESS_DIR") or DEFAULT_DIR))


def _cmd_init(args: argparse.Namespace) -> int:
    folder = _folder(args)
    key = folder.init(args.name)
    print(f"created witness {key.name} in {folder.path}")
    print(f"its verifier key (give it to the logs it witnesses): {key.vkey()}")
    print(f"the private key is {folder.path / 'witness.key'} (mode 0600); back it up separately")
    print("pin a log with: ledger witness add-log <the log's vkey, from GET /log/key>")
    return 0


def _cmd_add_log(args: argparse.Namespace) -> int:
    verifier = _folder(args).add_log(args.vkey)
    print(f"now witnessing origin {verifier.name} (key {verifier.key_id:08x})")
    print("restart `ledger witness serve` to pick it up")
    return 0


def _cmd_key(args: argparse.Namespace) -> int:
    print(_folder(args).key().vkey())
    return 0


def _cmd_logs(args: argparse.Namespace) -> int:
    from ledger.witness.storage import WitnessStorage

    folder = _folder(args)
    logs = folder.logs()
    storage = WitnessStorage(folder.database)
    try:
        cosigned = {s.origin: s.size for s in storage.states()}
        refused = storage.evidence()
    finally:
        storage.close()
    for origin, keys in sorted(logs.items()):
        held = cosigned.get(origin)
        print(f"{origin}  cosigned size: {'-' if held is None else held}")
        for key in keys:
            print(f"  {key.vkey()}")
        kept = sum(1 for e in refused if e.origin == origin)
        if kept:
            print(f"  {kept} refused conflicting checkpoint(s) kept as evidence")
    if not logs:
        print("no logs pinned; add one with `ledger witness add-log VKEY`")
    return 0


def _cmd_evidence(args: argparse.Namespace) -> int:
    from ledger.witness.storage import WitnessStorage

    storage = WitnessStorage(_folder(args).database)
    try:
        found = storage.evidence(args.origin)
    finally:
        storage.close()
    print(json.dumps([e.to_json() for e in found], indent=2))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ledger import logs
    from ledger.witness.app import create_app
    from ledger.witness.core import Witness
    from ledger.witness.storage import WitnessStorage

    folder = _folder(args)
    key = folder.key()
    pinned = folder.logs()
    storage = WitnessStorage(folder.database)
    witness = Witness(key, pinned, storage)
    print(f"witness {key.name} serving on http://{args.host}:{args.port}")
    print(f"  key {key.vkey()}")
    for origin in sorted(pinned):
        print(f"  witnessing {origin}")
    if not pinned:
        print("  no logs pinned yet: every request will be answered 404")
    sys.stdout.flush()
    logs.configure(os.environ.get("LEDGER_LOG_LEVEL", "INFO"))
    try:
        uvicorn.run(
            create_app(witness), host=args.host, port=args.port, log_config=None, access_log=False
        )
    finally:
        storage.close()
    return 0


def _cmd_monitor(args: argparse.Namespace) -> int:
    from ledger.integrity.witness_policy import WitnessPolicyError, load_witness_policy
    from ledger.witness.monitor import (
        LogTrust,
        Monitor,
        MonitorError,
        load_state,
        save_state,
        write_evidence,
    )

    try:
        trust = LogTrust.load(Path(args.trust))
        policy = load_witness_policy(args.witnesses, args.quorum)
        state_path = Path(args.state) if args.state else None
        previous = load_state(state_path) if state_path else None
    except (MonitorError, WitnessPolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    evidence_path = Path(args.evidence) if args.evidence else None
    if evidence_path is None:
        base = state_path.parent if state_path else Path()
        evidence_path = base / "fork-evidence.json"
    monitor = Monitor(args.url, trust, policy)
    while True:
        try:
            report = monitor.check(previous)
        except MonitorError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if args.once:
                return 2
        else:
            for line in report.lines:
                print(line)
            if report.fork is not None:
                write_evidence(evidence_path, report.fork)
                print(
                    f"fork evidence (two checkpoints signed by the log) written to {evidence_path}"
                )
                return 1
            if previous is None or report.seen.size >= previous.size:
                previous = report.seen
                if state_path is not None:
                    save_state(state_path, previous)
            if args.once:
                print("OK" if report.ok else "NOT OK: below the witness quorum")
                return 0 if report.ok else 1
        sys.stdout.flush()
        time.sleep(args.interval)


def register(commands: Any) -> None:
    """Add `witness` and `monitor` to the `ledger` command's subparsers."""
    witness = commands.add_parser("witness", help="run a witness that cosigns a ledger's log")
    witness.add_argument(
        "--dir", help=f"the witness folder (env LEDGER_WITNESS_DIR, default ./{DEFAULT_DIR})"
    )
    sub = witness.add_subparsers(dest="witness_command", required=True)
    init = sub.add_parser("init", help="create the witness key and its folder")
    init.add_argument(
        "--name", required=True, help="the witness's name, e.g. witness.example.org/w1"
    )
    init.set_defaults(func=_cmd_init)
    add = sub.add_parser("add-log", help="pin a log to witness by its checkpoint vkey")
    add.add_argument("vkey", help="the log's verifier key (GET /log/key); its name is the origin")
    add.set_defaults(func=_cmd_add_log)
    sub.add_parser("key", help="print the witness's verifier key").set_defaults(func=_cmd_key)
    sub.add_parser("logs", help="the pinned logs and what was cosigned").set_defaults(
        func=_cmd_logs
    )
    evidence = sub.add_parser("evidence", help="print the refused conflicting checkpoints (JSON)")
    evidence.add_argument("--origin", help="only this log")
    evidence.set_defaults(func=_cmd_evidence)
    serve = sub.add_parser("serve", help="serve C2SP tlog-witness add-checkpoint")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    serve.set_defaults(func=_cmd_serve)
    for command in (init, add, evidence, serve, *(sub.choices[n] for n in ("key", "logs"))):
        command.add_argument("--dir", default=argparse.SUPPRESS, help="the witness folder")

    monitor = commands.add_parser(
        "monitor", help="follow a ledger's checkpoints; exit 1 on a fork, with the evidence"
    )
    monitor.add_argument("url", help="the ledger's base URL")
    monitor.add_argument("--trust", required=True, metavar="FILE", help="the ledger's trust root")
    monitor.add_argument("--witnesses", metavar="FILE", help="witness policy (C2SP tlog-policy)")
    monitor.add_argument("--quorum", type=int, metavar="K", help="K of the policy's witnesses")
    monitor.add_argument("--state", metavar="FILE", help="the last checkpoint seen (kept here)")
    monitor.add_argument("--evidence", metavar="FILE", help="where to write fork evidence")
    monitor.add_argument("--interval", type=float, default=60.0, metavar="S", help="seconds")
    monitor.add_argument("--once", action="store_true", help="check once and exit")
    monitor.set_defaults(func=_cmd_monitor)
