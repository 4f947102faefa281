"""A printable A4 certificate with a QR code that opens its verification page.

A PDF is a copy that outlives the day it was made, so it says what it is: the date and time it
was produced, the ledger's trust root fingerprint, and that the live status is at the address
of its QR code.

A certificate that is revoked, suspended, expired (or not yet valid) on the day the PDF is
produced is still served, but never as a clean certificate: a large diagonal band across the
page states the status and its dates, and the details table says the same in plain words. We
watermark rather than refuse because the marked copy is useful to both readers and misleads
neither: the holder keeps a record of what they held and until when (a refusal would take it
away exactly when they need it, for an appeal or a CV that says "licensed 2024-2026"), and an
employer handed the file sees the truth on the page itself, without having to follow the QR
code. A refusal would also only move the problem: a clean copy downloaded the day before the
revocation stays clean, and that is why every copy names its production date and its live
address. The status comes from `projections.facts.status_on`, the same function the
verification page and offline verification use, so the three never disagree.

Every visible string is a gettext message of the `pdf` domain (`ledger.i18n`), in the
language the request chose; the certificate's title and criteria are translated here from
their English in `ledger.credentials.issuer.ACHIEVEMENTS` (the signed credential keeps the
English). The issuer's name is a proper name and stays as it is.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import segno
from fontTools.pens.basePen import BasePen  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.drawing import PaintedPath
from fpdf.enums import PathPaintRule

from ledger.credentials.issuer import ACHIEVEMENTS, ISSUER_NAME
from ledger.i18n import DEFAULT, long_day, translation
from projections.facts import status_on

FONTS = Path("/usr/share/fonts/truetype/dejavu")
FONT = FONTS / "DejaVuSans.ttf"
BOLD = FONTS / "DejaVuSans-Bold.ttf"

BAND_COLOURS = {
    "revoked": (164, 22, 26),
    "suspended": (138, 75, 0),
    "expired": (61, 68, 81),
    "unknown": (61, 68, 81),
}
"""The status colours of the verification page; a valid certificate has no band."""

QR_TOP = 196.0
QR_SIZE = 56.0
BAND_ANGLE = 35.0
BAND_CENTRE = (105.0, 118.0)
BAND_LENGTH = 204.0
BAND_HEIGHT = 40.0
"""The band runs from lower left to upper right over the title, holder and details, and its
lower edge stays above the QR code (which must keep scanning)."""

DETAILS_TYPE = ((10.0, 6.5), (8.5, 5.0), (7.0, 4.0))
"""The details table's font size (points) and line height (mm), largest first."""

Gettext = Callable[[str], str]
PROGRAMME = "Cluster Management Excellence"
"""The programme's name, a proper name in every language."""


def achievement_text(kind: str, _: Gettext) -> tuple[str, str]:
    """The title and criteria of a kind of certificate in the reader's language. The English
    must stay identical to `ACHIEVEMENTS` (a test compares them)."""
    texts = {
        "associate_trainer": (
            _("Associate Trainer in Cluster Management Excellence"),
            _(
                "Completed the train-the-trainers programme: at least 5 of 6 in-class"
                " weeks and a field project signed off by its tutor."
            ),
        ),
        "licence": (
            _("Licensed Trainer in Cluster Management Excellence"),
            _(
                "Entitled to run the Foundation's courses for cluster managers with the ECEI"
                " training material, within the licensed scope."
            ),
        ),
        "instructor": (
            _("Instructor in Cluster Management Excellence"),
            _("Certified to deliver the Foundation's programme to cluster managers."),
        ),
    }
    if kind in texts:
        return texts[kind]
    _type, title, criteria = ACHIEVEMENTS[kind]
    return title, criteria


