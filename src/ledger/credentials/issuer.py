"""Open Badges 3.0 / W3C VC 2.0 credentials for the ledger's certificates, signed by the issuer
`did:web` of the ledger's public URL with a Data Integrity proof set: `eddsa-rdfc-2022` (what the
Open Badges 3.0 conformance guide asks for) and `eddsa-jcs-2022` (for verifiers without JSON-LD).

The verification method is the ledger's records key, published as a Multikey in the issuer's
DID document (`/.well-known/did.json`) with the issuer as controller.

Status: one `credentialStatus` (all the Open Badges 3.0 schema allows), with the standard purpose
`suspension`, so that any Bitstring Status List verifier refuses a certificate that is suspended
or revoked; the precise state is in the `message` list at the same list id and index
(docs/ledger-format.md section 13 says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from ledger.credentials.dataintegrity import sign_set
from ledger.credentials.multibase import public_multikey
from ledger.credentials.status_entries import (
    MESSAGE,
    PURPOSES,
    STATUS_MESSAGES,
    STATUS_SIZE,
    SUSPENSION,
    StatusEntry,
)
from ledger.credentials.status_list import Bitstring
from ledger.integrity.keyring import Keyring, Signer, format_time

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ISSUER_NAME = "European Foundation for Cluster Excellence"
ACHIEVEMENTS = {
    "associate_trainer": (
        "Certificate",
        "Associate Trainer in Cluster Management Excellence",
        "Completed the train-the-trainers programme: at least 5 of 6 in-class"
        " weeks and a field project signed off by its tutor.",
    ),
    "licence": (
        "License",
        "Licensed Trainer in Cluster Management Excellence",
        "Entitled to run the Foundation's courses for cluster managers with the ECEI"
        " training material, within the licensed scope.",
    ),
    "instructor": (
        "Certification",
        "Instructor in Cluster Management Excellence",
        "Certified to deliver the Foundation's programme to cluster managers.",
    ),
}


def did_web(public_url: str) -> str:
    """did:web of a base URL: host (port percent-encoded), then path segments."""
    parts = urlsplit(public_url)
    host = quote(parts.netloc, safe="")
    path = ":".join(quote(p, safe="") for p in parts.path.split("/") if p)
    return f"did:web:{host}" + (f":{path}" if path else "")


@dataclass
class Issuer:
    public_url: str
    keyring: Keyring

    @property
    def did(self) -> str:
        return did_web(self.public_url)

    def method(self, kid: str) -> str:
        return f"{self.did}#{kid}"

    def did_document(self) -> dict[str, Any]:
        methods = [
            {
                "id": self.method(k.kid),
                "type": "Multikey",
                "controller": self.did,
                "publicKeyMultibase": public_multikey(k.public_key),
            }
            for k in self.keyring.keys
            if k.purpose == "records"
        ]
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.did,
            "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods],
        }

    @property
    def profile(self) -> dict[str, Any]:
        """The issuer as an Open Badges 3.0 Profile (tests/vectors/ob3/profile.json)."""
        return {"id": self.did, "type": ["Profile"], "name": ISSUER_NAME, "url": self.public_url}

    def status_list_url(self, list_id: int, purpose: str = SUSPENSION) -> str:
        """Where the list of that purpose is published: the `suspension` list the credentials
        name unless told, or the `message` list of the precise state."""
        if purpose not in PURPOSES:
            raise ValueError(f"no status list of purpose {purpose}")
        return f"{self.public_url}/status-lists/{purpose}/{list_id}"

    def credential(
        self, facts: Mapping[str, Any], holder_name: str | None, entry: StatusEntry
    ) -> dict[str, Any]:
        """The unsigned credential of a certificate, from the certificate register's facts."""
        kind = facts["kind"]
        achievement_type, title, criteria = ACHIEVEMENTS[kind]
        certificate_id = facts["certificate_id"]
        subject: dict[str, Any] = {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "identifier",
                    "hashed": False,
                    "identityHash": certificate_id,
                }
            ],
            "achievement": {
                "id": f"{self.public_url}/achievements/{kind}",
                "type": ["Achievement"],
                "achievementType": achievement_type,
                "name": title,
                "description": criteria,
                "criteria": {"narrative": criteria},
                "image": {
                    "id": f"{self.public_url}/achievements/{kind}/badge.png",
                    "type": "Image",
                    "caption": title,
                },
            },
        }
        if holder_name:
            subject["name"] = holder_name
        if facts.get("scope"):
            scope = facts["scope"]
            subject["result"] = [
                {
                    "type": ["Result"],
                    "value": "regions: "
                    + ", ".join(scope["regions"])
                    + "; languages: "
                    + ", ".join(scope["languages"])
                    + "; material: "
                    + scope["material_version"],
                }
            ]
        base = f"{self.public_url}/credentials/{certificate_id}"
        evidence = [
            {
                "id": f"{base}/evidence?start={position}&end={position + 1}",
                "type": ["Evidence"],
                "name": event_type,
                "description": f"log position {position}",
            }
            for _, position, event_type, _ in facts["events"]
        ]
        for name, value in sorted((facts.get("evidence") or {}).items()):
            if name == "decision":
                continue  # already listed with the certificate's own events
            if name == "corrections":
                evidence += [_correction(base, found) for found in value]
                continue
            positions = value.get("positions", []) if isinstance(value, dict) else value
            if isinstance(positions, int):
                positions = [positions]
            if not isinstance(positions, list) or not positions:
                continue
            detail = "log positions " + ", ".join(str(p) for p in positions)
            if isinstance(value, dict) and "weeks" in value:
                detail = f"{value['weeks']} weeks attended; {detail}"
            evidence.append(
                {
                    "id": f"{base}/evidence?start={min(positions)}&end={max(positions) + 1}",
                    "type": ["Evidence"],
                    "name": name.replace("_", " "),
                    "description": detail,
                }
            )
        credential: dict[str, Any] = {
            "@context": [VC_V2, OB_V3],
            "id": f"{self.public_url}/credentials/{certificate_id}",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": self.profile,
            "name": title,
            "validFrom": f"{facts['valid_from']}T00:00:00Z",
            "credentialSubject": subject,
            "evidence": evidence,
            "credentialStatus": self.status_entry(entry),
        }
        if facts.get("valid_until"):
            credential["validUntil"] = f"{facts['valid_until']}T23:59:59Z"
        return credential

    def status_entry(self, entry: StatusEntry, purpose: str = SUSPENSION) -> dict[str, Any]:
        """The credential's BitstringStatusListEntry: `suspension` (one bit, set while suspended
        or revoked); a `message` entry (two bits, the precise state) when asked for."""
        url = self.status_list_url(entry.list_id, purpose)
        found: dict[str, Any] = {
            "id": f"{url}#{entry.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(entry.index),
            "statusListCredential": url,
        }
        if purpose == MESSAGE:
            found["statusSize"] = STATUS_SIZE
            found["statusMessage"] = STATUS_MESSAGES
        return found

    def sign(self, document: Mapping[str, Any], signer: Signer, at: datetime) -> dict[str, Any]:
        """The document with its proof set [eddsa-rdfc-2022, eddsa-jcs-2022]."""
        return sign_set(
            document, signer.private_key, self.method(signer.kid), format_time(at)[:19] + "Z"
        )

    def status_list_credential(
        self, list_id: int, purpose: str, bits: Bitstring, at: datetime
    ) -> dict[str, Any]:
        """The unsigned BitstringStatusListCredential of that purpose."""
        url = self.status_list_url(list_id, purpose)
        return {
            "@context": [VC_V2],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.did,
            "validFrom": format_time(at)[:19] + "Z",
            "credentialSubject": {
                "id": f"{url}#list",
                "type": "BitstringStatusList",
                "statusPurpose": purpose,
                "encodedList": bits.encode(),
            },
        }


def _correction(base: str, found: dict[str, Any]) -> dict[str, Any]:
    """A correction recorded after the certificate that changed the evidence behind it (never
    its reason: that is personal free text)."""
    position = found["position"]
    week = f", week {found['week']}" if found.get("week") is not None else ""
    return {
        "id": f"{base}/evidence?start={position}&end={position + 1}",
        "type": ["Evidence"],
        "name": "correction",
        "description": f"{found['type']}{week}, effective {found['on']}, log position {position}",
    }
