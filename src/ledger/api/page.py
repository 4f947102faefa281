"""The verification page for people: plain HTML and CSS, no JavaScript, accessible.

The status is said in words, large, with a symbol and a colour (never colour alone); every form
field has a label; colours meet WCAG AA contrast on white.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ledger.api.display import show

STYLE = {
    "valid": ("#0a6b2d", "✓", "Valid"),
    "suspended": ("#8a4b00", "!", "Suspended"),
    "revoked": ("#a4161a", "\u00d7", "Revoked"),
    "expired": ("#3d4451", "\u2013", "Expired"),
    "unknown": ("#3d4451", "?", "Unknown"),
}
KINDS = {
    "associate_trainer": "Associate Trainer",
    "licence": "Licensed Trainer",
    "instructor": "Instructor Certification",
}
CSS = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#fff}"
    "main{max-width:46rem;margin:0 auto;padding:1.5rem}"
    ".status{font-size:2.6rem;font-weight:800;border:4px solid;border-radius:.6rem;"
    "padding:.6rem 1rem}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}dt{font-weight:700}"
    "ol{padding-left:1.2rem}li{margin:.3rem 0}.proof{font-size:.9rem;color:#30363d}"
    "label{font-weight:700;margin-right:.5rem}input,button{font-size:1rem;padding:.3rem .6rem}"
    "a{color:#0b4fa8}.flag{color:#8a4b00;font-weight:700}"
    ".control{font-family:monospace;background:#fff3cd;color:#1b1f24}"
)


def page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>{body}</main>"
        "</body></html>"
    )


def verification_page(answer: dict[str, Any], action: str, fingerprint: str | None = None) -> str:
    colour, symbol, word = STYLE.get(answer["status"], STYLE["unknown"])
    kind = KINDS.get(str(answer.get("kind")), "Certificate")
    # Every value may come from a record: `show` isolates it for direction and flags it when
    # it hides direction controls or mixes alphabets.
    rows = [
        ("Certificate", show(answer["certificate_id"])),
        ("Kind", escape(kind)),
        ("Holder", show(answer.get("holder") or "not shown (at the holder's request)")),
        ("Valid from", show(answer.get("valid_from") or "—")),
        ("Valid until", show(answer.get("valid_until") or "does not expire")),
    ]
    scope = answer.get("scope")
    if scope:
        regions = ", ".join(show(r) for r in scope["regions"])
        languages = ", ".join(show(lang) for lang in scope["languages"])
        material = show(scope["material_version"])
        rows.append(("Scope", f"regions {regions}; languages {languages}; material {material}"))
    if answer["status"] in ("suspended", "revoked"):
        rows.append(("Reason", show(answer.get("reason") or "—")))
        rows.append(("Since", show(answer.get("since") or "—")))
        if answer.get("until"):
            rows.append(("Suspended until", show(answer["until"])))
    if answer["status"] == "expired":
        rows.append(("Expired on", show(answer.get("since") or "—")))
    details = "".join(f"<dt>{escape(k)}</dt><dd>{html}</dd>" for k, html in rows)
    timeline = "".join(
        f"<li>{_dated(item)}{show(_label(item))}"
        f" <span class=proof>({escape(_where(item))})</span></li>"
        for item in answer.get("evidence", [])
    )
    log = answer.get("log")
    proof = (
        f"<p class=proof>Proven in the log at position {log['position']}, checkpoint of size "
        f"{log['tree_size']} signed at {escape(_signed_at(log['checkpoint']['note']))}.</p>"
        if log
        else "<p class=proof>Not yet under a signed checkpoint (within a second).</p>"
    )
    identity = (
        "<p class=proof>Ledger identity (trust root fingerprint):"
        f" <code>{escape(fingerprint)}</code>. It should match the fingerprint the Foundation"
        " publishes on its own website and prints on its certificates;"
        " <a href='/log/trust-root'>the trust root</a>.</p>"
        if fingerprint
        else ""
    )
    body = (
        f"<h1>{escape(kind)} certificate</h1>"
        f"<p class=status role=status style='color:{colour};border-color:{colour}'>"
        f"<span aria-hidden=true>{symbol}</span> {word.upper()}</p>"
        f"<p>Status on {escape(answer['as_of'])}.</p><dl>{details}</dl>"
        f"<h2>Evidence</h2><ol>{timeline}</ol>{proof}{identity}"
        f"<form method=get action='{escape(action)}'><label for=as_of>Status on date</label>"
        f"<input id=as_of name=as_of type=date value='{escape(answer['as_of'])}'>"
        f"<button type=submit>Check</button></form>"
    )
    return page(f"{word}: certificate {answer['certificate_id']}", body)


def unknown_page(certificate_id: str) -> str:
    body = (
        "<h1>No such certificate</h1><p class=status role=status "
        "style='color:#3d4451;border-color:#3d4451'><span aria-hidden=true>?</span> UNKNOWN</p>"
        f"<p>{show(certificate_id)} is not a certificate of this ledger. Check the characters:"
        " certificate ids look like LT-7KQ2-M9XD-3FHT.</p>"
    )
    return page("No such certificate", body)


CORRECTIONS = {
    "attendance_corrected": "Attendance of week {week} corrected on {on}",
    "course_retracted": "A course record retracted on {on}",
    "sign_off_withdrawn": "A project sign-off withdrawn on {on}",
    "marked_duplicate": "A duplicate registration merged into this holder's record on {on}",
    "duplicate_merged": "A duplicate registration merged into this holder's record on {on}",
}


def _dated(item: dict[str, Any]) -> str:
    on = item.get("effective_on")
    return f"{escape(str(on))} " if on else ""


def correction_sentence(item: dict[str, Any]) -> str:
    """A correction of the evidence in plain words, with what it touched and when; never its
    reason, which is personal free text."""
    name = str(item.get("type", "")).rpartition(".")[2]
    template = CORRECTIONS.get(name, name.replace("_", " ").capitalize() + " on {on}")
    return template.format(week=item.get("week"), on=item.get("on") or "an unrecorded date")


def _label(item: dict[str, Any]) -> str:
    kind = item.get("kind")
    if kind == "correction":
        return correction_sentence(item)
    if kind == "decision":
        return str(item.get("type", "")).replace("certificate.", "").replace("_", " ")
    if kind == "attendance":
        return f"attendance: {item.get('weeks')} weeks"
    return str(kind).replace("_", " ")


def _where(item: dict[str, Any]) -> str:
    if "position" in item:
        return f"log position {item['position']}"
    if "positions" in item:
        return "log positions " + (", ".join(str(p) for p in item["positions"]) or "none")
    return f"certificate {item.get('certificate_id', '')}"


def _signed_at(note: str) -> str:
    for line in note.splitlines():
        if line.startswith("signed-at "):
            return line[len("signed-at ") :]
    return "—"
