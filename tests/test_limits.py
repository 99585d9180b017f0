"""A relay's limits are not refusals: a sending quota or rate, a refused sender, the same
refusal for message after message stop the run and leave everyone not reached for the next
run; only a refusal about the recipient is recorded as one. A relay that takes fewer
connections than configured gets the run over the connections it takes.

The classification is a table of real relays' replies; the runs go against the tests' SMTP
server answering as Microsoft 365, Gmail and Exchange Online do."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from runners import invoke
from seriesfiles import subscribe
from smtpserver import (
    EXCHANGE_TOO_MANY,
    Faults,
    FewConnections,
    Server,
    start_few_connections_server,
)

from mailer.delivery.ledger import Ledger
from mailer.net.smtpreplies import About, classify
from mailer.series.kinds import Kind

LIMIT, SENDER, RECIPIENT, UNSURE = About.LIMIT, About.SENDER, About.RECIPIENT, About.UNSURE
CONNECTIONS, CONNECTION = About.CONNECTIONS, About.CONNECTION

M365_QUOTA = ("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed "
              "to process message due to a permanent exception with message [BeginDiagnosticData]"
              "Cannot submit message. 0.35250:0A002C84, 1.36674:0A000000 [Hostname="
              "AM6PR04MB1234.eurprd04.prod.outlook.com]")
GMAIL_LIMIT = ("550 5.4.5 Daily user sending limit exceeded. For more information on Gmail "
               "sending limits go to https://support.google.com/a/answer/166852")

# (relay, code, the text as smtplib hands it on (one line), what it is about)
REPLIES = [
    ("Microsoft 365, as 5.2.2", 550, "5.2.2 STOREDRV.Submission.Exception:"
     "SubmissionQuotaExceededException; Failed to process message due to a permanent exception",
     LIMIT),
    ("a relay's daily quota, as 5.2.2", 552, "5.2.2 Message exceeds your daily sending quota",
     LIMIT),
    ("a relay's daily count", 550, "Maximum number of messages per day reached", LIMIT),
    ("Microsoft 365", *M365_QUOTA.split(" ", 1), LIMIT),
    ("Microsoft 365", 550, "5.7.60 SMTP; Client does not have permissions to send as this "
                           "sender", SENDER),
    ("Microsoft 365", 530, "5.7.57 Client not authenticated to send mail. "
                           "[AM0PR01CA0123.eurprd01.prod.exchangelabs.com]", SENDER),
    ("Microsoft 365", 550, "5.1.8 Access denied, bad outbound sender. AS(42004)", SENDER),
    ("Microsoft 365", 550, "5.7.708 Service unavailable. Access denied, traffic not accepted "
                           "from this IP.", SENDER),
    ("Microsoft 365", 451, "4.7.500 Server busy. Please try again later from [203.0.113.5]. "
                           "(S77719)", LIMIT),
    ("Microsoft 365", *EXCHANGE_TOO_MANY.split(" ", 1), CONNECTIONS),
    ("Microsoft 365", 432, "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded "
                           "[Hostname=AM6PR04MB1234.eurprd04.prod.outlook.com]", CONNECTIONS),
    ("Microsoft 365", 550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
                           "address lookup", RECIPIENT),
    ("Microsoft 365", 550, "5.4.1 Recipient address rejected: Access denied. AS(201806281)",
     RECIPIENT),
    ("Microsoft 365", 550, "5.7.1 RESOLVER.RST.AuthRequired; authentication required [Stage: "
                           "CreateMessage]", RECIPIENT),  # a group open to its members only
    ("Microsoft 365", 552, "5.2.2 STOREDRV.Deliver.Exception:QuotaExceededException."
                           "MapiExceptionShutoffQuotaExceeded; Failed to process message due to "
                           "a permanent exception", RECIPIENT),  # a full mailbox, not our quota
    ("Gmail", *GMAIL_LIMIT.split(" ", 1), LIMIT),
    ("Gmail", 550, "5.4.5 Daily user sending limit exceeded. For more information on Gmail "
                   "5.4.5 sending limits go to 5.4.5 https://support.google.com/a/answer/166852 "
                   "a1-20020a05600c000100b0040e4a7a7c6asm1234567wmb.1 - gsmtp", LIMIT),
    ("Gmail", 550, "5.4.5 Daily SMTP relay limit exceeded for user. For more information on "
                   "SMTP relay sending limits please contact your administrator", LIMIT),
    ("Gmail", 550, "5.7.1 Daily SMTP relay limit exceeded for customer. For more information "
                   "on SMTP relay sending limits please contact your administrator", LIMIT),
    ("Gmail", 550, "5.7.1 You have reached a limit for sending mail: your daily sending quota "
                   "is spent", LIMIT),
    ("Gmail", 421, "4.7.0 Try again later, closing connection. (EHLO) "
                   "a1-20020a05600c000100b0040e4a7a7c6asm1234567wmb.1 - gsmtp", LIMIT),
    ("Gmail", 421, "4.7.28 Gmail has detected an unusual rate of unsolicited mail originating "
                   "from your SPF domain. To protect our users from spam, mail sent from your "
                   "domain has been temporarily rate limited.", LIMIT),
    ("Gmail", 530, "5.7.0 Authentication Required. Learn more at "
                   "https://support.google.com/mail/?p=WantAuthError", SENDER),
    ("Gmail", 550, "5.7.0 Mail relay denied [203.0.113.5]. Invalid credentials for relay for "
                   "one of the domains in: example.org (as obtained from HELO and MAIL FROM).",
     SENDER),
    ("Gmail", 550, "5.7.26 This mail has been blocked because the sender is unauthenticated. "
                   "Gmail requires all senders to authenticate with either SPF or DKIM.", SENDER),
    ("Gmail", 550, "5.1.1 The email account that you tried to reach does not exist. Please try "
                   "double-checking the recipient's email address for typos or unnecessary "
                   "spaces.", RECIPIENT),
    ("Gmail", 550, "5.2.1 The email account that you tried to reach is disabled.", RECIPIENT),
    ("Gmail", 452, "4.2.2 The recipient's inbox is out of storage space. Please direct the "
                   "recipient to https://support.google.com/mail/?p=OverQuotaTemp", RECIPIENT),
    ("Gmail", 450, "4.2.1 The user you are trying to contact is receiving mail at a rate that "
                   "prevents additional messages from being delivered.", RECIPIENT),
    ("Yahoo", 421, "4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to "
                   "unexpected volume or user complaints - 4.16.55.1; see "
                   "https://postmaster.yahooinc.com/error-codes", LIMIT),
    ("Yahoo", 553, "5.7.1 [BL21] Connections will not be accepted from 203.0.113.5, because the "
                   "ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
     SENDER),
    ("Yahoo", 554, "5.7.9 Message not accepted for policy reasons. See "
                   "https://postmaster.yahooinc.com/error-codes", UNSURE),
    ("Yahoo", 552, "1 Requested mail action aborted, mailbox not found", RECIPIENT),
    ("Yahoo", 554, "delivery error: dd This user doesn't have a yahoo.com account "
                   "(someone@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com", RECIPIENT),
    ("Yahoo", 550, "Request failed; Mailbox unavailable", UNSURE),
    ("Postfix", 452, "4.5.3 Error: too many recipients", LIMIT),
    ("Postfix", 450, "4.7.1 Error: too much mail from 203.0.113.5", LIMIT),
    ("Postfix", 450, "4.7.1 Error: too many recipients from 203.0.113.5", LIMIT),
    ("Postfix", 421, "4.7.0 mail.example.org Error: too many connections from 203.0.113.5",
     CONNECTIONS),
    ("Postfix", 554, "5.7.1 <lm-seminar@example.org>: Sender address rejected: Access denied",
     SENDER),
    ("Postfix", 553, "5.7.1 <lm-seminar@example.org>: Sender address rejected: not owned by "
                     "user seminar", SENDER),
    ("Postfix", 450, "4.1.8 <lm-seminar@example.org>: Sender address rejected: Domain not found",
     SENDER),
    ("Postfix", 454, "4.7.1 <person@example.net>: Relay access denied", SENDER),
    ("Postfix", 554, "5.7.1 Service unavailable; Client host [203.0.113.5] blocked using "
                     "zen.spamhaus.org", SENDER),
    ("Postfix", 550, "5.1.1 <person@example.org>: Recipient address rejected: User unknown in "
                     "virtual mailbox table", RECIPIENT),
    ("Postfix", 450, "4.2.0 <person@example.org>: Recipient address rejected: Greylisted, see "
                     "http://postgrey.schweikert.ch/help/example.org.html", RECIPIENT),
    ("Postfix", 552, "5.3.4 Message size exceeds fixed limit", UNSURE),
    ("Postfix", 421, "4.4.2 mail.example.org Error: timeout exceeded", CONNECTION),
    ("Postfix (rspamd)", 451, '4.7.1 Ratelimit "user" exceeded', LIMIT),
    ("Exim", 550, "Unrouteable address", RECIPIENT),
    ("Exim", 550, "relay not permitted", SENDER),
    ("Exim", 550, "Sender verify failed", SENDER),
    ("Exim", 421, "mail.example.org Too many concurrent SMTP connections from this IP address; "
                  "please try again later.", CONNECTIONS),
    ("Exim (cPanel)", 550, "Domain example.org has exceeded the max emails per hour (500/500 "
                           "(100%)) allowed. Message discarded.", LIMIT),
    ("Exim", 550, "Administrative prohibition", UNSURE),
    ("Exim", 451, "Temporary local problem - please try later", UNSURE),
    ("Amazon SES", 454, "Throttling failure: Maximum sending rate exceeded.", LIMIT),
    ("Amazon SES", 454, "Throttling failure: Daily message quota exceeded.", LIMIT),
    ("Amazon SES", 554, "Message rejected: Email address is not verified. The following "
                        "identities failed the check in region EU-WEST-1: "
                        "lm-seminar@example.org", SENDER),
    ("Amazon SES", 454, "Temporary service failure", UNSURE),
    ("a relay", 550, "5.7.0 Message rejected: Daily message limit exceeded", LIMIT),
    ("SendGrid", 451, "Authentication failed: Maximum credits exceeded", LIMIT),
    ("SendGrid", 452, "Too many recipients received this hour (throttled)", LIMIT),
    ("SendGrid", 421, "Message from (203.0.113.5) temporarily deferred", LIMIT),
    ("SendGrid", 550, "Unauthenticated senders not allowed", SENDER),
    ("SendGrid", 550, "The from address does not match a verified Sender Identity. Mail cannot "
                      "be sent until this error is resolved.", SENDER),
    ("SendGrid", 550, "Requested action not taken: mailbox unavailable", UNSURE),
    ("Mailgun", 421, "Domain sandbox123.mailgun.org is not allowed to send: Sandbox subdomains "
                     "are for test purposes only. Please add your own domain or add the address "
                     "to authorized recipients in Account Settings.", SENDER),
    ("Mailgun", 421, "Domain mail.example.org is not allowed to send: recipient limit exceeded, "
                     "try again after Mon, 25 Aug 2025 07:00:31 UTC", LIMIT),
    ("Mailgun", 421, "Domain mail.example.org is not allowed to send: Account disabled", SENDER),
    ("Mailgun", 421, "#4.4.5 Too many connections from your host.", CONNECTIONS),
    ("per connection", 421, "4.4.2 closing: too many messages on this connection", CONNECTION),
    ("announce", 553, "5.6.7 the address needs SMTPUTF8, which relay:25 does not offer",
     RECIPIENT),
    ("announce", 553, "5.6.7 the sender's address needs SMTPUTF8, which relay:25 does not offer",
     SENDER),
    ("any", 250, "2.0.0 OK queued as 4Tq2bX0v5Zz9", About.TAKEN),
]


@pytest.mark.parametrize(("relay", "code", "text", "expected"), REPLIES,
                         ids=[f"{relay}-{code}-{text[:40]}" for relay, code, text, _ in REPLIES])
def test_what_a_relays_reply_is_about(relay: str, code: int | str, text: str,
                                      expected: About) -> None:
    assert classify(int(code), text) == expected, (relay, code, text)


def settled(series: Path) -> dict[str, str]:
    """The ledger's statuses for the announcement of the talk of 2024-02-22."""
    with Ledger(series / ".state") as ledger:
        campaign = ledger.latest_campaign("2024-02-22-mathis", Kind.ANNOUNCEMENT)
        assert campaign is not None
        return ledger.settled(campaign)


