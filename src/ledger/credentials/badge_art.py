"""The badge image of each kind of certificate, as SVG and as PNG, drawn by our own code.

A round badge: a coloured band (one colour per kind) carrying the Foundation's short name, a
light disc with one to three stars (the step on the trainer's path), the kind's title and its
field. The same geometry is written as SVG text and painted with Pillow, so the two look alike.

Both are deterministic (same bytes for the same kind): they are the Achievement's `image`, which
displayers cache, and the base the credential is baked into (`ledger.credentials.baking`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from ledger.credentials.issuer import ACHIEVEMENTS

SIZE = 400
SHORT_NAME = "EFCE"
BOLD_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
SVG_FONTS = "'DejaVu Sans', Verdana, 'Segoe UI', Arial, sans-serif"
PAPER = "#fbf8f1"
INK = "#24313d"
MUTED = "#5c6670"
SCALE = 4  # the PNG is painted this much larger, then reduced: smooth edges without blur


class UnknownKind(KeyError):
    """No badge is drawn for this kind of certificate."""


@dataclass(frozen=True)
class Badge:
    kind: str
    colour: str  # the band and the stars
    deep: str  # the band's outer edge and the title
    stars: int

    @property
    def title(self) -> str:
        """The achievement's name, e.g. "Licensed Trainer in Cluster Management Excellence"."""
        return ACHIEVEMENTS[self.kind][1]

    @property
    def title_lines(self) -> list[str]:
        return self.title.partition(" in ")[0].split()

    @property
    def field_lines(self) -> list[str]:
        field = self.title.partition(" in ")[2]  # "Cluster Management Excellence"
        words = field.split()
        return [" ".join(words[:-1]), words[-1]] if len(words) > 2 else [field]


BADGES = {
    "associate_trainer": Badge("associate_trainer", "#2b6f9e", "#1b4a6b", 1),
    "licence": Badge("licence", "#2e7d50", "#1d5536", 2),
    "instructor": Badge("instructor", "#7b3567", "#542244", 3),
}


def badge(kind: str) -> Badge:
    try:
        return BADGES[kind]
    except KeyError:
        raise UnknownKind(kind) from None


# Geometry, in the 400 x 400 frame.
CENTRE = SIZE / 2
OUTER = 196  # the band's outer edge
RULE = 189  # the thin light ring inside the band
INNER = 150  # the paper disc
INNER_RULE = 143  # the thin coloured ring on the paper
NAME_Y = 22  # the short name, on the band
STAR_Y = 112
STAR_SIZE = 17
STAR_GAP = 40
TITLE_Y = (190, 232)  # baselines of one or two title lines; one line sits between them
TITLE_SIZE = 38
DIVIDER_Y = 252
FIELD_Y = (279, 300)
FIELD_SIZE = 16
NAME_SIZE = 24


def _title_baselines(lines: int) -> list[float]:
    if lines == 1:
        return [(TITLE_Y[0] + TITLE_Y[1]) / 2 + 2]
    return list(TITLE_Y[:lines])


