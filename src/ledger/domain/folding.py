"""How names, emails and organisations are compared: without case, accents or spacing.

"Hrušovská", "HRUSOVSKA" and " hrusovska " fold to the same text, so a search for one finds
the others and a registration that differs only so is seen as a possible duplicate.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that do not decompose into a base letter and a mark under NFKD.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ł": "l",
        "\u0131": "i",  # dotless i
        "ħ": "h",
    }
)
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower case, accents and marks removed, runs of space made one, ends trimmed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.translate(_SPECIAL).split())


def words(text: str) -> list[str]:
    """The folded words of `text` (letters and digits; punctuation separates words)."""
    return _WORD.findall(fold(text))


def fold_email(email: str) -> str:
    """An email address compared whole: folded, no spaces."""
    return "".join(fold(email).split())
