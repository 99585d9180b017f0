"""What went out before: the series' own record of its mail, read together with the ledger.

The ledger knows every recipient, but it lives in the state folder (``.announce/``), which a
fresh clone, a new machine, ``git clean -fdx``, a second organiser's cron or a CI runner does
not have. ``seminars/.sent.log`` is the series' memory, committed with the records: one line
a mail (talk, kind, when it first went, how many it reached; never an address), written whole
when a campaign first reaches anyone and again when its run ends, never per recipient. A mail
that the record has and the ledger never saw went out from another state folder: no send
repeats it without ``--force`` (better no copy than a second one to everyone), and ``send
--due`` says so once. What a send writes of it is in :mod:`mailer.delivery.keeping`.

The record is a hidden file on purpose: the store lists only ``*.yaml`` and counts every other
visible file in ``seminars/`` as a stray that ``send`` and ``check`` refuse. One JSON object a
line: each line stands alone, so a ``merge=union`` attribute (or a merge conflict, whose
markers are skipped) keeps both organisers' lines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from mailer.delivery.ledger import REFUSED, SENT, SUPPRESSED, Ledger
from mailer.errors import InputError, LedgerError
from mailer.mail.outgoing import Outgoing, RecipientPlan
from mailer.paths import (
    MAX_SUBSCRIBER_BYTES,
    decode_text,
    display_path,
    read_regular,
    write_atomically,
)
from mailer.render.event import event_digest
from mailer.series.kinds import ANNOUNCING, Identity, Kind
from mailer.series.model import Talk
from mailer.series.schedule import DueNow, Nothing, changes, talk_facts
from mailer.series.speakerrules import Asked, Round
from mailer.series.store import Store

LOG = ".sent.log"  # in seminars/
_TOLD = tuple(k for k in Kind if k.mail.tells)  # they tell the date, place and link
# One mail a talk; any other kind is one mail a change set or a round (its campaign's facts).
_ONCE = tuple(k for k in Kind if k.mail.identity == Identity.ONCE)
_MARKERS = ("<<<<<<<", "|||||||", "=======", ">>>>>>>")  # a merge conflict keeps both sides
_HEADER = (
    "# What announce sent from this series, one mail a line: the talk, the kind, when it first\n"
    "# went and how many it reached (no addresses). Written by `announce send`; commit it with\n"
    "# the records. A mail listed here is not sent again from a new state folder (.announce/).\n")


@dataclass(frozen=True)
class Went:
    """One mail that went out, as the series remembers it."""

    talk: str  # the talk's key (its first id, kept by `move`)
    kind: Kind
    first: datetime  # when it first reached anyone
    reached: int  # how many it reached (the most of any of its campaigns)
    of: int | None = None  # how many it was for, when known
    told: Mapping[str, str] | None = None  # an announcement's or update's date, place, link
    round: int | None = None  # a request's round
    other: str | None = None  # another kind's facts, as its campaign has them
    refused: int = 0  # how many refused it for good (5xx): settled, not missing
    left: int = 0  # how many unsubscribed while it went, before their copy: settled, not missing

    @property
    def facts(self) -> str | None:
        """What tells this mail from another of its kind, as the ledger writes it."""
        if self.kind.mail.identity == Identity.TOLD:
            return json.dumps(dict(self.told or {}), sort_keys=True)
        return json.dumps({"round": self.round or 1}) if self.kind.mail.identity == Identity.ROUND\
            else self.other

    @property
    def half(self) -> bool:
        """Whether the run stopped before it reached everyone it was for."""
        return self.of is not None and self.reached + self.refused + self.left < self.of

    def same(self, talk: str, kind: Kind, facts: str | None) -> bool:
        """Whether this is that mail: a talk x kind; an update by its change set (``facts``, as
        JSON), a request by its round."""
        if (talk, kind) != (self.talk, self.kind):
            return False
        return kind in _ONCE or (facts is not None and self.facts is not None
                                         and json.loads(facts) == json.loads(self.facts))

    def line(self) -> str:
        """The mail as one line of the record."""
        data: dict[str, Any] = {"talk": self.talk, "kind": str(self.kind),
                                "first": self.first.isoformat(timespec="seconds"),
                                "reached": self.reached}
        if self.of is not None:
            data["of"] = self.of
        if self.round is not None:
            data["round"] = self.round
        if self.told is not None:
            data["told"] = dict(sorted(self.told.items()))
        if self.other is not None:
            data["facts"] = self.other
        if self.refused:
            data["refused"] = self.refused
        if self.left:
            data["left"] = self.left
        return json.dumps(data, ensure_ascii=False)


def _count(data: Mapping[str, Any], key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key}: is not a count")
    return value


def _went(data: Any) -> Went:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    told = data.get("told")
    if told is not None and not (isinstance(told, dict) and
                                 all(isinstance(v, str) for v in told.values())):
        raise ValueError("told: is not a mapping of text")
    first = datetime.fromisoformat(str(data["first"]))
    if first.tzinfo is None or not isinstance(data["talk"], str):
        raise ValueError("first: has no UTC offset" if first.tzinfo is None else "talk: not text")
    other = data.get("facts")
    return Went(data["talk"], Kind(data["kind"]), first, _count(data, "reached"),
                _count(data, "of") if "of" in data else None, told,
                _count(data, "round") if "round" in data else None,
                other if isinstance(other, str) else None,
                _count(data, "refused") if "refused" in data else 0,
                _count(data, "left") if "left" in data else 0)


def log_path(root: Path) -> Path:
    """Where the series' record of sent mail is."""
    return root / "seminars" / LOG


