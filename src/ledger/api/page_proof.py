""" "How this is proven": the technical proof behind a verification page, folded away under
its heading (a `<details>` element, which opens without JavaScript) so that the first screen
speaks to people and the proof stays one click away for whoever checks it.

It lists the evidence (each record named by its log position, corrections included, never
their reasons), the inclusion of the certificate's record under a signed checkpoint (its size
and root), who signed that checkpoint (the ledger's key, and witnesses who cosigned it), and
the trust root fingerprint to compare with the one the Foundation publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import quote

from ledger.api.display import show
from ledger.api.page_words import Gettext, fill
from ledger.i18n import long_day


def proven(answer: Mapping[str, Any], fingerprint: str | None, language: str, _: Gettext) -> str:
    """The section (HTML), closed until opened."""
    items = "".join(evidence_item(item, language, _) for item in answer.get("evidence", []))
    heading = escape(_("How this is proven"))
    parts = [
        f"<summary>{heading}</summary>",
        "<p>"
        + escape(
            _(
                "Every step behind this certificate is a signed record in the Foundation's"
                " ledger, a log that records can be added to but never changed or removed."
                " Each record is named below by its position in the log. A checkpoint signed"
                " by the ledger, and cosigned by independent witnesses where they are set up,"
                " proves that the records are there and unchanged."
            )
        )
        + "</p>",
    ]
    if items:
        parts.append(tag("h3", _("Evidence")) + f"<ol class=evidence>{items}</ol>")
    parts.append(tag("h3", _("Inclusion in the log")) + inclusion(answer, _))
    if fingerprint:
        parts.append(tag("h3", _("Trust root")) + identity(fingerprint, _))
    return "<details class=proof>" + "".join(parts) + "</details>"


def inclusion(answer: Mapping[str, Any], _: Gettext) -> str:
    log = answer.get("log")
    if not log:
        return (
            "<p>"
            + escape(
                _(
                    "This certificate's record is not yet under a signed checkpoint: that"
                    " takes about a second. Reload the page."
                )
            )
            + "</p>"
        )
    checkpoint = log["checkpoint"]
    sentence = fill(
        _(
            "The record that issued this certificate is at log position %(position)s. It is"
            " proven against the checkpoint of %(size)s records with root hash %(root)s,"
            " signed at %(time)s."
        ),
        position=escape(str(log["position"])),
        size=escape(str(log["tree_size"])),
        root=f"<code>{escape(str(checkpoint['root']))}</code>",
        time=escape(signed_at(str(checkpoint["note"]))),
    )
    signers = signatures(str(checkpoint["note"]), _)
    links = (
        link("/log/checkpoint", _("The latest checkpoint"))
        + " \u00b7 "
        + link("/log/key", _("The key that signs checkpoints"))
    )
    return f"<p>{sentence}</p>{signers}<p>{links}</p>"


def signatures(note: str, _: Gettext) -> str:
    """The signatures on the checkpoint, by name: the ledger's own key (named as the log's
    origin) and each witness's cosignature."""
    lines = note.splitlines()
    origin = lines[0] if lines else ""
    names = [line.split(" ")[1] for line in lines if line.startswith("\u2014 ") and " " in line[2:]]
    own = [n for n in names if n == origin]
    witnesses = [n for n in names if n != origin]
    items = [
        "<li>"
        + fill(_("Signed by the ledger's checkpoint key (%(name)s)."), name=show(n))
        + "</li>"
        for n in own
    ]
    items += [
        "<li>" + fill(_("Cosigned by the witness %(name)s."), name=show(n)) + "</li>"
        for n in witnesses
    ]
    if not witnesses:
        items.append("<li>" + escape(_("No witness has cosigned this checkpoint.")) + "</li>")
    return "<ul class=signatures>" + "".join(items) + "</ul>"


def identity(fingerprint: str, _: Gettext) -> str:
    sentence = fill(
        _(
            "Ledger identity (trust root fingerprint): %(fingerprint)s. It should match the"
            " fingerprint the Foundation publishes on its own website and prints on its"
            " certificates."
        ),
        fingerprint=f"<code>{escape(fingerprint)}</code>",
    )
    trust_root = link("/log/trust-root", _("The trust root"))
    return f"<p>{sentence} {trust_root}</p>"


