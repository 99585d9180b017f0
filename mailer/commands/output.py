"""What a use case hands the command line: lines to print, and last its exit code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mailer.errors import EX_FAILURE, EX_OK, EX_TEMPFAIL

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


def exit_code_of(codes: Sequence[int]) -> int:
    """One exit code for several sends: 75 if anything is left to retry, else 1 if any failed."""
    for code in (EX_TEMPFAIL, EX_FAILURE):
        if code in codes:
            return code
    return max(codes, default=EX_OK)


def warning_lines(warnings: Sequence[str]) -> list[Line]:
    """The composer's warnings, for standard error (cron mails them to the organiser)."""
    return [Line(f"warning: {warning}", err=True) for warning in warnings]
