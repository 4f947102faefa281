"""Text from records, shown safely in HTML: isolated for direction, controls made visible,
and a flag on text that mixes alphabets (a Cyrillic letter a inside a Latin name looks the same).

A reason ending in U+202E then "gnp.exe" would otherwise read "exe.png", and could reorder the
text around it: each value is wrapped in `<bdi>`, and every direction control is shown as its
code point instead of acting.
"""

from __future__ import annotations

import unicodedata
from html import escape

DIRECTION_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Scripts written together in one language are not a mix (Japanese, Korean with Hanja).
_SAME_WRITING = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "HALFWIDTH": "CJK"}


def scripts(text: str) -> set[str]:
    """The scripts of the letters in `text`, by the first word of each letter's Unicode name."""
    found = set()
    for char in text:
        if not unicodedata.category(char).startswith("L"):
            continue
        words = unicodedata.name(char, "UNKNOWN").split()
        if words[0] in ("MODIFIER", "FULLWIDTH") and len(words) > 1:
            words = words[1:]
        found.add(_SAME_WRITING.get(words[0], words[0]))
    return found


def mixed_scripts(text: str) -> list[str]:
    """The scripts, in name order, when letters of more than one are mixed; else []."""
    found = scripts(text)
    return sorted(s.title() for s in found) if len(found) > 1 else []


def has_direction_controls(text: str) -> bool:
    return any(char in DIRECTION_CONTROLS for char in text)


def show(text: str) -> str:
    """HTML for `text`: escaped, isolated, direction controls visible, mixed scripts flagged."""
    shown = "".join(
        f"<span class=control title='direction control'>[U+{ord(c):04X}]</span>"
        if c in DIRECTION_CONTROLS
        else escape(c)
        for c in text
    )
    flags = []
    if has_direction_controls(text):
        flags.append("contains direction controls, shown as code points")
    mixed = mixed_scripts(text)
    if mixed:
        flags.append(f"mixes alphabets: {', '.join(mixed)}")
    note = "".join(f" <strong class=flag>({escape(flag)})</strong>" for flag in flags)
    return f"<bdi>{shown}</bdi>{note}"
