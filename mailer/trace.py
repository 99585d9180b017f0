"""Where ``--verbose`` writes the dialogue with the servers (SMTP now): nowhere by default.

A leaf: the command line calls :func:`start` once; connections write to :data:`sink`. Lines
carry no secret: the modules that write them replace credentials with ``****``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

sink: Callable[[str], None] | None = None
_numbers = itertools.count(1)


def start(to: Callable[[str], None] | None) -> None:
    """Write the dialogue to ``to`` from now on (None: nowhere); connections count from 1."""
    global sink, _numbers  # one switch for the whole run, set by the command line
    sink, _numbers = to, itertools.count(1)


def number() -> int:
    """The next connection's number, as the trace shows it: ``smtp[2]``."""
    return next(_numbers)
