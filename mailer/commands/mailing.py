"""One mail prepared, then sent or shown, and the words said about it: what ``send``,
``send --due``, ``ask`` and ``preview`` have in common.

The words a person reads about a run (the dry run's summary, the report at the end) are
built here by pure functions; a use case yields them as :class:`Line` and the command line
prints them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mailer.commands.environment import Settings
from mailer.commands.output import Done, Line, Stop, warning_lines
from mailer.delivery.campaign import AlreadySent, deliver_campaign, prepare, what
from mailer.delivery.loop import Notice, Progress, Report
from mailer.delivery.request import Request
from mailer.delivery.suppression import said_once
from mailer.errors import EX_FAILURE, EX_OK
from mailer.mail.composing import write_preview
from mailer.mail.outgoing import Outgoing
from mailer.series.schedule import Nothing
from mailer.series.store import Store

if TYPE_CHECKING:
    from mailer.net.smtpsession import RunConnections

MAX_REFUSED_SHOWN = 100
MAX_DEFERRED_SHOWN = 20


Output = Line | Progress | Done  # what a use case yields for the command line to show


def one_mail(settings: Settings, store: Store, request: Request, now: datetime, *,
             quiet: bool, stop: Stop) -> Iterator[Output]:
    """Prepare one mail and send it (or, for a dry run, show it and write its preview)."""
    connections = None
    if not request.dry_run:
        from mailer.net.smtpsession import RunConnections  # noqa: PLC0415 (smtplib loads only for a real send: a dry run opens no connection)

        connections = RunConnections(settings.mail.smtp)
    try:
        outgoing = prepare(store, settings.state, settings.mail, request, now,
                           rendering=connections.start if connections else None)
        if isinstance(outgoing, Nothing | AlreadySent):
            if not quiet:
                yield Line(outgoing.message if isinstance(outgoing, Nothing) else
                           ("Dry run: " if request.dry_run else "")
                           + already_sent_line(outgoing))
            yield Done(EX_OK)
            return
        if connections is not None:  # the first connection opened while it rendered
            yield from warning_lines(said_once(settings.state, outgoing.warnings))
            yield from _delivered(settings.state, outgoing, request, quiet=quiet, stop=stop,
                                  connections=connections)
            return
    finally:
        if connections is not None:
            connections.close()
    yield from warning_lines(outgoing.warnings)
    outgoing.require_sendable()
    for text in [*summary_lines(outgoing), "", outgoing.rendered.text.rstrip("\n"), ""]:
        yield Line(text)
    folder = write_preview(settings.state, outgoing)
    yield Line(f"Dry run: nothing was sent. Preview written to {folder}/")
    yield Done(EX_OK)


def _delivered(state: Path, outgoing: Outgoing, request: Request, *, quiet: bool, stop: Stop,
               connections: RunConnections) -> Iterator[Output]:
    report = Report()
    for event in deliver_campaign(state, outgoing, connections, force=request.force, stop=stop):
        if isinstance(event, Progress):
            yield event
        elif isinstance(event, Notice) and not quiet:
            yield Line(event.text, err=True)
        elif isinstance(event, Report):
            report = event
    yield from report_lines(report, outgoing, quiet=quiet)
    yield Done(report.exit_code)


def already_sent_line(sent: AlreadySent) -> str:
    """Say that a talk x kind went out and nothing is left to do."""
    text = f"{sent.name}: already sent to {sent.sent} recipient(s)"
    if sent.refused:
        text += f"; {sent.refused} refused it earlier (not retried without --force)"
    return text + "; nothing to do (--force sends again)"


def summary_lines(outgoing: Outgoing) -> list[str]:
    """The dry run's summary: From, To, Subject, how many recipients, which mail."""
    sender = outgoing.sender
    return [
        f"From: {sender.display() if sender else '(mail.from is not set)'}",
        f"To: {outgoing.plan.summary()}",
        f"Subject: {outgoing.rendered.subject}",
        f"Recipients: {outgoing.plan.total}",
        f"Kind: {outgoing.kind} ({outgoing.talk.id})",
    ]


def _problem_lines(report: Report, *, test: bool) -> list[Line]:
    lines = []
    refused = "refused (permanent)" if test else\
        "refused (permanent, not retried without --force)"
    for address, why in list(report.refused.items())[:MAX_REFUSED_SHOWN]:
        lines.append(Line(f"{refused}: {address}: {why}", err=True))
    if len(report.refused) > MAX_REFUSED_SHOWN:
        lines.append(Line(f"... and {len(report.refused) - MAX_REFUSED_SHOWN} more refused",
                          err=True))
    retried = "run it again to retry" if test else "will be retried by the next run"
    for address, why in list(report.deferred.items())[:MAX_DEFERRED_SHOWN]:
        lines.append(Line(f"deferred ({retried}): {address}: {why}", err=True))
    return lines


def report_lines(report: Report, outgoing: Outgoing, *, quiet: bool) -> list[Line]:
    """What to tell the user after a run; with ``quiet``, only problems."""
    lines = _problem_lines(report, test=outgoing.plan.test)
    name = what(outgoing)
    problems = bool(report.refused or report.deferred or report.unreached or report.stopped)
    if report.unreached and not (report.sent or report.refused or report.deferred):
        return [*lines, Line(f"{report.unreached}; nothing was sent by this run, run it again "
                             "later", err=True)]
    if report.unreached:
        lines.append(Line(f"stopped: {report.unreached}", err=True))
    if not (report.sent or problems) and (report.skipped_sent or report.skipped_refused):
        sent = AlreadySent(name, report.skipped_sent, report.skipped_refused)
        return [] if quiet else [Line(already_sent_line(sent))]
    text = f"{name}: sent {report.sent}"
    if report.skipped_sent:
        text += f", skipped {report.skipped_sent} (already sent)"
    if report.skipped_refused:
        text += f", skipped {report.skipped_refused} (refused earlier; --force retries them)"
    if report.skipped_suppressed:
        text += f", left out {report.skipped_suppressed} (unsubscribed while it went)"
    text += f", refused {len(report.refused)}, deferred {len(report.deferred)}"
    if report.unreached:
        text += ", stopped before the end: " + (
            "the rest goes once the reason above is seen to" if report.exit_code == EX_FAILURE
            else "run again to continue")
    if report.stopped:
        text += "; stopped by a signal: the next run sends to the others"
    if problems or not quiet:
        lines.append(Line(text, err=problems))
    return lines
