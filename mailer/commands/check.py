"""``check``: is every file good (the series, each record, the subscriber file, every template
rendered for every talk), and with ``--smtp`` / ``--inbox``, can the relay and the mailbox be
reached. It sends nothing and changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from mailer.commands.environment import Settings, with_environment
from mailer.commands.output import Line
from mailer.delivery.history import load
from mailer.delivery.renamed import orphans
from mailer.errors import InputError
from mailer.importing.draft import GUESS_MARK
from mailer.inbox.sources import open_source
from mailer.mail.recipients import SubscriberFile
from mailer.net.smtpconnect import ServerInfo, check_relay
from mailer.paths import MAX_FILE_BYTES, display_path, read_regular
from mailer.render.templates import Renderer, unknown_overrides
from mailer.series.kinds import Identity, Kind
from mailer.series.mailconfig import MailSettings
from mailer.series.model import Talk
from mailer.series.schedule import upcoming_after
from mailer.series.store import Store


def check_series(settings: Settings, store: Store, today: date, *, smtp: bool = False,
                 inbox: bool = False) -> Iterator[Line]:
    """What ``check`` says; a problem in the files is an :class:`InputError` naming them all."""
    result = check(store, today, with_environment)
    if result.problems:
        raise InputError("\n".join(result.problems))
    yield Line(f"ok: series and {result.talks} talk(s) are valid and render")
    if not settings.mail.sender:
        yield Line("warning: seminars/series.yaml: mail.from is not set, so `send` will refuse "
                   "until it is (e.g. from: Talk Team <seminar@example.org>); preview and "
                   "the web outputs work without it", err=True)
    yield from (Line(f"  {line}") for line in result.incomplete)
    for line in orphans(store, settings.state, today)[0]:
        yield Line(f"warning: {line}", err=True)
    for warning in unknown_overrides(store.root):
        yield Line(f"warning: {warning}", err=True)
    for warning in guessed_speakers(store):
        yield Line(f"warning: {warning}", err=True)
    if smtp:
        yield from (Line(line) for line in relay_lines(check_relay(settings.mail.smtp)))
    if inbox:
        if settings.mail.inbox is None:
            raise InputError("check --inbox: seminars/series.yaml has no mail.inbox")
        with open_source(store.root, settings.mail.inbox, readonly=True) as source:
            yield Line(f"inbox {source.where}: {source.count()} message(s), "
                       f"{len(source.unseen())} unseen")


def guessed_speakers(store: Store) -> list[str]:
    """The records whose speakers `import` read by a guess the organiser has not confirmed:
    the guess's comment line is still there (deleting it confirms the speakers)."""
    found = []
    for entry in store.entries():
        try:
            text = read_regular(entry.path, "a talk record", inside=None, limit=MAX_FILE_BYTES)
        except InputError:
            continue  # a record that cannot be read is a problem of its own
        for number, line in enumerate(text.decode("utf-8", "replace").splitlines(), 1):
            if line.startswith(GUESS_MARK):
                written = line[len(GUESS_MARK):].split(";", 1)[0].strip()
                found.append(f"{display_path(entry.path)}:{number}: the speakers are a guess "
                             f"of `import` from {written}; check them, then delete this line "
                             "to confirm them")
    return found


_FIRST_FEATURES = ("starttls", "auth", "size", "pipelining", "smtputf8", "chunking", "8bitmime")


def relay_lines(info: ServerInfo) -> list[str]:
    """What ``check --smtp`` prints about the relay."""
    features = sorted(info.features, key=lambda k: (k not in _FIRST_FEATURES,
                                                   _FIRST_FEATURES.index(k)
                                                   if k in _FIRST_FEATURES else 0, k))
    offers = []
    for name in features:
        value = info.features[name].strip()
        if name == "size" and value.isdigit():
            value += f" ({int(value) / (1 << 20):.0f} MiB per message)"
        offers.append(f"{name.upper()} {value}".strip())
    return [
        f"relay {info.where} (security: {info.security})",
        f"  TLS: {info.tls or 'none (plain text)'}",
        f"  EHLO: {info.greeting}",
        f"  offers: {'; '.join(offers) or 'no extensions (plain SMTP)'}",
        f"  login: {info.login}",
        "  said QUIT; nothing was sent",
    ]


