"""The public documents of a ledger, as the read-only public API serves them, by static path.

Each comes with a *stable* form: what it says without its signature times and proofs, which
change at every rendering. A document is rewritten only when its stable form changed.
Nothing here is more than the API already serves to anyone: the log's entries (personal records,
for auditors only) are not among them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from ledger.api.routes.verify import verify_answer
from ledger.credentials.service import Credentials
from ledger.credentials.status_list import StatusListError
from ledger.log.key_proofs import key_history_proofs
from ledger.log.storage import StoredCheckpoint
from ledger.runtime import Runtime

LOG = "log"
CHECKPOINT = f"{LOG}/checkpoint"
KEY_HISTORY = f"{LOG}/key-history"
TRUST_ROOT = f"{LOG}/trust-root"
MARKER = "publication.json"
MARKER_FORMAT = "ledger-static-publication/1"


@dataclass(frozen=True)
class Document:
    path: str
    data: bytes
    stable: Any  # what must differ for the file to be rewritten


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def _without(value: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k not in keys}


def certificate_ids(runtime: Runtime, today: date) -> list[str]:
    grouped = runtime.queries.certificates_by_status(today)
    return sorted(i for ids in grouped.values() for i in ids)


def verification_document(runtime: Runtime, certificate_id: str, today: date) -> Document | None:
    """The certificate's verification answer (`GET /verify/{id}`), at `verify/<id>.json`."""
    answer = verify_answer(runtime, certificate_id, today, None)
    if answer is None:
        return None
    return Document(f"verify/{certificate_id}.json", _json(answer), _without(answer, "log"))


def credential_document(credentials: Credentials, certificate_id: str) -> Document | None:
    """Its signed credential (`GET /credentials/{id}`), at `credentials/<id>.json`."""
    credential = credentials.credential(certificate_id)
    if credential is None:
        return None
    return Document(
        f"credentials/{certificate_id}.json", _json(credential), _without(credential, "proof")
    )


def issuer_documents(runtime: Runtime) -> list[Document]:
    """The DID document and the key ring: a credential is signed again when either changed."""
    did = Credentials(runtime).issuer.did_document()
    keyring = runtime.store.signing.keyring.to_json()
    return [
        Document(".well-known/did.json", _json(did), did),
        Document(f"{LOG}/keyring", _json(keyring), keyring),
    ]


def status_lists(runtime: Runtime, today: date) -> Iterator[Document]:
    """Every status list of both purposes, at the path the API serves it under."""
    credentials = Credentials(runtime)
    list_id = 1
    while True:
        try:
            found = credentials.status_lists(list_id, today)
        except StatusListError:
            return
        for url, document in sorted(found.items()):
            subject = document.get("credentialSubject", {})
            yield Document(urlsplit(url).path.lstrip("/"), _json(document), subject)
        list_id += 1


def ledger_documents(runtime: Runtime, checkpoint: StoredCheckpoint) -> Iterator[Document]:
    """The DID document, the key ring, the trust root, the checkpoint key and the key history
    (under `checkpoint`), where the API serves them."""
    yield from issuer_documents(runtime)
    root = runtime.trust_root().text()
    yield Document(TRUST_ROOT, root.encode(), root)
    key = runtime.public_log.verifier_key() + "\n"
    yield Document(f"{LOG}/key", key.encode(), key)
    records = key_history_proofs(runtime.log_storage, runtime.public_log, checkpoint.size)
    history = {"size": checkpoint.size, "checkpoint": checkpoint.cosigned_note, "records": records}
    yield Document(KEY_HISTORY, _json(history), [(r["position"], r["leaf_data"]) for r in records])
    marker = {
        "format": MARKER_FORMAT,
        "log": f"{LOG}/",
        "tiles": "C2SP tlog-tiles, SHA-256, at log/tile/",
        "entry_bundles": False,
        "entry_bundles_why": "the log's entries are personal records, served to auditors only",
    }
    yield Document(MARKER, _json(marker), marker)