def status_lines(status: dict[str, Any], language: str, _: Gettext) -> tuple[str, str, str]:
    """The status on the production day in three forms: its word for the band ("" when
    valid), the band's line of dates beneath it, and the sentence of the details table (which
    starts with the same word, so that text extraction, which skips diagonal text, finds it)."""
    since = long_day(status["since"], language)
    until = long_day(status["until"], language)
    match status["status"]:
        case "revoked":
            return (
                _("REVOKED"),
                _("on %(date)s") % {"date": since},
                _("REVOKED on %(date)s") % {"date": since},
            )
        case "suspended" if until:
            dates = {"start": since, "end": until}
            return (
                _("SUSPENDED"),
                _("from %(start)s until %(end)s") % dates,
                _("SUSPENDED from %(start)s until %(end)s") % dates,
            )
        case "suspended":
            return (
                _("SUSPENDED"),
                _("since %(date)s") % {"date": since},
                _("SUSPENDED since %(date)s") % {"date": since},
            )
        case "expired":
            return (
                _("EXPIRED"),
                _("on %(date)s") % {"date": since},
                _("EXPIRED on %(date)s") % {"date": since},
            )
        case "valid":
            return "", "", _("Valid")
        case _:
            start = long_day(status.get("valid_from"), language)
            return (
                _("NOT YET VALID"),
                _("valid from %(date)s") % {"date": start},
                _("NOT YET VALID: valid from %(date)s") % {"date": start},
            )


UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "\u0131": "i", "œ": "oe"})
"""Letters that Unicode does not decompose into a base letter and an accent."""


def _latin1(text: str) -> str:
    """Without a Unicode font, fold letters to their Latin-1 form (Stojiljković -> Stojiljkovic,
    Łukasz -> Lukasz), keeping no-break spaces."""
    parts = []
    for part in text.translate(UNDECOMPOSED).split("\u00a0"):
        folded = unicodedata.normalize("NFKD", part)
        parts.append("".join(c for c in folded if not unicodedata.combining(c)))
    return "\u00a0".join(parts).encode("latin-1", "replace").decode("latin-1")


