"""What a use case hands the command line: lines to print, and last its exit code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Stop = Callable[[], bool]  # true once a signal asked the run to stop


@dataclass(frozen=True)
class Line:
    """One line for the user; ``err`` lines go to standard error."""

    text: str
    err: bool = False


@dataclass(frozen=True)
class Done:
    """The last thing a use case yields: its exit code."""

    code: int