def after(count: int, reply: Callable[[str, int], str]) -> Callable[[str], str | None]:
    """An RCPT rule: the first ``count`` are taken, then each gets ``reply(address, n)``."""
    seen = itertools.count()
    lock = threading.Lock()

    def rule(address: str) -> str | None:
        with lock:
            n = next(seen)
        return reply(address, n) if n >= count else None
    return rule


def send(series: Path, server: Server, connections: int = 1) -> tuple[int, str, str]:
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=server,
                    ANNOUNCE_SMTP_CONNECTIONS=str(connections))
    return result.code, result.out, result.err


QUOTAS: dict[str, Callable[[], Faults]] = {  # each a fresh count of what the relay took
    "microsoft-365-at-the-end-of-data":
        lambda: Faults(data=lambda n: M365_QUOTA if n >= 20 else None),
    "gmail-at-rcpt": lambda: Faults(rcpt=after(20, lambda _a, _n: GMAIL_LIMIT)),
}


@pytest.mark.parametrize("connections", [1, 4])
@pytest.mark.parametrize("relay", list(QUOTAS))
def test_a_spent_quota_stops_the_run_and_the_next_run_sends_the_rest_once(
        series: Path, smtp_server: Server, relay: str, connections: int) -> None:
    people = subscribe(series, 60)
    reply = M365_QUOTA if relay.startswith("microsoft") else GMAIL_LIMIT
    smtp_server.sink.faults = QUOTAS[relay]()
    code, _, err = send(series, smtp_server, connections)
    assert code == 75, err
    assert (f"stopped: the relay's sending limit was reached after 20 of 60: {reply}; the other "
            "40 are left for the next run") in err
    assert "refused (permanent" not in err
    assert "sent 20, refused 0, deferred 0, stopped before the end: run again to continue" in err
    assert sorted(settled(series).values()) == ["sent"] * 20, "20 sent, and no one refused"
    first = set(smtp_server.addresses())
    assert len(first) == 20 and smtp_server.counts().most_common(1)[0][1] == 1

    smtp_server.sink.faults = Faults()  # the next day: the quota is back
    code, out, err = send(series, smtp_server, connections)
    assert code == 0, err
    assert out == ("announcement of 2024-02-22-mathis: sent 40, skipped 20 (already sent), "
                   "refused 0, deferred 0\n")
    assert sorted(smtp_server.addresses()) == people, "each of the 60 once, none twice"
    assert settled(series) == dict.fromkeys(people, "sent")


