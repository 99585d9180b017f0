"""``preview``: the message as it would be sent, written to files for a look before sending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from mailer.commands.environment import Settings
from mailer.commands.output import Line, warning_lines
from mailer.delivery.campaign import AlreadySent, prepare
from mailer.delivery.request import Request
from mailer.mail.composing import write_preview
from mailer.series.kinds import Kind
from mailer.series.schedule import Nothing
from mailer.series.store import Store


@dataclass(frozen=True)
class Previewed:
    """What a preview wrote (``folder`` is None when there was no talk to preview)."""

    lines: tuple[Line, ...]
    folder: Path | None = None


def preview(settings: Settings, store: Store, which: str | None, *, kind: Kind, day: date,
            now: datetime, out: Path | None = None) -> Previewed:
    """Write ``message.eml``, ``.txt``, ``.html`` and ``event.ics`` of the talk's mail to
    ``out`` (default: the state folder's ``preview/<id>-<kind>/``), whatever the ledger says."""
    request = Request(which, kind, day, preview=True)
    outgoing = prepare(store, settings.state, settings.mail, request, now)
    if isinstance(outgoing, Nothing):
        return Previewed((Line(outgoing.message),))
    if isinstance(outgoing, AlreadySent):  # pragma: no cover - a preview never asks the ledger
        raise AssertionError(outgoing)
    folder = write_preview(settings.state, outgoing, out)
    return Previewed((*warning_lines(outgoing.warnings),
                      Line(f"Preview of the {kind} of {outgoing.talk.id} written to "
                           f"{folder}/")), folder)
