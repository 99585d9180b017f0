"""SMTP replies as outcomes: what each is about (:func:`classify`), and a lost connection.

Pure, with no smtplib: the send loop and the pool judge replies with it, and a dry run, which
opens no connection, loads it without the SMTP session (:mod:`mailer.net.smtpsession`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import NamedTuple

from mailer.errors import TemporaryFailure


class About(enum.StrEnum):
    """What an SMTP reply is about, and so what a run does about it (:func:`classify`)."""

    TAKEN = "taken"  # 2xx: the relay took the message
    RECIPIENT = "recipient"  # this recipient: 5xx refused for good, 4xx deferred
    UNSURE = "unsure"  # nothing says whose: one recipient's, unless several in a row get it
    CONNECTION = "connection"  # this connection's own limit: a fresh connection goes on
    CONNECTIONS = "connections"  # too many connections at once: go on over fewer
    LIMIT = "limit"  # the sender's quota or rate: stop, the rest waits for the next run (75)
    SENDER = "sender"  # the sender is refused (blocked, unauthorised): stop, for the organiser (1)


# RFC 3463 (enhanced status codes, first in the text: RFC 2034) and the words of the big relays.
_ENHANCED = re.compile(r"\s*#?([245])\.(\d{1,3})\.(\d{1,3})\b")
_ANOTHER_ENHANCED = re.compile(r"\s#?[245]\.\d{1,3}\.\d{1,3}\s")  # a multi-line reply's lines
_RECIPIENT_CODES = {(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (1, 10), (2, 1), (2, 2),
                    (2, 4)}  # bad mailbox or domain, moved, mailbox disabled or full, a list
_SENDER_CODES = {(1, 7), (1, 8)}  # bad sender's mailbox syntax, bad sender's system address
_PER_CONNECTION = re.compile(r"\b(too many|max|maximum)\b.{0,40}\b(in|on|per|for) (this|a|one|the"
                             r"|each) (connection|session)\b")
_SENDER_NAMED = re.compile(
    r"sender address rejected|sender verify failed|of sender address|\bsender domain\b|the "
    r"sender's address|client host rejected|relay(ing)? access denied|relay(ing)? (is )?(denied"
    r"|not permitted|not allowed)|unable to relay")
_RECIPIENT_WORDS = re.compile(
    r"recipient address rejected|resolver\.(adr|rst)\.|\bthe recipient\b|user you are trying "
    r"to|you tried to reach|user unknown|unknown user|no such (user|mailbox|recipient)|mailbox "
    r"not found|mailbox (is )?full|over quota|mailbox quota|out of storage|unrouteable address|"
    r"recipient not found|unknown recipient|invalid recipient|does(n't| not) have an? [\w.-]+ "
    r"account")
_CONNECTIONS_WORDS = re.compile(r"concurrent (smtp )?connections|too many (concurrent |"
                                r"simultaneous |open )?connections|\bthread limit|max(imum)? "
                                r"(number of )?connections")
_LIMIT_WORDS = re.compile(
    r"quota ?exceeded|\b(sending|submission|message|daily|hourly|send|relay) quota\b|quota "
    r"(has been |was |is )?(exceeded|reached)|rate ?-?limit|rate exceeded|\b(sending|message|"
    r"submission) rate\b|too fast|too frequent|throttl|too much mail|too many (recipients?|"
    r"messages|e-?mails|mails)\b|limit (has been |was )?(exceeded|reached)|exceeded .{0,40}\b"
    r"limit|reached .{0,30}\blimit|\bmax(imum)? .{0,40}\bexceeded|exceeded the max|credits "
    r"exceeded|daily .{0,40}\blimit|unexpected volume|temporarily deferred|unusual rate|server "
    r"busy|try again in \d+ (s|min)")
_SENDER_WORDS = re.compile(
    r"access denied|not (authori[sz]ed|permitted|allowed) to send|permissions? to send|\bsend ?"
    r"as\b|on behalf of|auth(entication)? required|not authenticated|unauthenticated|must (be )?"
    r"authenticat|authentication failed|blocked|black ?list|block ?list|spamhaus|\bbanned\b|not "
    r"verified|unverified|not accepted from|sending paused|account (is )?(disabled|suspended)|"
    r"\bsuspended\b|not owned by|sender identity|the from address")


# The sender's own quota, however the reply's code reads (Microsoft gives 5.2.2, "mailbox
# full", to SubmissionQuotaExceeded): before the enhanced codes, never a recipient's.
_SENDER_QUOTA = re.compile(
    r"submission ?quota ?exceeded|your (daily |hourly )?(sending|submission|message) (quota|"
    r"limit)|daily (user )?sending (quota|limit)|\b(messages|e-?mails|recipients) per "
    r"(day|hour)\b")


def classify(code: int, text: str) -> About:
    """What the reply ``code text`` is about: the recipient it answered, or the sender or the
    session (a limit, a refused sender, too many connections). Pure; the table of real relays'
    replies in tests/test_limits.py is its specification. The enhanced status code (RFC 3463)
    decides where it is plain (X.1.1 a bad mailbox, X.2.2 a full one, X.1.8 a bad sender); else
    the words, the most specific first ("Recipient address rejected: Access denied" is the
    recipient's); then X.4.5 (Gmail's daily limit), X.5.3 and a 421 with X.7.x are limits, any
    other 421 the connection's; the rest is UNSURE."""
    return next(_verdicts(code, text), About.UNSURE)


