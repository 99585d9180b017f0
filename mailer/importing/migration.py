"""The migration report (``import --report FILE``): per talk, what was taken from where, what
was left for the organiser, and, word for word, what was not imported.

A migration of hundreds of pages is reviewed in one read: each talk's record and sources,
each field with the file and line it came from, the notes to look over, and every line that
is in no field and no note (announce's own boilerplate, the site's template code, a list made
anew from the records).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailer.importing.draft import Draft
from mailer.paths import display_path


@dataclass(frozen=True)
class Outcome:
    """What became of one draft: the record written (or the one that was there already)."""

    draft: Draft
    record: Path | None
    left_alone: bool = False
    photo: str | None = None


def _talk(outcome: Outcome) -> list[str]:
    draft = outcome.draft
    record = display_path(outcome.record) if outcome.record else "no record"
    head = f"## {draft.day} · {record}" + (" (left alone: a record was there)"
                                           if outcome.left_alone else "")
    speakers = "; ".join(s.line() for s in draft.speakers) or "none"
    out = [head, "", f"- from: {draft.where}", f"- status: {draft.status}",
           f"- speakers: {speakers}"]
    if draft.guess:
        out.append(f"- the speakers are a guess from {draft.guess!r}: the record says so in "
                   "a comment, and `check` warns until it is deleted")
    if outcome.photo:
        out.append(f"- photo: {outcome.photo}")
    if draft.taken:
        out += ["", "Taken:", *(f"- {line}" for line in draft.taken)]
    if draft.notes:
        out += ["", "For the organiser:", *(f"- {note}" for note in draft.notes)]
    if draft.left:
        out += ["", "Not imported (word for word):"]
        for note in draft.left:
            lines = note.text.splitlines()
            out.append(f"- {note.where}: {lines[0]}")
            out += [f"  {line}" for line in lines[1:]]
    return [*out, ""]


def report_text(outcomes: list[Outcome], files: list[Path]) -> str:
    """The report as Markdown."""
    written = sum(1 for o in outcomes if o.record and not o.left_alone)
    out = ["# Migration report", "",
           f"{written} record(s) written, {sum(o.left_alone for o in outcomes)} left alone, "
           f"from {len(files)} file(s):", "", *(f"- {display_path(f)}" for f in files), ""]
    for outcome in outcomes:
        out += _talk(outcome)
    return "\n".join(out)