class _Page:
    """The page and its fonts: DejaVu when installed (every letter of our languages and of
    holders' names), else the core Helvetica with text folded to Latin-1."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.unicode = FONT.is_file() and BOLD.is_file()
        if self.unicode:
            pdf.add_font("body", "", str(FONT))
            pdf.add_font("body", "B", str(BOLD))
            self.family = "body"
        else:
            self.family = "helvetica"

    def text(self, value: str) -> str:
        return value if self.unicode else _latin1(value)

    def font(self, size: float, style: str = "") -> None:
        self.pdf.set_font(self.family, style=style, size=size)

    def fit(self, value: str, width: float, size: float, style: str = "") -> None:
        """The font at `size` points, or smaller until `value` fits in `width` mm."""
        self.font(size, style)
        while size > 6 and self.pdf.get_string_width(self.text(value)) > width:
            size -= 1
            self.font(size, style)


def certificate_pdf(
    facts: dict[str, Any],
    holder: str | None,
    verify_url: str,
    fingerprint: str | None = None,
    *,
    produced: datetime,
    language: str = DEFAULT,
    name_unavailable: bool = False,
) -> bytes:
    """The certificate as it stands at `produced` (a UTC time: its date decides the status),
    in `language`; `fingerprint` is the ledger's trust root fingerprint, printed so that a
    reader can compare it with the one the Foundation publishes. Without `holder`, the holder
    is named as such, and said to be not available here when `name_unavailable` (a ledger
    restored without its data keys)."""
    _ = translation(language, "pdf").gettext
    produced = produced.astimezone(UTC) if produced.tzinfo else produced
    status = status_on(facts, produced.date())
    word, dates, sentence = status_lines({**status, "valid_from": facts["valid_from"]}, language, _)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_lang(language)
    pdf.set_title(_("Certificate %(id)s") % {"id": facts["certificate_id"]})
    pdf.set_author(ISSUER_NAME)
    pdf.add_page()
    page = _Page(pdf)
    text = page.text

    title, criteria = achievement_text(facts["kind"], _)
    pdf.set_draw_color(20, 60, 120)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 190, 277)
    page.font(14)
    pdf.set_y(24)
    pdf.cell(0, 8, text(ISSUER_NAME), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    page.font(24)
    pdf.set_x(20)
    title = title.replace(PROGRAMME, PROGRAMME.replace(" ", "\u00a0"))  # kept on one line
    pdf.multi_cell(170, 11, text(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    page.font(13)
    pdf.cell(0, 8, text(_("awarded to")), align="C", new_x="LMARGIN", new_y="NEXT")
    awarded = holder or _("the holder of this certificate")
    page.fit(awarded, 170, 22)
    pdf.cell(0, 13, text(awarded), align="C", new_x="LMARGIN", new_y="NEXT")
    if holder is None and name_unavailable:
        page.font(11)
        pdf.cell(
            0,
            6,
            text(_("(name not available here: this copy of the ledger does not hold it)")),
            align="C",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    page.font(11)
    pdf.ln(3)
    pdf.set_x(25)
    pdf.multi_cell(160, 5.5, text(criteria), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    colour = BAND_COLOURS.get(status["status"], BAND_COLOURS["unknown"]) if word else None
    _details(page, facts, sentence, colour, language, _)

    if word:
        _band(page, status["status"], word, dates)
    _qr_and_footer(page, verify_url, fingerprint, produced, language, _)
    return bytes(pdf.output())


def _details(
    page: _Page,
    facts: dict[str, Any],
    sentence: str,
    colour: tuple[int, int, int] | None,
    language: str,
    _: Gettext,
) -> None:
    """The details table; the status row is written in bold when the certificate is not valid."""
    pdf = page.pdf
    rows: list[tuple[str, str]] = [
        (_("Certificate id"), facts["certificate_id"]),
        (_("Status"), sentence),
        (_("Valid from"), long_day(facts["valid_from"], language)),
        (
            _("Valid until"),
            long_day(facts["valid_until"], language)
            if facts.get("valid_until")
            else _("does not expire"),
        ),
    ]
    scope = facts.get("scope")
    if scope:
        rows.append((_("Regions"), ", ".join(scope["regions"])))
        rows.append((_("Languages"), ", ".join(scope["languages"])))
        rows.append((_("Material"), str(scope["material_version"])))
    rows.append((_("Issuer"), ISSUER_NAME))
    # The largest type whose table ends above the QR code (a scope of many regions wraps).
    for size, line in DETAILS_TYPE:
        height = 0.0
        for number, (_label, value) in enumerate(rows):
            page.font(size, "B" if number == 1 else "")
            lines = pdf.multi_cell(102, line, page.text(value), dry_run=True, output="LINES")
            height += line * max(len(lines) if isinstance(lines, list) else 1, 1)
        if pdf.get_y() + height <= QR_TOP - 2:
            break
    for number, (label, value) in enumerate(rows):
        page.font(size)
        pdf.set_x(28)
        pdf.cell(52, line, page.text(label))
        flagged = colour is not None and number == 1
        page.font(size, "B" if flagged else "")
        if colour is not None and flagged:
            pdf.set_text_color(*colour)
        pdf.multi_cell(102, line, page.text(value), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)


def _band(page: _Page, status: str, word: str, dates: str) -> None:
    """The status across the page: a translucent band in the status colour, the status in
    large letters and its dates beneath, over the certificate's text (still readable).

    The band's letters are drawn as the font's outlines, a picture rather than text: text
    extraction would otherwise mix the diagonal letters into the lines they cross (poppler
    does), garbling the page's text; the status stays text in the details table."""
    pdf = page.pdf
    colour = BAND_COLOURS.get(status, BAND_COLOURS["unknown"])
    x, y = BAND_CENTRE
    left, top = x - BAND_LENGTH / 2, y - BAND_HEIGHT / 2
    with pdf.rotation(BAND_ANGLE, x=x, y=y):
        with pdf.local_context(fill_opacity=0.10, stroke_opacity=0.5):
            pdf.set_fill_color(*colour)
            pdf.set_draw_color(*colour)
            pdf.set_line_width(0.8)
            pdf.rect(left, top, BAND_LENGTH, BAND_HEIGHT, style="DF")
        for value, size, baseline, opacity in ((word, 50, 21.0, 0.5), (dates, 16, 33.0, 0.65)):
            if page.unicode:
                _outlined(pdf, value, x, top + baseline, size, BAND_LENGTH - 30, colour, opacity)
            else:
                pdf.set_text_color(*colour)
                with pdf.local_context(fill_opacity=opacity):
                    page.fit(value, BAND_LENGTH - 30, size, "B")
                    pdf.set_xy(left, top + baseline - size * 0.3)
                    pdf.cell(BAND_LENGTH, size * 0.35, page.text(value), align="C")
                pdf.set_text_color(0, 0, 0)


@cache
def _bold_outlines() -> TTFont:
    return TTFont(str(BOLD), lazy=True)


