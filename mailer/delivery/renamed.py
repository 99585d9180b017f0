"""Records renamed or deleted by hand after their talk was announced: found, said once, and
their mail held (``send --due``) until the organiser says which talk each is (``move`` keeps a
talk's identity; a record renamed by hand loses it)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from mailer.delivery.history import load
from mailer.delivery.ledger import Ledger
from mailer.paths import display_path
from mailer.series.kinds import ANNOUNCING
from mailer.series.store import Store

# An announced talk whose record is gone holds a record that looks like it renamed this long
# after its day: a talk moved by hand to a later day stays held when the old day has passed.
HOLD_DAYS = 120


def orphans(store: Store, state: Path, today: date, *,
            once: bool = False) -> tuple[list[str], dict[str, str]]:
    """Talks to come that were announced, whose record is gone (renamed or deleted by hand):
    lines for the organiser, and the records that look like one of them renamed (their id ->
    the announced key), whose mail ``send --due`` holds until the organiser says which it is.

    With ``once`` (a cron run), each line is said the first time only, and noted in the ledger.
    """
    # What the series' record lists counts too: a lost or new state folder forgets nothing.
    kept = {went.talk for went in load(store.root)
            if went.kind == ANNOUNCING and went.reached}
    with Ledger.existing(state, readonly=not once) as ledger:
        announced = kept | (ledger.announced() if ledger is not None else set())
        missing = _missing(store, announced, today - timedelta(days=HOLD_DAYS))
        renamed = _renamed(store, announced, missing, today)
        missing = {key for key in missing
                   if key[:10] >= today.isoformat() or key in renamed.values()}
        lines = [_line(store, key, renamed) for key in sorted(missing)]
        if once and ledger is not None:
            lines = [line for line in lines if ledger.first_time(f"orphan {line.split()[0]}")]
    return lines, renamed


def _missing(store: Store, announced: set[str], since: date) -> set[str]:
    waiting = {key for key in announced if key[:10] >= since.isoformat()}
    if not waiting:  # nothing announced lately: no record need be read
        return set()
    missing = waiting - {entry.id for entry in store.entries()}  # no record is read for this
    if missing:  # a moved talk's record names its first id in uid:
        missing -= {talk.key for talk in store.talks()}
    return missing


def _words(key: str) -> set[str]:
    """The words of a key's name part (after its date) that can name a person."""
    return {word for word in key[11:].split("-") if len(word) > 1 and not word.isdigit()}


def _renamed(store: Store, announced: set[str], missing: set[str],
             today: date) -> dict[str, str]:
    """Records to come, never announced and without ``uid:``, that share a missing talk's date
    or a word of its name (a speaker's): each looks like that talk, renamed by hand."""
    if not missing:
        return {}
    found: dict[str, str] = {}
    for talk in store.talks(today):
        if talk.uid is not None or talk.key in announced:
            continue
        for key in sorted(missing):
            if (talk.id[:10] == key[:10] or talk.id[11:] == key[11:]
                    or _words(talk.id) & _words(key)):
                found[talk.id] = key
                break
    return found


def _line(store: Store, key: str, renamed: dict[str, str]) -> str:
    alike = [talk for talk, was in renamed.items() if was == key]
    if alike:
        return (f"{key} was announced, and {alike[0]} looks like it renamed by hand: its mail "
                "is held, so nobody gets the talk twice. If it is the same talk, rename it "
                f"back and use `announce move`, or give it uid: {key}; if it is a new talk, "
                f"give it uid: {alike[0]}")
    return (f"{key} was announced, but no record in {display_path(store.folder)} is that talk "
            "now: a record renamed by hand is a new talk to every calendar. Rename it back "
            f"and use `announce move`, or give the record uid: {key}")
