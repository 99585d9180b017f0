"""What ``send`` is asked for: which talk, which mail, for whom, and how (a dry run, a preview,
a test to ``--to``). Plain data: the cron job makes one for each mail due before it loads
anything that composes or sends one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mailer.series.kinds import Kind


@dataclass(frozen=True)
class Request:
    """What the user asked ``send`` for."""

    which: str | None
    kind: Kind
    today: date
    to: tuple[str, ...] = ()
    force: bool = False
    dry_run: bool = False
    preview: bool = False  # `preview`: render it whatever the ledger says; it reaches no one
    speaker: str | None = None  # a request: the speaker's address
    round: int = 1  # a request: its round
    last: bool = False  # a request: the last before the deadline

    @property
    def reaches_people(self) -> bool:
        """Whether this is a real send to the audience (not a dry run, preview or --to)."""
        return not (self.dry_run or self.preview or self.to)