def load(root: Path) -> list[Went]:
    """Every mail the series' record has (none without the file); a line that announce did
    not write is an error naming it, since a mail missing from the record may go again."""
    path = log_path(root)
    if not path.exists():
        return []
    data = read_regular(path, "the record of sent mail", inside=root, limit=MAX_SUBSCRIBER_BYTES)
    found = []
    for number, line in enumerate(decode_text(data, path, "it").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith(("#", *_MARKERS)):
            continue
        try:
            data = json.loads(line)
            if isinstance(data, dict) and data.get("kind") not in set(Kind) and "first" in data:
                continue  # a kind of mail a newer announce sends: not this one's to judge
            found.append(_went(data))
        except (ValueError, KeyError, TypeError) as exc:
            why = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise InputError(f"{display_path(path)}:{number}: not a line announce writes ({why}); "
                             "mend it rather than delete it: it is the series' memory of what "
                             "went out, and a mail missing from it may go out again") from None
    return found


def _noted(entries: list[Went], went: Went) -> list[Went]:
    """``entries`` with ``went`` in: one line a mail, its first moment and most reached kept."""
    for index, old in enumerate(entries):
        if old.same(went.talk, went.kind, went.facts):
            more = went.reached >= old.reached  # the campaign that reached most speaks
            entries[index] = replace(went if more else old, first=min(old.first, went.first),
                                     told=went.told, of=went.of if more else old.of)
            return entries
    return [*entries, went]


def _campaign(talk: str, kind: Kind, facts: str | None, *, first: datetime, reached: int,
              of: int | None) -> Went:
    data = json.loads(facts) if facts else None
    told = data if kind in _TOLD and isinstance(data, dict) else None
    round_ = int(data.get("round", 1)) if isinstance(data, dict) else 1
    other = facts if kind.mail.identity == Identity.CHANGE else None
    rounds = kind.mail.identity == Identity.ROUND
    return Went(talk, kind, first, reached, of, told, round_ if rounds else None,
                other)


def _from_ledger(ledger: Ledger, zone: tzinfo) -> list[Went]:
    """Every mail the ledger saw reach anyone: the first lines of a record that is newer than
    the series' ledger."""
    try:
        rows = ledger.campaigns_reached()
    except LedgerError:
        return []
    entries: list[Went] = []
    for talk, kind, facts, first, reached in rows:
        if kind in set(Kind):
            moment = datetime.fromisoformat(first).astimezone(zone)
            entries = _noted(entries, _campaign(str(talk), Kind(kind), facts, first=moment,
                                                reached=int(reached), of=None))
    return entries


def remember(root: Path, ledger: Ledger, outgoing: Outgoing, campaign: int,
             moment: datetime) -> None:
    """Note in the series' record that this campaign reached people, and how many so far."""
    zone = outgoing.series.zone
    entries = load(root) if log_path(root).exists() else _from_ledger(ledger, zone)
    statuses = list(ledger.settled(campaign).values())
    # A round goes one a speaker: how many it was for is not the plan's count.
    of = None if outgoing.kind.mail.identity == Identity.ROUND else outgoing.plan.total
    went = replace(_campaign(outgoing.talk.key, outgoing.kind, outgoing.facts,
                             first=moment.astimezone(zone), reached=statuses.count(SENT), of=of),
                   refused=statuses.count(REFUSED), left=statuses.count(SUPPRESSED))
    lines = sorted(_noted(entries, went), key=lambda w: (w.first, w.talk, w.kind))
    write_atomically(log_path(root), (_HEADER + "".join(w.line() + "\n" for w in lines))
                     .encode("utf-8"))


def _known(ledger: Ledger | None, went: Went) -> bool:
    """Whether the ledger saw this mail reach anyone (then the ledger decides, as ever)."""
    if ledger is None:
        return False
    if went.kind.mail.identity == Identity.ROUND:
        return any(number == went.round and first is not None
                   for number, first, _ in ledger.rounds(went.talk))
    if went.kind in _ONCE:
        return ledger.first_sent(went.talk, went.kind) is not None
    campaign = ledger.matching_campaign(went.talk, went.kind, went.facts or "")
    return campaign is not None and SENT in ledger.settled(campaign).values()


def _told(mine: Sequence[Went], away: Sequence[Went]) -> str | None:
    """What people were last told of a talk's date, place and link (JSON), when the newest
    announcement or update of it went from elsewhere; else None (the ledger's to say)."""
    newest = max((w for w in mine if w.kind in _TOLD), key=lambda w: w.first, default=None)
    if newest is None or newest not in away or newest.told is None:
        return None
    return json.dumps(dict(newest.told), sort_keys=True)


def elsewhere(ledger: Ledger | None, entries: Sequence[Went]) -> list[Went]:
    """The mails of ``entries`` that the ledger never saw: they went from another state
    folder (one lost, or another machine's)."""
    return [went for went in entries if not _known(ledger, went)]


def went_line(went: Went, name: str, state: Path, zone: tzinfo) -> str:
    """Why a mail is not sent although it is due: the series' record says it went."""
    where = display_path(state)
    what = f"the {went.kind}" + (f" (round {went.round})" if went.round else "") + f" of {name}"
    when = went.first.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    if went.half:
        return (f"the state folder {where}/ is new to {what}, but seminars/{LOG} says it went out "
                f"on {when} to {went.reached} of {went.of} and stopped there: without the old "
                "state folder announce cannot tell who is missing, so it sends nothing (better no "
                f"copy than a second one to everyone). Restore {where}/ from a backup to finish "
                f"it, or send it to everyone again: announce send {name} --kind {went.kind} "
                "--force")
    return (f"the state folder {where}/ is new to {what}, but seminars/{LOG} says it went out on "
            f"{when} to {went.reached} recipient(s): restore {where}/ from a backup to keep "
            "resuming half-done sends; announce will not send what already went (--force sends "
            "it again)")


def held(store: Store, state: Path, talk: Talk, kind: Kind,
         facts: str | None = None) -> Nothing | None:
    """Nothing, saying why, when the series' record has this mail and the ledger never saw it;
    ``facts``: a request's round (an update's change set is the talk's as it is now)."""
    if kind.mail.identity == Identity.TOLD:
        facts = json.dumps(talk_facts(store.series, talk), sort_keys=True)
    mine = [w for w in load(store.root) if w.same(talk.key, kind, facts)]
    if not mine:  # the usual case: no ledger is opened
        return None
    with Ledger.existing(state) as ledger:
        away = elsewhere(ledger, mine)
    return Nothing(went_line(away[0], talk.id, state, store.series.zone)) if away else None


def from_elsewhere(past: Sequence[Went], ledger: Ledger | None, talks: Sequence[Talk],
                   now: datetime, *, sent: dict[tuple[str, Kind], datetime],
                   told: dict[str, dict[str, str]], asked: dict[str, Asked]) -> list[Went]:
    """Add what the series' record has of ``talks`` and the ledger never saw to what the
    ledger says (``sent``, ``told``, ``asked``, changed in place); return those mails."""
    by_key = {talk.key: talk for talk in talks}
    mine = [went for went in past if went.talk in by_key]
    away = elsewhere(ledger, mine)
    for went in away:
        sent[went.talk, went.kind] = min(sent.get((went.talk, went.kind), now), went.first)
    for key in {went.talk for went in away}:
        facts = _told([w for w in mine if w.talk == key], away)
        if facts is not None:
            told[key] = json.loads(facts)
        asked[key] = _asked(by_key[key], asked.get(key, Asked()),
                            [w for w in away if w.talk == key])
    return away


def _asked(talk: Talk, asked: Asked, away: Sequence[Went]) -> Asked:
    """What went to the speakers, with the rounds and brief from elsewhere counted as having
    reached every speaker (who they reached is not in the record)."""
    everyone = frozenset(s.email.lower() for s in talk.asked() if s.email)
    rounds = {r.number: r for r in asked.rounds}
    for went in away:
        number = went.round or 1
        if went.kind.mail.identity == Identity.ROUND and\
                (number not in rounds or rounds[number].first is None):
            rounds[number] = Round(number, went.first, everyone)
    briefed = asked.briefed | everyone if any(w.kind == Kind.BRIEF for w in away)\
        else asked.briefed
    return Asked(tuple(rounds[n] for n in sorted(rounds)), briefed)


def held_back(plan: DueNow, away: Sequence[Went], store: Store, state: Path) -> DueNow:
    """``plan`` without the mails that went from another state folder, each said instead
    (``send --due`` says it once)."""
    if not away:
        return plan
    due, notes = [], []
    for item in plan.due:
        facts = json.dumps(talk_facts(store.series, item.talk), sort_keys=True)\
            if item.kind.mail.identity == Identity.TOLD else\
            json.dumps({"round": item.round}) if item.kind.mail.identity == Identity.ROUND\
            else None
        went = next((w for w in away if w.same(item.talk.key, item.kind, facts)), None)
        if went is None:
            due.append(item)
        else:
            notes.append(went_line(went, item.talk.id, state, store.series.zone))
    return replace(plan, due=tuple(due), waiting=(*plan.waiting, *dict.fromkeys(notes)))


@dataclass(frozen=True)
class TalkHistory:
    """What went out about a talk, read in one opening of the ledger (each runs SQLite's
    check), with what the series' record has that the ledger never saw."""

    settled: Mapping[str, str] | None = None  # who has the campaign to continue (None: none)
    sequence: int = 0  # the calendar SEQUENCE of the talk as it is now
    announced: bool = False  # its announcement reached anyone, ever
    plan: RecipientPlan | None = None  # an update's: who got the announcement
    changed: tuple[tuple[str, str, str], ...] = ()  # an update's: what changed since told


def talk_history(store: Store, state: Path, talk: Talk, kind: Kind,
                 plan: RecipientPlan, *, ask_sent: bool) -> TalkHistory:
    """What went out about ``seminar``: for ``kind``, who has the campaign to continue
    (with ``ask_sent``); for an update, what changed and who it is for."""
    mine = [went for went in load(store.root) if went.talk == talk.key]
    with Ledger.existing(state) as ledger:
        away = elsewhere(ledger, mine)
        heard = bool(ledger and ledger.first_sent(talk.key, ANNOUNCING))
        told = _told(mine, away) or (ledger.told(talk.key) if ledger else None)
        changed: tuple[tuple[str, str, str], ...] = ()
        campaign = ledger.latest_campaign(talk.key, kind) if ledger else None
        if kind.mail.identity == Identity.TOLD:
            facts = talk_facts(store.series, talk)
            changed = tuple(changes(json.loads(told), facts)) if told else ()
            campaign = ledger.matching_campaign(talk.key, kind, json.dumps(
                facts, sort_keys=True)) if ledger else None
            if ledger and heard and not plan.test:  # who got it: the ledger's to say, if known
                plan = plan.only(ledger.audience(campaign) if campaign is not None
                                 else ledger.reached(talk.key))
        versions = len({json.dumps(dict(w.told or {}), sort_keys=True)
                        for w in away if w.kind in _TOLD})  # calendar versions sent elsewhere
        return TalkHistory(
            settled=ledger.settled(campaign) if ledger and ask_sent and campaign is not None
            else None,
            sequence=versions + (ledger.sequence(talk.key, event_digest(
                store.series, talk)) if ledger else 0),
            announced=heard or any(w.kind == ANNOUNCING for w in away),
            plan=plan, changed=changed)
