"""A printable A4 certificate with a QR code that opens its verification page."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF

from ledger.credentials.issuer import ACHIEVEMENTS, ISSUER_NAME

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _latin1(text: str) -> str:
    """Without a Unicode font, fold letters to their Latin-1 form (Stojiljković -> Stojiljkovic)."""
    folded = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in folded if not unicodedata.combining(c))
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


def certificate_pdf(
    facts: dict[str, Any], holder: str | None, verify_url: str, fingerprint: str | None = None
) -> bytes:
    """The certificate; `fingerprint` is the ledger's trust root fingerprint, printed so that a
    reader can compare it with the one the Foundation publishes."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(f"Certificate {facts['certificate_id']}")
    pdf.set_author(ISSUER_NAME)
    pdf.add_page()
    unicode_font = FONT.is_file()
    if unicode_font:
        pdf.add_font("body", "", str(FONT))
        family = "body"
    else:
        family = "helvetica"

    def text(value: str) -> str:
        return value if unicode_font else _latin1(value)

    _, title, criteria = ACHIEVEMENTS[facts["kind"]]
    pdf.set_draw_color(20, 60, 120)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 190, 277)
    pdf.set_font(family, size=14)
    pdf.set_y(28)
    pdf.cell(0, 8, text(ISSUER_NAME), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=26)
    pdf.ln(14)
    pdf.multi_cell(0, 12, text(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=13)
    pdf.ln(8)
    pdf.cell(0, 8, "awarded to", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=22)
    pdf.cell(
        0,
        14,
        text(holder or "the holder of this certificate"),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(family, size=11)
    pdf.ln(6)
    pdf.multi_cell(0, 6, text(criteria), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    rows = [
        ("Certificate id", facts["certificate_id"]),
        ("Valid from", facts["valid_from"]),
        ("Valid until", facts.get("valid_until") or "does not expire"),
    ]
    scope = facts.get("scope")
    if scope:
        rows.append(("Regions", ", ".join(scope["regions"])))
        rows.append(("Languages", ", ".join(scope["languages"])))
        rows.append(("Material", scope["material_version"]))
    rows.append(("Issuer", ISSUER_NAME))
    for label, value in rows:
        pdf.set_x(40)
        pdf.cell(45, 8, text(label))
        pdf.cell(0, 8, text(str(value)), new_x="LMARGIN", new_y="NEXT")
    qr = io.BytesIO()
    segno.make(verify_url, error="m").save(qr, kind="png", scale=8, border=4)
    qr.seek(0)
    pdf.image(qr, x=75, y=200, w=60, h=60)
    pdf.set_y(262)
    pdf.set_font(family, size=9)
    pdf.cell(0, 6, text(f"Check this certificate: {verify_url}"), align="C")
    if fingerprint:
        pdf.set_y(268)
        pdf.set_font(family, size=8)
        pdf.cell(0, 5, text(f"Ledger trust root: sha256 {fingerprint}"), align="C")
    return bytes(pdf.output())
