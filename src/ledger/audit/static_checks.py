"""What `ledger audit URL` and `ledger verify ID --from URL` check of a static publication.

An audit checks the whole tree: the head (see `static_tree`), then every tile hashed into the
tile above, and a checkpoint trusted from before against the tiles. The records themselves are
not published (they are personal), so their signatures and rules are not checked here: the
report says so. A certificate's verification checks its credential (signatures, validity and
its status list, as a saved credential is checked), then the verification document's proof:
its checkpoint verifies and is consistent with the published one through the tiles, its
inclusion proof leads to that checkpoint's root, and the tiles hold the same leaf hash.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from ledger.audit.bundle import BundleError
from ledger.audit.static_tree import (
    StaticTree,
    TreeError,
    TreeHead,
    TreeVerdict,
    check_older,
    open_head,
)
from ledger.credentials.verifier import Verdict, verify_credential
from ledger.integrity.merkle import MerkleError, verify_inclusion
from ledger.integrity.trust_root import TrustRoot
from ledger.integrity.witness_policy import (
    InvalidCosignatureError,
    QuorumNotMetError,
    WitnessPolicy,
    WitnessPolicyError,
)
from ledger.publish.tiles import TileError

NOT_CHECKED = (
    "the records themselves, their signatures and rules (a publication carries no entries:"
    " they are personal; audit an exported bundle, or the ledger's API with an auditor's token)"
)


def _witnesses(head: TreeHead, witnesses: WitnessPolicy | None, verdict: Verdict) -> None:
    if witnesses is None:
        return
    try:
        result = witnesses.check(head.note)
    except (QuorumNotMetError, InvalidCosignatureError, WitnessPolicyError) as exc:
        verdict.add("witnesses", False, str(exc))
    else:
        verdict.add("witnesses", True, f"the checkpoint of size {head.checkpoint.size} is {result}")


def audit_publication(
    base: str,
    trust_root: TrustRoot | None,
    trusted_checkpoint: str | None = None,
    witnesses: WitnessPolicy | None = None,
) -> TreeVerdict:
    verdict = TreeVerdict()
    try:
        static = StaticTree(base)
        head = open_head(static, trust_root, verdict)
        try:
            count = head.tree.check_all()
        except (BundleError, TileError) as exc:
            verdict.add("every tile", False, str(exc))
            return verdict
        verdict.add("every tile", True, f"all {count} tiles hash into the tiles above them")
        if trusted_checkpoint is not None:
            check_older(head, trusted_checkpoint, "trusted checkpoint", verdict)
        _witnesses(head, witnesses, verdict)
    except TreeError:
        pass  # its line is in the verdict
    except BundleError as exc:
        verdict.add("download", False, str(exc))
    return verdict


def _status_lists(static: StaticTree, credential: dict[str, Any]) -> dict[str, Any]:
    """The status list the credential names, read from the publication at its path, and the
    message list of the same id (which says whether a suspension is a revocation)."""
    entry = credential.get("credentialStatus")
    if not isinstance(entry, dict) or not entry.get("statusListCredential"):
        return {}
    url = str(entry["statusListCredential"])
    found = {url: static.json(urlsplit(url).path.lstrip("/"))}
    head, sep, list_id = url.rpartition("/suspension/")
    if sep:
        message = f"{head}/message/{list_id}"
        found[message] = static.json(urlsplit(message).path.lstrip("/"))
    return found


def verify_from_publication(
    base: str,
    certificate_id: str,
    on: date,
    trust_root: TrustRoot | None,
    witnesses: WitnessPolicy | None = None,
) -> TreeVerdict:
    verdict = TreeVerdict()
    try:
        static = StaticTree(base)
        credential = static.json(f"credentials/{certificate_id}.json")
        did = static.json(".well-known/did.json")
        checked = verify_credential(credential, did, _status_lists(static, credential), on)
        verdict.checks.extend(checked.checks)
        verdict.status = checked.status
        if str(credential.get("id", "")).rsplit("/", 1)[-1] != certificate_id:
            verdict.add("credential", False, f"the credential is not {certificate_id}'s")
        document = static.json(f"verify/{certificate_id}.json")
        head = open_head(static, trust_root, verdict)
        _document(head, document, certificate_id, verdict)
        _witnesses(head, witnesses, verdict)
    except TreeError:
        pass
    except BundleError as exc:
        verdict.add("download", False, str(exc))
    return verdict


def _document(head: TreeHead, document: Any, certificate_id: str, verdict: Verdict) -> None:
    if not isinstance(document, dict) or document.get("certificate_id") != certificate_id:
        verdict.add("document", False, f"the verification document is not {certificate_id}'s")
        return
    log = document.get("log")
    if not isinstance(log, dict):
        verdict.add("log", False, "the verification document has no proof (not yet published?)")
        return
    try:
        older = check_older(head, str(log["checkpoint"]["note"]), "document's checkpoint", verdict)
        position = int(log["position"])
        leaf = base64.b64decode(log["leaf_hash"], validate=True)
        proof = [base64.b64decode(h, validate=True) for h in log["proof"]]
        verify_inclusion(leaf, position, older.size, proof, older.root)
        if head.tree.leaf_hash(position) != leaf:
            raise TileError(f"the tiles hold another leaf at position {position}")
    except TreeError:
        return
    except (KeyError, TypeError, ValueError, MerkleError, TileError, BundleError) as exc:
        verdict.add("log", False, f"the document's proof does not verify: {exc}")
        return
    verdict.add(
        "log",
        True,
        f"the issuing decision at log position {position} is proven under the checkpoint of"
        f" size {older.size}, and the tiles hold the same leaf",
    )
    said = document.get("status")
    verdict.add(
        "document",
        said == verdict.status,
        f"the verification document says {said}"
        + ("" if said == verdict.status else f", the signed status list {verdict.status}"),
    )
