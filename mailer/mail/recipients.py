"""Read a subscriber file: one address a line, or CSV with an ``email`` column (and ``name``);
and plan a mail's recipients from it, the list addresses or ``--to``.

Every line is validated before anything is sent. A bad line stops the run with
``file:line`` for each problem: a typo must not drop a subscriber silently.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mailer.addresses import AddressProblem, Mailbox, parse_mailbox
from mailer.errors import InputError
from mailer.mail.outgoing import RecipientPlan
from mailer.paths import MAX_SUBSCRIBER_BYTES, decode_text, display_path, read_regular
from mailer.series.mailconfig import MailSettings
from mailer.text import control_characters

MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class Line:
    """One line of the file: a subscriber or the reason it is not one."""

    number: int
    mailbox: Mailbox | None
    problem: str | None = None


class SubscriberFile:
    """A subscriber file, read as a stream of validated, de-duplicated addresses."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = display_path(path)

    def _open(self) -> Iterator[str]:
        # The file may live outside the series folder (it is private), but it must be a
        # regular file: a FIFO or a device would hang or never end.
        data = read_regular(self.path, "mail.recipients_file",
                            inside=None, limit=MAX_SUBSCRIBER_BYTES)
        yield from io.StringIO(decode_text(data, self.path, "the subscriber file"), newline="")

    def lines(self) -> Iterator[Line]:
        """Yield every subscriber line, valid or not, with its line number."""
        stream = self._open()
        first = ""
        number = 0
        for first in stream:
            number += 1
            if first.strip() and not first.lstrip().startswith("#"):
                break
        else:
            return
        columns = [c.strip().strip('"').lower() for c in first.replace(";", ",").split(",")]
        if "email" in columns:
            yield from self._csv(first, stream, number)
            return
        if len(columns) > 1 and "@" not in first:
            raise InputError(f"{self.where}:{number}: looks like a CSV header ({first.strip()}) "
                             "without an email column; name the column of addresses email "
                             "(and the names' column name)")
        yield self._plain(first, number)
        for text in stream:
            number += 1
            if text.strip() and not text.lstrip().startswith("#"):
                yield self._plain(text, number)

    @staticmethod
    def _plain(text: str, number: int) -> Line:
        address = text.rstrip("\r\n")
        try:
            return Line(number, parse_mailbox(address))
        except AddressProblem as why:
            return Line(number, None, f"{address.strip()!r} {why}")

    def _csv(self, header: str, stream: Iterator[str], first_line: int) -> Iterator[Line]:
        delimiter = ";" if header.count(";") > header.count(",") else ","
        reader = csv.reader(stream, delimiter=delimiter)
        names = [c.strip().lower() for c in next(csv.reader([header], delimiter=delimiter))]
        email_at = names.index("email")
        name_at = names.index("name") if "name" in names else None
        ended = 0  # the line the previous row ended on: a quoted cell may span lines
        for row in reader:
            number, ended = first_line + ended + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                yield Line(number, None, f"has {len(row)} columns, the header has {len(names)}")
                continue
            name = row[name_at] if name_at is not None else ""
            if control_characters(name):
                yield Line(number, None, f"the name {name!r} holds a control character "
                                         "(such as a line break)")
                continue
            try:
                yield Line(number, parse_mailbox(row[email_at], name))
            except AddressProblem as why:
                yield Line(number, None, f"{row[email_at]!r} {why}")

    def load(self) -> list[Mailbox]:
        """Validate every line; return each subscriber once (the first line wins for a repeat)."""
        return [box for box, _ in self.load_numbered()]

    def load_numbered(self) -> list[tuple[Mailbox, int]]:
        """Validate every line; return each subscriber once with its line number.

        Addresses are small: a list of 100,000 is a few MB. Messages are never held per
        subscriber; each is made from the shared blueprint when it is sent.
        """
        problems = []
        seen: set[str] = set()
        subscribers = []
        for line in self.lines():
            if line.mailbox is None:
                problems.append(f"{self.where}:{line.number}: {line.problem}")
            elif line.mailbox.envelope.lower() not in seen:
                seen.add(line.mailbox.envelope.lower())
                subscribers.append((line.mailbox, line.number))
        if problems:
            shown = problems[:MAX_PROBLEMS_SHOWN]
            more = len(problems) - len(shown)
            raise InputError("\n".join(shown) + (f"\n... and {more} more" if more else "")
                             + f"\n{self.where}: {len(problems)} bad line(s); nothing was sent. "
                             "Fix or remove them and run again")
        if not subscribers:
            raise InputError(f"{self.where}: holds no subscribers")
        return subscribers


def plan_recipients(root: Path, mail: MailSettings, to: Sequence[str] = ()) -> RecipientPlan:
    """Plan the recipients: ``--to`` addresses, or the series' list and subscriber file."""
    if to:
        boxes = []
        for text in to:
            try:
                boxes.append(parse_mailbox(text))
            except AddressProblem as why:
                raise InputError(f"--to: {text!r} {why}") from None
        return RecipientPlan(subscribers=tuple(boxes), test=True)
    lists = tuple(parse_mailbox(text) for text in mail.to)
    if not mail.recipients_file:
        return RecipientPlan(lists=lists)
    source = SubscriberFile(root / mail.recipients_file)
    numbered = source.load_numbered()
    return RecipientPlan(lists=lists, subscribers=tuple(box for box, _ in numbered),
                         source=source.where, lines=tuple(line for _, line in numbered))
