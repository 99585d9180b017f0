"""One campaign: pick the talk, plan who gets it, ask whether it went out already, compose it
once, and deliver it under the run lock with the ledger and the series' record kept.

What a person reads about it is :mod:`mailer.commands.mailing`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from mailer.delivery.history import TalkHistory, held, talk_history
from mailer.delivery.keeping import Keeping, kept
from mailer.delivery.ledger import REFUSED, Ledger
from mailer.delivery.lock import run_lock
from mailer.delivery.loop import Bookkeeper, Report, deliver
from mailer.delivery.members import with_members
from mailer.delivery.pacing import Pace
from mailer.delivery.request import Request
from mailer.delivery.secret import series_secret
from mailer.delivery.speakers import SPEAKER_KINDS
from mailer.delivery.suppression import skipped_warning, unsuppressed
from mailer.delivery.tospeakers import already_to, prepare_speaker
from mailer.errors import InputError
from mailer.mail.composing import compose
from mailer.mail.outgoing import Outgoing, RecipientPlan
from mailer.mail.recipients import plan_recipients
from mailer.series.kinds import Identity, Kind
from mailer.series.mailconfig import MailSettings
from mailer.series.model import Talk
from mailer.series.schedule import Nothing, pick, standing_in
from mailer.series.store import Store

if TYPE_CHECKING:
    from mailer.delivery.loop import Event
    from mailer.net.smtpsession import RunConnections, SmtpTransport


@dataclass(frozen=True)
class AlreadySent:
    """Every recipient of this talk x kind is in the ledger: nothing to send."""

    name: str  # "announcement of 2024-02-22-mathis"
    sent: int
    refused: int


def _already_sent(talk: Talk, kind: Kind, plan: RecipientPlan,
                  settled: Mapping[str, str] | None) -> AlreadySent | None:
    """Whether the campaign to continue (the latest of a talk x kind; for an update, the
    one telling the same facts) settled every recipient in ``plan``."""
    if plan.test or not plan.total or settled is None:
        return None
    statuses = [settled.get(r.lower()) for d in plan.deliveries() for r in d.recipients]
    if None in statuses:
        return None
    refused = statuses.count(REFUSED)
    return AlreadySent(f"{kind} of {talk.id}", len(statuses) - refused, refused)


def prepare(store: Store, state: Path, mail: MailSettings, request: Request,
            now: datetime, *, rendering: Callable[[], None] | None = None,
            ) -> Nothing | AlreadySent | Outgoing:
    """Pick the talk, plan the recipients, and render once, unless it already went out.

    The ledger is asked before anything is rendered, so a cron job that runs again after
    the send costs little and repeats no warnings; ``rendering`` is called just before the
    render (the first connection opens meanwhile).
    """
    if request.kind in SPEAKER_KINDS:
        return _prepare_speaker(store, state, mail, request, now)
    chosen = pick(store, request.which, request.today, request.kind)
    if isinstance(chosen, Nothing):
        return chosen
    if request.reaches_people and not request.force:
        _refuse_out_of_time(store, chosen, request, now)
    # A dry run asks too: it says what a real run would do.
    if not (request.force or request.preview or request.to) and\
            (went := held(store, state, chosen, request.kind)) is not None:
        return went  # the series' record says it went from another state folder
    planned = with_members(state, plan_recipients(store.root, mail, request.to), request.kind)
    plan, skipped = unsuppressed(store.root, state, planned)
    history = talk_history(store, state, chosen, request.kind, plan,
                           ask_sent=not (request.force or request.preview))
    sent = _already_sent(chosen, request.kind, history.plan or plan, history.settled)
    if sent is not None:
        return sent
    if request.kind.mail.identity == Identity.TOLD:
        _refuse_update(chosen, history, request)
        plan = history.plan or plan
        if not plan.total and not request.preview:
            return Nothing(f"update of {chosen.id}: nobody who got its announcement is on the "
                           "list now; nothing to send")
    if rendering is not None:
        rendering()
    outgoing = compose(store, chosen, request.kind, plan, mail=mail, now=now,
                       today=request.today, sequence=history.sequence, changed=history.changed,
                       secret=series_secret(state, create=request.reaches_people))
    if request.kind.mail.announced_first and not history.announced:
        outgoing = replace(outgoing, warnings=(
            *outgoing.warnings, f"{chosen.id} was never announced by announce (the ledger has "
                                f"no announcement of it): the {request.kind} tells people about "
                                "a talk they may not have heard of"))
    if skipped:
        outgoing = replace(outgoing, warnings=(
            *outgoing.warnings, skipped_warning(skipped)))
    return kept(store.root, outgoing, warn=not request.preview)


def _prepare_speaker(store: Store, state: Path, mail: MailSettings, request: Request,
                     now: datetime) -> Nothing | AlreadySent | Outgoing:
    """A request or a brief, unless every speaker it is for has it already."""
    outgoing = prepare_speaker(store, state, mail, request.which, request.kind,
                               speaker=request.speaker, number=request.round,
                               last=request.last, now=now, to=request.to,
                               today=standing_in(store.series.zone, request.today, now))
    if request.to:  # a test send: to --to only, whatever the ledger or the series' record say
        return outgoing
    plan, _ = unsuppressed(store.root, state, outgoing.plan)
    if not plan.total:
        return Nothing(f"{what(outgoing)}: every address it is for is suppressed (bounced); "
                       "`announce subscribers` lists them")
    outgoing = replace(outgoing, plan=plan)
    if not (request.force or request.preview) and already_to(state, outgoing):
        return AlreadySent(what(outgoing), outgoing.plan.total, 0)
    went = None if request.force or request.preview else\
        held(store, state, outgoing.talk, outgoing.kind, outgoing.facts)
    return went or kept(store.root, outgoing, warn=not request.preview)


def _refuse_update(talk: Talk, history: TalkHistory, request: Request) -> None:
    """An update is for people who got the announcement, and says what changed."""
    if request.preview or request.to:
        return
    if not history.announced:
        raise InputError(f"{talk.id} was never announced (the ledger has no announcement "
                         "of it): an update has no one to go to. Send the announcement")
    if not history.changed and not request.force:
        raise InputError(f"{talk.id}: its date, time, location and call link are as people "
                         "were told; an update would say nothing new. Give --force to send it "
                         "anyway (title, abstract and bio edits never send one by themselves)")


def _refuse_out_of_time(store: Store, talk: Talk, request: Request,
                        now: datetime) -> None:
    """By hand, a reminder on another day than the talk's, or an announcement of a talk that
    has started, needs --force (contract §5): it would say "Today" or "this week" wrongly."""
    if request.kind.mail.needs_recording and not talk.recording:
        raise InputError(f"{talk.id} has no recording: yet; the follow-up says where it is. "
                         "Set recording: (and slides:) in its record first")
    if request.kind.mail.on_the_day and talk.date != request.today:
        raise InputError(f"{talk.id} is on {talk.date}, not today ({request.today}): a "
                         "reminder says \"Today at ...\". Send it on the day, or give --force "
                         "to send it anyway (--dry-run and --to are never refused)")
    start = talk.start(store.series)
    now = standing_in(store.series.zone, request.today, now)  # --today stands in for the clock
    if request.kind.mail.after_start and start > now:
        raise InputError(f"{talk.id} has not taken place yet (at {start:%Y-%m-%d %H:%M %Z}): "
                         "the follow-up goes after the talk. Give --force to send it anyway")
    if request.kind.mail.before_start and start <= now:
        raise InputError(f"{talk.id} has started (at {start:%Y-%m-%d %H:%M %Z}): nothing "
                         "goes out about a talk that has started. Give --force to send it "
                         "anyway")


class _Scratch:
    """A ledger that remembers nothing: for test sends with ``--to``."""

    def settled(self, campaign: int) -> dict[str, str]:
        return {}

    def write_outcome(self, campaign: int, recipient: str, status: str, code: int, reply: str,
               *, message_id: str | None = None) -> None:
        return None


def deliver_campaign(state: Path, outgoing: Outgoing, connections: RunConnections, *,
                     force: bool, stop: Callable[[], bool] = lambda: False) -> Iterator[Event]:
    """Deliver ``outgoing`` over ``connections`` (the first perhaps opened during the
    render); yield progress events and, last, the Report. Once ``stop()`` is true, no new
    message starts (see :func:`mailer.delivery.loop.deliver`)."""
    sender = outgoing.require_sendable()
    mail = outgoing.mail
    pace = Pace(retry_seconds=mail.retry_seconds, rate_per_minute=mail.rate_per_minute,
                quit_seconds=mail.smtp.timeout)

    def connection() -> SmtpTransport:
        return connections.take(sender.envelope)

    def run(ledger: Bookkeeper, campaign: int,
            left_out: Callable[[Sequence[str]], set[str]]) -> Iterator[Event]:
        return deliver(outgoing.plan.deliveries(), message=outgoing.wire,
                       message_id=outgoing.message_id,
                       transports=connection, ledger=ledger, campaign=campaign,
                       connections=mail.smtp.connections, total=outgoing.plan.total,
                       pace=pace, stop=stop, left_out=left_out)

    if outgoing.plan.test:  # --to goes where it is told
        yield from run(_Scratch(), 0, lambda _: set())
        return
    folder = state
    started = time.monotonic()

    def clock() -> datetime:  # the run's moment (--now stands in for it), moving on as it runs
        return outgoing.made + timedelta(seconds=time.monotonic() - started)

    with Ledger(folder, clock=clock) as ledger, run_lock(folder):
        audience = [r for d in outgoing.plan.deliveries() for r in d.recipients]\
            if outgoing.kind.mail.identity == Identity.TOLD else []
        campaign = ledger.campaign(outgoing.talk.key, outgoing.kind, force=force,
                                   facts=outgoing.facts, audience=audience)
        keeping = Keeping(ledger, outgoing, campaign, folder, clock)  # the record, a copy
        # Who unsubscribes meanwhile (announce serve, the inbox) is left out (contract §9).
        for event in run(keeping, campaign, ledger.suppressed_among):
            if isinstance(event, Report) and event.sent and outgoing.digest:
                ledger.event_sent(outgoing.talk.key, outgoing.digest)
            yield from keeping.passing(event)


def what(outgoing: Outgoing) -> str:
    """Name the mail: ``announcement of 2024-02-22-mathis``."""
    return f"{outgoing.kind} of {outgoing.talk.id}"
