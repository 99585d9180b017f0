"""What counts as one-line text: the characters no title, name or header value may hold.

A leaf: the YAML reader, the address checks and the subscriber file ask it alike.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidirectional embedding, override and isolate controls: they make a line read otherwise
# than it is stored (a Subject that shows "gpj.exe" as "exe.jpg"). ZWJ and ZWNJ, which
# scripts need, are not among them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def control_characters(text: str) -> bool:
    """Whether ``text`` holds a control character or a line separator (CR, LF, NEL, U+2028)."""
    return _CONTROL.search(text) is not None


def character_problem(value: str, *, single_line: bool) -> str | None:
    """Say why ``value`` cannot be taken as text, or None when it can.

    A lone surrogate (``"\\uD800"`` in a quoted YAML string) is no character at all; a
    one-line value may hold no control character and no bidirectional control.
    """
    for char in value:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return (f"holds \\u{code:04X}, half of a UTF-16 pair and no character by itself; "
                    "write the character itself")
        if single_line and char in _BIDI_CONTROLS:
            return (f"holds the bidirectional control U+{code:04X}, which makes the line read "
                    "otherwise than it is written; remove it")
    if single_line and control_characters(value):
        return "holds a line break or control character; write it on one line"
    return None