def _star_points(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    """A five-pointed star, one point up; inner radius 0.42 of the outer one."""
    points = []
    for index in range(10):
        r = radius if index % 2 == 0 else radius * 0.42
        angle = -math.pi / 2 + index * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return points


def _star_centres(count: int) -> list[tuple[float, float]]:
    first = CENTRE - STAR_GAP * (count - 1) / 2
    return [(first + STAR_GAP * i, STAR_Y) for i in range(count)]


def _bottom_stars() -> list[tuple[float, float]]:
    """Three small stars on the band at the bottom, balancing the name at the top."""
    radius = (RULE + INNER) / 2
    return [
        (
            CENTRE + radius * math.cos(math.radians(90 + d)),
            CENTRE + radius * math.sin(math.radians(90 + d)),
        )
        for d in (-14, 0, 14)
    ]


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _svg_star(cx: float, cy: float, radius: float, fill: str) -> str:
    points = " ".join(f"{_n(x)},{_n(y)}" for x, y in _star_points(cx, cy, radius))
    return f'<polygon points="{points}" fill="{fill}"/>'


@cache
def badge_svg(kind: str) -> bytes:
    """The badge as SVG 1.1 text (UTF-8), with a `<title>` for screen readers."""
    found = badge(kind)
    label = escape(f"{SHORT_NAME}: {found.title}")
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}"'
        f' viewBox="0 0 {SIZE} {SIZE}" role="img" aria-labelledby="title">',
        f'<title id="title">{label}</title>',
        f'<circle cx="{_n(CENTRE)}" cy="{_n(CENTRE)}" r="{OUTER}" fill="{found.colour}"'
        f' stroke="{found.deep}" stroke-width="4"/>',
        f'<circle cx="{_n(CENTRE)}" cy="{_n(CENTRE)}" r="{RULE}" fill="none" stroke="{PAPER}"'
        ' stroke-width="2" stroke-opacity="0.8"/>',
        f'<circle cx="{_n(CENTRE)}" cy="{_n(CENTRE)}" r="{INNER}" fill="{PAPER}"/>',
        f'<circle cx="{_n(CENTRE)}" cy="{_n(CENTRE)}" r="{INNER_RULE}" fill="none"'
        f' stroke="{found.colour}" stroke-width="2"/>',
        f'<g font-family="{SVG_FONTS}" text-anchor="middle">',
        f'<text x="{_n(CENTRE)}" y="{NAME_Y + NAME_SIZE * 0.72:.0f}" font-size="{NAME_SIZE}"'
        f' font-weight="bold" fill="{PAPER}">{SHORT_NAME}</text>',
    ]
    for line, baseline in zip(
        found.title_lines, _title_baselines(len(found.title_lines)), strict=True
    ):
        parts.append(
            f'<text x="{_n(CENTRE)}" y="{_n(baseline)}" font-size="{TITLE_SIZE}"'
            f' font-weight="bold" fill="{found.deep}">{escape(line)}</text>'
        )
    for line, baseline in zip(found.field_lines, FIELD_Y[: len(found.field_lines)], strict=True):
        parts.append(
            f'<text x="{_n(CENTRE)}" y="{baseline}" font-size="{FIELD_SIZE}"'
            f' fill="{MUTED}">{escape(line)}</text>'
        )
    parts.append("</g>")
    parts.append(
        f'<line x1="{_n(CENTRE - 60)}" y1="{DIVIDER_Y}" x2="{_n(CENTRE + 60)}" y2="{DIVIDER_Y}"'
        f' stroke="{found.colour}" stroke-width="2"/>'
    )
    parts += [_svg_star(x, y, STAR_SIZE, found.colour) for x, y in _star_centres(found.stars)]
    parts += [_svg_star(x, y, 7, PAPER) for x, y in _bottom_stars()]
    parts.append("</svg>")
    return ("\n".join(parts) + "\n").encode("utf-8")


def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu when the system has it (as the PDF does), else Pillow's own default font."""
    path = BOLD_FONT if bold else FONT
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _text(
    draw: ImageDraw.ImageDraw, baseline: float, text: str, size: int, fill: str, bold: bool
) -> None:
    """Centred on the frame's vertical axis, sitting on `baseline` (as SVG places text)."""
    draw.text(
        (CENTRE * SCALE, baseline * SCALE),
        text,
        font=_font(bold, size * SCALE),
        fill=fill,
        anchor="ms",
    )


def _disc(draw: ImageDraw.ImageDraw, radius: float, **style: object) -> None:
    box = [(CENTRE - radius) * SCALE, (CENTRE - radius) * SCALE]
    box += [(CENTRE + radius) * SCALE, (CENTRE + radius) * SCALE]
    draw.ellipse(box, **style)  # type: ignore[arg-type]


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float, fill: str) -> None:
    draw.polygon([(x * SCALE, y * SCALE) for x, y in _star_points(cx, cy, radius)], fill=fill)


@cache
def badge_png(kind: str) -> bytes:
    """The badge as a 400 x 400 RGBA PNG (transparent outside the disc)."""
    found = badge(kind)
    image = Image.new("RGBA", (SIZE * SCALE, SIZE * SCALE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    _disc(draw, OUTER + 2, fill=found.deep)
    _disc(draw, OUTER - 2, fill=found.colour)
    _disc(draw, RULE + 1, fill=None, outline=PAPER, width=2 * SCALE)
    _disc(draw, INNER, fill=PAPER)
    _disc(draw, INNER_RULE + 1, fill=None, outline=found.colour, width=2 * SCALE)
    _text(draw, NAME_Y + NAME_SIZE * 0.72, SHORT_NAME, NAME_SIZE, PAPER, bold=True)
    for line, baseline in zip(
        found.title_lines, _title_baselines(len(found.title_lines)), strict=True
    ):
        _text(draw, baseline, line, TITLE_SIZE, found.deep, bold=True)
    for line, baseline in zip(found.field_lines, FIELD_Y[: len(found.field_lines)], strict=True):
        _text(draw, baseline, line, FIELD_SIZE, MUTED, bold=False)
    draw.line(
        [((CENTRE - 60) * SCALE, DIVIDER_Y * SCALE), ((CENTRE + 60) * SCALE, DIVIDER_Y * SCALE)],
        fill=found.colour,
        width=2 * SCALE,
    )
    for x, y in _star_centres(found.stars):
        _star(draw, x, y, STAR_SIZE, found.colour)
    for x, y in _bottom_stars():
        _star(draw, x, y, 7, PAPER)
    small = image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "PNG", optimize=False, compress_level=9)
    return out.getvalue()