def test_a_run_that_meets_the_limit_again_says_how_far_it_got_in_all(
        series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 60)
    smtp_server.sink.faults = Faults(data=lambda n: M365_QUOTA if n >= 20 else None)
    assert send(series, smtp_server)[0] == 75
    smtp_server.sink.faults = Faults(data=lambda n: M365_QUOTA if n >= 45 else None)
    code, _, err = send(series, smtp_server)
    assert code == 75, err
    assert "sending limit was reached after 45 of 60" in err
    assert "the other 15 are left for the next run" in err
    smtp_server.sink.faults = Faults()
    assert send(series, smtp_server)[0] == 0
    assert sorted(smtp_server.addresses()) == people


def test_a_refused_sender_stops_the_run_for_the_organiser(series: Path,
                                                          smtp_server: Server) -> None:
    people = subscribe(series, 60)
    refusal = "550 5.7.60 SMTP; Client does not have permissions to send as this sender"
    smtp_server.sink.faults = Faults(data=lambda n: refusal if n >= 20 else None)
    code, _, err = send(series, smtp_server)
    assert code == 1, err
    assert (f"the relay refused the sender after 20 of 60: {refusal}; that needs the organiser"
            in err)
    assert "the other 40 are left for the next run" in err
    assert "stopped before the end: the rest goes once the reason above is seen to" in err
    assert "run again to continue" not in err
    assert "refused (permanent" not in err
    assert sorted(settled(series).values()) == ["sent"] * 20
    smtp_server.sink.faults = Faults()
    assert send(series, smtp_server)[0] == 0
    assert sorted(smtp_server.addresses()) == people