def tag(name: str, text: str) -> str:
    """An element holding plain text (escaped)."""
    return f"<{name}>{escape(text, quote=False)}</{name}>"


def link(href: str, text: str) -> str:
    return f"<a href='{escape(href)}'>{escape(text, quote=False)}</a>"


def evidence_item(item: Mapping[str, Any], language: str, _: Gettext) -> str:
    on = item.get("effective_on")
    day = f"<span class=day>{escape(long_day(on, language))}</span> " if on else ""
    return f"<li>{day}{label(item, language, _)} <span class=where>{where(item, _)}</span></li>"


def label(item: Mapping[str, Any], language: str, _: Gettext) -> str:
    """What the piece of evidence is, in words (HTML)."""
    kind = item.get("kind")
    if kind == "correction":
        return correction_sentence(item, language, _)
    if kind == "decision":
        return escape(decision(str(item.get("type", "")), _))
    if kind == "attendance":
        return fill(_("In-class weeks attended: %(weeks)s"), weeks=escape(str(item.get("weeks"))))
    if kind == "enrolment":
        return escape(_("Enrolled in the train-the-trainers programme"))
    if kind == "sign_off":
        return escape(_("Field project signed off by its tutor"))
    if kind == "courses":
        return escape(_("Local courses delivered"))
    if kind == "full_programmes":
        return escape(_("Full programmes delivered to cluster managers"))
    if kind == "qualification":
        return fill(_("Based on the Associate Trainer qualification %(id)s"), id=linked(item))
    if kind == "licence":
        return fill(_("Based on the licence %(id)s"), id=linked(item))
    return show(str(kind).replace("_", " "))


def linked(item: Mapping[str, Any]) -> str:
    certificate_id = str(item.get("certificate_id", ""))
    return f"<a href='/verify/{quote(certificate_id, safe='')}'>{show(certificate_id)}</a>"


def decision(event_type: str, _: Gettext) -> str:
    names = {
        "certificate.associate_trainer_issued": _(
            "Associate Trainer qualification awarded by the certification committee"
        ),
        "certificate.licence_granted": _("Licence granted by the certification committee"),
        "certificate.licence_renewed": _("Licence renewed"),
        "certificate.licence_suspended": _("Licence suspended"),
        "certificate.licence_reinstated": _("Licence reinstated"),
        "certificate.licence_scope_reduced": _("Scope of the licence reduced"),
        "certificate.licence_revoked": _("Licence revoked"),
        "certificate.instructor_certified": _(
            "Instructor Certification granted by the certification committee"
        ),
        "certificate.instructor_renewed": _("Instructor Certification renewed"),
        "certificate.instructor_revoked": _("Instructor Certification revoked"),
    }
    return names.get(event_type) or event_type.replace("certificate.", "").replace("_", " ")


def correction_sentence(item: Mapping[str, Any], language: str, _: Gettext) -> str:
    """A correction of the evidence in plain words, with what it touched and when (HTML);
    never its reason, which is personal free text."""
    name = str(item.get("type", "")).rpartition(".")[2]
    on = escape(long_day(item.get("on"), language)) or escape(_("an unrecorded date"))
    if name == "attendance_corrected":
        return fill(
            _("Attendance of week %(week)s corrected on %(on)s"),
            week=escape(str(item.get("week"))),
            on=on,
        )
    if name == "course_retracted":
        return fill(_("A course record retracted on %(on)s"), on=on)
    if name == "sign_off_withdrawn":
        return fill(_("A project sign-off withdrawn on %(on)s"), on=on)
    if name in ("marked_duplicate", "duplicate_merged"):
        return fill(_("A duplicate registration merged into this holder's record on %(on)s"), on=on)
    return fill(_("A correction (%(name)s) on %(on)s"), name=show(name.replace("_", " ")), on=on)


def where(item: Mapping[str, Any], _: Gettext) -> str:
    if "position" in item:
        return fill(_("(log position %(position)s)"), position=escape(str(item["position"])))
    if "positions" in item:
        positions = ", ".join(str(p) for p in item["positions"])
        if not positions:
            return escape(_("(no log position)"))
        return fill(_("(log positions %(positions)s)"), positions=escape(positions))
    return ""


def signed_at(note: str) -> str:
    for line in note.splitlines():
        if line.startswith("signed-at "):
            return line[len("signed-at ") :]
    return "\u2014"