@dataclass
class CheckResult:
    """What ``check`` found."""

    talks: int = 0
    problems: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # coming talks still missing parts


def _check_files(store: Store, result: CheckResult,
                 resolve: Callable[[MailSettings], MailSettings]) -> list[Talk]:
    """Read the subscriber file and every record; collect the problems; return the good talks."""
    try:
        mail = resolve(store.series.mail)
        if mail.recipients_file:
            SubscriberFile(store.root / mail.recipients_file).load()
    except InputError as exc:
        result.problems.append(str(exc))
    try:
        store.refuse_strays()
    except InputError as exc:
        result.problems.append(str(exc))
    try:
        load(store.root)  # the record of sent mail (a hidden file, so no stray)
    except InputError as exc:
        result.problems.append(str(exc))
    good = []
    entries = store.entries()
    result.talks = len(entries)
    for entry in entries:
        try:
            talk = store.talk(entry)
            if talk.photo:
                from mailer.render.photos import check as check_photo  # noqa: PLC0415 (Pillow loads only for a record with a photo)

                check_photo(store.root, talk.photo)
            good.append(talk)
        except InputError as exc:
            result.problems.append(str(exc))
    return good


def check(store: Store, today: date | None = None,
          resolve: Callable[[MailSettings], MailSettings] = lambda mail: mail) -> CheckResult:
    """Validate the series and every record, and render every talk with every template.

    Coming talks (from ``today`` on) that still miss part of S-T-A-B-P are named too.
    ``resolve`` gives the mail settings as the command runs with them (the environment's
    overrides: the subscriber file may be named there).
    """
    result = CheckResult()
    try:
        store.series  # noqa: B018 (reading it validates it)
        good = _check_files(store, result, resolve)
    except InputError as exc:
        result.problems.append(str(exc))
        return result
    first: dict[str, Talk] = {}
    for talk in good:  # a record copied by hand, uid: and all, is the same talk twice
        other = first.setdefault(talk.key, talk)
        if other is not talk:
            result.problems.append(
                f"{display_path(store.folder / (talk.id + '.yaml'))}: uid: {talk.key} is "
                f"also the identity of {other.id}; one talk, one record (remove one, or give "
                "the new talk a record without uid:)")
    if result.problems:
        return result
    result.incomplete = [
        f"{talk.id}: still missing {', '.join(talk.missing(photo=True))}"
        + ("" if talk.asked() else "; its speakers cannot be asked (no email: address)")
        for talk in good if today is not None and talk.date >= today
        and talk.takes_place and talk.missing(photo=True)]
    render = Renderer(store.root)
    template_problems: dict[str, list[str]] = {}  # a template mistake shows in every talk
    for talk in good:
        if talk.open:
            continue  # nothing is sent or published about an open week
        # A cancelled talk gets its cancellation, any other every kind; the speakers' word of
        # a change is checked with the list's (Renderer.check).
        kinds = [k for k in Kind if k.mail.for_cancelled == talk.cancelled
                 and k.mail.identity != Identity.CHANGE]
        try:
            upcoming = upcoming_after(store, talk)
            for kind in kinds:
                render.check(store.series, talk, upcoming, kind)
        except InputError as exc:
            template_problems.setdefault(str(exc), []).append(talk.id)
    for problem, ids in template_problems.items():
        which = f"{ids[0]}" if len(ids) == 1 else f"{ids[0]} and {len(ids) - 1} more talk(s)"
        result.problems.append(f"{problem} (rendering {which})")
    return result
