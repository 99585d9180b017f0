"""What the web part's requests do to the series' state (contract §9): whose a token is, and
leaving, signing up, confirming and choosing preferences, each written where cron and the
inbox write it.

The state is shared with a send that may be running: the ledger is SQLite in WAL mode, opened
for each request with a busy timeout, so a click and a send wait for each other for
milliseconds and lose nothing. The run lock is never taken (a send holds it for minutes); the
send itself looks up the suppressed just before it builds each message.

A token is checked against every address the series knows (the list addresses, the
subscriber file, the sign-ups), each comparison made in constant time and none skipped, so
the time a request takes tells nothing of which address a token is, or whether it is one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailer.addresses import parse_mailbox
from mailer.delivery.ledger import Ledger
from mailer.delivery.memberrows import CONFIRMED, PENDING, Preferences
from mailer.delivery.suppression import digest, kept, remember
from mailer.inbox.membership import CONFIRM_JOIN, ask_to_join, unsubscribed, welcome
from mailer.inbox.notes import Note, send_notes
from mailer.mail.recipients import plan_recipients
from mailer.mail.tokens import owner_of, unsubscribe_token
from mailer.series.mailconfig import MailSettings
from mailer.series.store import Store

A_DAY = timedelta(days=1)
ONE_CLICK = "web (one click)"  # what the ledger keeps as the message that unsubscribed


@dataclass(frozen=True)
class Holder:
    """Whose a token is, and where they stand."""

    address: str  # lower-cased
    token: str
    is_list: bool  # a list address of mail.to: its members leave at the list
    active: bool  # gets the list mail: in the file or a confirmed sign-up, and not suppressed
    pending: bool  # a sign-up waits for its confirmation
    preferences: Preferences


class Desk:
    """The web part's side of the series' state: one for the process, used by every thread."""

    def __init__(self, store: Store, state: Path, mail: MailSettings, secret: bytes, *,
                 log: Callable[[str], None] = lambda _: None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.state = state
        self.mail = mail
        self.secret = secret
        self.log = log
        self.clock = clock
        self._mailing = threading.Lock()  # a sign-up's "at most one mail a day", asked and sent
        self._record = threading.Lock()  # seminars/.suppressed.log, read and written whole
        self._file: tuple[tuple[int, int] | None, frozenset[str], frozenset[str]] | None = None

    def _ledger(self) -> Ledger:
        return Ledger(self.state, clock=self.clock)

    def _listed(self) -> tuple[frozenset[str], frozenset[str]]:
        """The list addresses and the subscriber file's addresses (read again when the file
        changes)."""
        name = self.mail.recipients_file
        try:
            stat = (self.store.root / name).stat() if name else None
            seen = (stat.st_mtime_ns, stat.st_size) if stat else None
        except OSError:
            seen = None
        if self._file is None or self._file[0] != seen or (seen is None and name):
            plan = plan_recipients(self.store.root, self.mail)
            self._file = (seen, frozenset(b.envelope.lower() for b in plan.lists),
                          frozenset(b.envelope.lower() for b in plan.subscribers))
        return self._file[1], self._file[2]

    def token(self, address: str) -> str:
        return unsubscribe_token(self.secret, self.store.series.token, address)

    def whose(self, token: str) -> Holder | None:
        """The holder of ``token``; None when it is nobody's."""
        lists, listed = self._listed()
        with self._ledger() as ledger:
            members = {m.address: m for m in ledger.members()}
            address = owner_of(self.secret, self.store.series.token, token,
                               sorted(lists | listed | set(members)))
            if address is None:
                return None
            gone = bool(ledger.suppressed_among([address])) or\
                digest(address) in kept(self.store.root)
            chosen = ledger.preferences().get(address, Preferences())
        member = members.get(address)
        joined = member is not None and member.status == CONFIRMED
        return Holder(address, token, address in lists,
                      (address in listed or joined) and not gone,
                      member is not None and member.status == PENDING, chosen)

    def leave(self, holder: Holder) -> None:
        """Unsubscribe at once (ledger and the series' record); a line back when the series
        asks for one (``mail.confirm_unsubscribe``, at most one a day)."""
        address = holder.address
        with self._ledger() as ledger:
            new = ledger.suppress(address, "unsubscribed", ONE_CLICK)
            if new:
                with self._record:
                    remember(self.store.root, [{"address": digest(address),
                                                "why": "unsubscribed"}])
            self.log(f"{address} unsubscribed (web)" if new else
                     f"{address} unsubscribed again (web); suppressed already")
            if new and self.mail.confirm_unsubscribe:
                self._send(ledger, unsubscribed(self.store.series.name, self.mail, address))

    def sign_up(self, text: str, zone: str | None) -> str:
        """A sign-up from the form: the address waits for its confirmation, and gets the mail
        that asks for it (at most one a day). Returns the address as read; raises
        AddressProblem for one that is not an address."""
        address = parse_mailbox(text).envelope.lower()
        holder = self.whose(self.token(address))
        with self._mailing, self._ledger() as ledger:
            if holder is not None and holder.active:
                self.log(f"a sign-up (web) for {address}, who is on the list already")
                return address
            member = ledger.member(address)  # one who joined and left waits anew
            ledger.sign_up(address, "", "web",
                           again=member is not None and member.status == CONFIRMED)
            if zone:
                ledger.prefer(address, zone=zone)
            last = ledger.last_note(address, CONFIRM_JOIN)
            if last is not None and self.clock() - last < A_DAY:
                self.log(f"a sign-up (web) for {address}: asked already today, not again")
                return address
            link = f"{self.mail.web}/c/{self.token(address)}" if self.mail.web else None
            self._send(ledger, ask_to_join(self.store.series.name, address, link))
        return address

    def confirm(self, holder: Holder) -> bool:
        """Confirm a waiting sign-up by its link (the consent: "web link" and the time); lift
        a suppression; send the welcome. False when none waits."""
        address = holder.address
        with self._mailing, self._ledger() as ledger:
            if not ledger.confirm(address, "web link"):
                return False
            self.log(f"{address} joined the list (confirmed by its link on the web)")
            if ledger.restore(address) or digest(address) in kept(self.store.root):
                with self._record:
                    remember(self.store.root, [{"restored": digest(address)}])
                self.log(f"{address} had left before: no longer suppressed")
            link = f"{self.mail.web}/p/{holder.token}" if self.mail.web else None
            self._send(ledger, welcome(self.store.series.name, address, link))
        return True

    def prefer(self, holder: Holder, zone: str | None, *, reminders: bool) -> Preferences:
        """Set a subscriber's zone (None: the series') and reminders."""
        with self._ledger() as ledger:
            chosen = ledger.prefer(holder.address, zone=zone or self.store.series.timezone,
                                   reminders=reminders)
        self.log(f"{holder.address} set their zone to {chosen.zone} and reminders "
                 f"{'on' if chosen.reminders else 'off'} (web)")
        return chosen

    def _send(self, ledger: Ledger, note: Note) -> None:
        for line in send_notes(self.store, self.mail, ledger, [note], self.clock()):
            self.log(line)