@pytest.mark.parametrize(("reply", "exit_code"), [
    ("421 4.7.0 Try again later, closing connection.", 75),  # Gmail's rate limit
    ("421 Domain sandbox123.mailgun.org is not allowed to send: Sandbox subdomains are for test "
     "purposes only. Please add your own domain or add the address to authorized recipients in "
     "Account Settings.", 1),
], ids=["gmail-rate", "mailgun-sandbox"])
def test_a_421_about_the_sender_stops_the_run_instead_of_reconnecting(
        series: Path, smtp_server: Server, reply: str, exit_code: int) -> None:
    """The relay closes the connection with a 421 that says why: a limit or a refused sender,
    not a connection to open again (and again)."""
    people = subscribe(series, 30)
    smtp_server.sink.faults = Faults(rcpt=after(10, lambda _a, _n: reply))
    before = smtp_server.sink.connections
    code, _, err = send(series, smtp_server, 2)
    assert code == exit_code, err
    assert f"after 10 of 30: {reply}" in err
    assert settled(series) == dict.fromkeys(smtp_server.addresses(), "sent")
    assert len(smtp_server.addresses()) == 10
    assert smtp_server.sink.connections - before <= 2, "no connection opened again"
    smtp_server.sink.faults = Faults()
    assert send(series, smtp_server)[0] == 0
    assert sorted(smtp_server.addresses()) == people


