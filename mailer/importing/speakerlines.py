"""A speaker line as pages and plans write it, read into speakers.

``Ann Ek, KTH; Bo Ly, SU`` (announce's own form), ``A, B, and C, Affiliation``, ``A and B,
Affiliation`` and ``Name (Affiliation)`` are read as they say. A line with more than one comma
and no "and" is one speaker, cut at the first comma: ``Ariel Flint Ashery, City St George's,
University of London``; where the part after the first comma could be a name too, the reading
is a guess, said so. One name per line is one speaker per line. A line that does not read as
names is kept whole, as one name, so no word is lost (a guess too).
"""

from __future__ import annotations

import re

from mailer.importing.draft import given
from mailer.series.model import Speaker

_PARENTHESES = re.compile(r"([^()]+?)\s*\(([^()]+)\)")
_AFFILIATION_WORDS = re.compile(
    r"(?i)\b(universit\w*|univ\.?|institut\w*|college|school|lab\w*|research|cent(er|re)|"
    r"department|dept\.?|faculty|hospital|academy|foundation|inc\.?|ltd\.?|ab|gmbh|corp\w*|"
    r"company|group|team|kth|rise|polytechnic|senior|researchers?|professor)\b")
_ACRONYM = re.compile(r"\b[A-Z]{2,}[A-Z0-9]*\b")  # "OATML", "EPFL": an institution, not a name
_LISTED = re.compile(r"(?i)(?:^|\s)(and|&)\s")


def _looks_like_names(part: str) -> bool:
    words = part.split()
    return 1 <= len(words) <= 6 and not re.search(r"[\d:()@/]", part) and\
        not _AFFILIATION_WORDS.search(part) and not _ACRONYM.search(part)


def _names(part: str) -> list[str]:
    pieces = re.split(r",\s*(?:and\s+)?|\s+(?:and|&)\s+", part)
    return [piece.strip() for piece in pieces if piece.strip()]


def _one_group(text: str) -> tuple[list[Speaker], bool, bool]:
    """``Name, Name and Name, Affiliation`` -> speakers sharing that affiliation.

    Also says whether the reading is certain, and whether it is a guess between two readings
    (``Name, Name, Place``: one speaker of the place with a comma, or two).
    """
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 1:
        bracketed = _PARENTHESES.fullmatch(text)  # "Ann Ek (KTH)"
        if bracketed and _looks_like_names(bracketed.group(1)):
            return [Speaker(bracketed.group(1), bracketed.group(2))], True, False
        return [Speaker(text)], _looks_like_names(text), False
    cut = next((i for i, p in enumerate(parts) if i and not _looks_like_names(p)),
               len(parts) - 1)
    if cut > 1 and not _LISTED.search(", ".join(parts[:cut])):
        # No "and": one speaker, cut at the first comma; the rest is the affiliation.
        return [Speaker(parts[0], ", ".join(parts[1:]))], _looks_like_names(parts[0]), True
    names_part = ", ".join(parts[:cut])
    affiliation = ", ".join(parts[cut:]) or None
    names = _names(names_part)
    sure = all(_looks_like_names(name) for name in names)
    return [Speaker(name, affiliation) for name in names], sure, False


def parse_speakers(line: str) -> tuple[list[Speaker], str | None]:
    """Read a speaker line (or lines) into speakers; say what is a guess about it, if anything.

    A trailing comma (``Name, Affiliation,``) is dropped. ``;`` and line breaks separate
    speakers."""
    text = "\n".join(part.strip().rstrip(", ").strip() for part in line.strip().splitlines())
    if not given(text):
        return [], None
    speakers: list[Speaker] = []
    sure, guessed = True, False
    for group in (g.strip() for g in re.split(r"[;\n]", text) if g.strip()):
        found, certain, guess = _one_group(group)
        speakers += found
        sure, guessed = sure and certain, guessed or guess
    if not sure:
        whole = " ".join(text.split())
        return [Speaker(whole)], ("is kept as one name; split it into speakers by hand if it "
                                  "names several")
    if guessed:
        return speakers, (f"is read as {'; '.join(s.line() for s in speakers)}; a guess: if it "
                          "names several people, write them with \"and\" or one a line")
    return speakers, None