def _verdicts(code: int, text: str) -> Iterator[About]:
    """:func:`classify`'s rules in order: the first verdict given is the reply's."""
    if code < 400:
        yield About.TAKEN
    if _SENDER_QUOTA.search(text.lower()):
        yield About.LIMIT
    found = _ENHANCED.match(text)
    enhanced = (int(found[2]), int(found[3])) if found else None
    if enhanced in _SENDER_CODES:
        yield About.SENDER
    if enhanced in _RECIPIENT_CODES:
        yield About.RECIPIENT
    words = _ANOTHER_ENHANCED.sub(" ", " " + text.lower() + " ")
    if enhanced == (6, 7):  # an address needs SMTPUTF8: the sender's, or this recipient's
        yield About.SENDER if _SENDER_NAMED.search(words) else About.RECIPIENT
    for patterns, verdict in ((_PER_CONNECTION, About.CONNECTION),
                              (_SENDER_NAMED, About.SENDER),
                              (_RECIPIENT_WORDS, About.RECIPIENT),
                              (_CONNECTIONS_WORDS, About.CONNECTIONS),
                              (_LIMIT_WORDS, About.LIMIT),
                              (_SENDER_WORDS, About.SENDER)):
        if patterns.search(words):
            yield verdict
    if enhanced in ((4, 5), (5, 3)) or (code == 421 and enhanced and enhanced[0] == 7):
        yield About.LIMIT
    if code == 421:
        yield About.CONNECTION


class Outcome(NamedTuple):
    """The server's answer for one recipient."""

    code: int
    text: str

    @property
    def ok(self) -> bool:
        """Whether the server took the message for this recipient."""
        return self.code == 250

    @property
    def temporary(self) -> bool:
        """Whether trying again later may work (4xx)."""
        return 400 <= self.code < 500

    @property
    def about(self) -> About:
        """Whom the reply is about: see :func:`classify`."""
        return classify(self.code, self.text)


class ConnectionLost(TemporaryFailure):
    """The server closed the connection or stopped answering during a transaction.

    ``unconfirmed``: the whole message had gone out and no answer came, so the server may
    have taken it (a relay that stores and then hangs): sending it again may mean a copy.
    """

    def __init__(self, text: str, *, unconfirmed: bool = False, worn: bool = False,
                 reply: Outcome | None = None) -> None:
        super().__init__(text)
        self.unconfirmed = unconfirmed
        self.worn = worn  # the connection had carried messages: a server's per-connection limit
        self.reply = reply  # the server's 421, when it said why it closed