def unknown(address: str, n: int) -> str:
    """A refusal whose words say neither whose nor why, naming the address and an id."""
    return f"550 5.7.1 Message to <{address}> not delivered by policy, id {n * 7919}"


@pytest.mark.parametrize("connections", [1, 4])
def test_the_same_refusal_three_times_in_a_row_stops_the_run_and_records_none(
        series: Path, smtp_server: Server, connections: int) -> None:
    people = subscribe(series, 60)
    smtp_server.sink.faults = Faults(rcpt=after(10, unknown))
    code, _, err = send(series, smtp_server, connections)
    assert code == 1, err
    assert "the relay refused 3 messages in a row alike, after 10 of 60: 550 5.7.1 Message "\
           "to <" in err
    assert "so none of them is recorded as refused; the other 50 are left for the next run"\
           in err
    assert "refused (permanent" not in err
    assert sorted(settled(series).values()) == ["sent"] * 10, "none recorded as refused"
    smtp_server.sink.faults = Faults()
    code, _, err = send(series, smtp_server, connections)
    assert code == 0, err
    assert sorted(smtp_server.addresses()) == people


def test_two_alike_refusals_among_deliveries_are_their_recipients(
        series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 60)
    refused = {people[7], people[8]}
    smtp_server.sink.faults = Faults(
        rcpt=lambda a: unknown(a, 1) if a in refused else None)
    code, _, err = send(series, smtp_server)
    assert code == 1, err
    statuses = settled(series)
    assert {a for a, status in statuses.items() if status == "refused"} == refused
    assert len(statuses) == 60 and len(smtp_server.addresses()) == 58


@pytest.mark.parametrize("refused", [(10, 41), (20, 21, 22, 23, 24)],
                         ids=["two-of-60", "five-in-a-row"])
def test_a_refusal_about_the_recipient_marks_just_that_recipient(
        series: Path, smtp_server: Server, refused: tuple[int, ...]) -> None:
    people = subscribe(series, 60)
    gone = {people[i] for i in refused}
    smtp_server.sink.faults = Faults(
        rcpt=lambda a: "550 5.1.1 User unknown" if a in gone else None)
    code, _, err = send(series, smtp_server)
    assert code == 1, err
    for address in gone:
        assert (f"refused (permanent, not retried without --force): {address}: 550 5.1.1 User "
                "unknown") in err
    statuses = settled(series)
    assert {a for a, status in statuses.items() if status == "refused"} == gone
    assert sorted(smtp_server.addresses()) == sorted(set(people) - gone)
    assert "stopped" not in err


def test_a_relay_that_takes_one_connection_at_a_time_gets_everyone_in_one_run(
        series: Path) -> None:
    server = start_few_connections_server(FewConnections(most=1))
    try:
        people = subscribe(series, 60)
        code, out, err = send(series, server, 4)
        assert code == 0, err
        assert sorted(server.addresses()) == people, "each of the 60 once"
        assert server.sink.turned_away >= 1, "the relay turned connections away"
        assert f"{EXCHANGE_TOO_MANY}); going on over 1 connection(s)" in err
        assert out == "announcement of 2024-02-22-mathis: sent 60, refused 0, deferred 0\n"
        assert settled(series) == dict.fromkeys(people, "sent")
    finally:
        server.controller.stop()


def test_a_relay_that_turns_a_fourth_submission_away_gets_everyone_over_three(
        series: Path) -> None:
    """Microsoft 365 takes three submissions at once per mailbox; a fourth connection is
    answered "432 4.3.2 ... sender thread limit exceeded" at MAIL: the run goes on over three."""
    refusal = "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded"
    server = start_few_connections_server(FewConnections(most=3, refusal=refusal, at_mail=True))
    try:
        people = subscribe(series, 60)
        code, _, err = send(series, server, 4)
        assert code == 0, err
        assert sorted(server.addresses()) == people, "each of the 60 once"
        assert server.sink.turned_away >= 1
        assert (f"the relay takes fewer connections ({refusal}); going on over 3 "
                "connection(s)") in err
    finally:
        server.controller.stop()


def test_when_no_connection_works_the_run_stops_as_before(series: Path) -> None:
    """The relay takes no connection at all: nothing to go on over; the run stops with the
    relay's words, exit 75, and nothing is recorded."""
    server = start_few_connections_server(FewConnections(most=0))
    try:
        subscribe(series, 10)
        code, _, err = send(series, server, 4)
        assert code == 75, err
        assert EXCHANGE_TOO_MANY in err
        assert "nothing was sent by this run" in err
        assert server.addresses() == []
    finally:
        server.controller.stop()
