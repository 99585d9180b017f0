"""Names folded for files and labels: any script to ASCII, and slugs."""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii


def _syllabic(char: str) -> bool:
    """Whether a character stands for a whole syllable (Han, Hangul, kana): one word each."""
    name = unicodedata.name(char, "")
    return name.startswith(("CJK", "HANGUL", "HIRAGANA", "KATAKANA"))


def transliterate(text: str) -> str:
    """Spell ``text`` in ASCII: "Jonas Åström" gives "Jonas Astrom", "李小龙" "Li Xiao Long"."""
    pieces = []
    for char in text:
        ascii_char = anyascii(char)
        pieces.append(f" {ascii_char} " if _syllabic(char) else ascii_char)
    return " ".join("".join(pieces).split())


def slugify(text: str) -> str:
    """Fold a name to an ASCII slug: "Пётр Чайковский" becomes ``petr-chaykovskiy``."""
    return re.sub(r"[^a-z0-9]+", "-", transliterate(text).lower()).strip("-")