class _Outlines(BasePen):  # type: ignore[misc]
    """Draws glyph contours (font units, y up) into a PDF path (mm, y down) at a pen
    position `x`, `baseline`."""

    def __init__(self, glyphs: Any, path: PaintedPath, scale: float, baseline: float) -> None:
        super().__init__(glyphs)
        self.path, self.scale, self.baseline, self.x = path, scale, baseline, 0.0

    def _at(self, point: tuple[float, float]) -> tuple[float, float]:
        return self.x + point[0] * self.scale, self.baseline - point[1] * self.scale

    def _moveTo(self, point: tuple[float, float]) -> None:  # noqa: N802 (the pen's protocol)
        self.path.move_to(*self._at(point))

    def _lineTo(self, point: tuple[float, float]) -> None:  # noqa: N802
        self.path.line_to(*self._at(point))

    def _curveToOne(self, *points: tuple[float, float]) -> None:  # noqa: N802
        (x1, y1), (x2, y2), (x3, y3) = (self._at(p) for p in points)
        self.path.curve_to(x1, y1, x2, y2, x3, y3)

    def _qCurveToOne(self, *points: tuple[float, float]) -> None:  # noqa: N802
        (x1, y1), (x2, y2) = (self._at(p) for p in points)
        self.path.quadratic_curve_to(x1, y1, x2, y2)

    def _closePath(self) -> None:  # noqa: N802
        self.path.close()


def _outlined(
    pdf: FPDF,
    value: str,
    centre: float,
    baseline: float,
    size: float,
    width: float,
    colour: tuple[int, int, int],
    opacity: float,
) -> None:
    """`value` in DejaVu Sans Bold outlines, centred on `centre`, at `size` points or smaller
    to fit in `width` mm."""
    font = _bold_outlines()
    cmap, metrics, glyphs = font.getBestCmap(), font["hmtx"], font.getGlyphSet()
    names = [cmap.get(ord(c), ".notdef") for c in value]
    units = sum(metrics[name][0] for name in names)
    em = size * 25.4 / 72
    scale = min(em, width * font["head"].unitsPerEm / max(units, 1)) / font["head"].unitsPerEm
    with pdf.new_path(paint_rule=PathPaintRule.FILL_NONZERO) as path:
        path.style.fill_color = "#" + "".join(f"{c:02x}" for c in colour)
        path.style.fill_opacity = opacity
        pen = _Outlines(glyphs, path, scale, baseline)
        pen.x = centre - units * scale / 2
        for name in names:
            glyphs[name].draw(pen)
            pen.x += metrics[name][0] * scale


def _qr_and_footer(
    page: _Page,
    verify_url: str,
    fingerprint: str | None,
    produced: datetime,
    language: str,
    _: Gettext,
) -> None:
    """The QR code of the verification page, its address written out, when this copy was
    produced and the trust root to compare with the one the Foundation publishes."""
    pdf = page.pdf
    qr = io.BytesIO()
    segno.make(verify_url, error="m").save(qr, kind="png", scale=8, border=4)
    qr.seek(0)
    pdf.image(qr, x=105 - QR_SIZE / 2, y=QR_TOP, w=QR_SIZE, h=QR_SIZE)
    pdf.set_y(QR_TOP + QR_SIZE + 1)
    page.font(9)
    live = _("The current status of this certificate is always at this address (the QR code):")
    pdf.cell(0, 5, page.text(live), align="C", new_x="LMARGIN", new_y="NEXT")
    page.fit(verify_url, 180, 10, "B")
    pdf.cell(0, 5.5, page.text(verify_url), align="C", new_x="LMARGIN", new_y="NEXT")
    page.font(8)
    pdf.ln(1.5)
    made = _("Produced on %(date)s at %(time)s UTC, with the status of that day.") % {
        "date": long_day(produced.date(), language),
        "time": produced.strftime("%H:%M"),
    }
    pdf.cell(0, 4.5, page.text(made), align="C", new_x="LMARGIN", new_y="NEXT")
    if fingerprint:
        root = _("Ledger trust root: sha256 %(fingerprint)s") % {"fingerprint": fingerprint}
        pdf.cell(0, 4.5, page.text(root), align="C", new_x="LMARGIN", new_y="NEXT")
