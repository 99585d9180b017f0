"""A send in progress and an unsubscribe lose nothing (contract §9): whoever is suppressed
before their message is built gets nothing, is recorded as left out, and the campaign is still
whole for the ledger and the series' record."""

from __future__ import annotations

import json
import time
from pathlib import Path

from runners import invoke
from seriesfiles import subscribe
from smtpserver import Server

from mailer.addresses import Mailbox
from mailer.delivery.ledger import SENT, SUPPRESSED, Ledger
from mailer.delivery.loop import Delivery, Report, deliver
from mailer.net.servers import SmtpSettings
from mailer.net.smtpsession import SmtpTransport


def test_the_loop_leaves_out_who_was_suppressed_before_their_message_was_built(
        tmp_path: Path, smtp_server: Server) -> None:
    people = [f"p{n}@example.org" for n in range(30)]
    settings = SmtpSettings(host="127.0.0.1", port=smtp_server.port, timeout=30)
    with Ledger(tmp_path) as ledger:
        campaign = ledger.campaign("talk", "announcement", force=False)

        def build(delivery: Delivery) -> bytes:
            if delivery.number == 3:  # a click arrives while the third message is built
                ledger.suppress(people[20], "unsubscribed", "web")
            return b"To: " + delivery.recipients[0].encode() + b"\r\n\r\nhello\r\n"

        events = list(deliver(
            [Delivery(n, (Mailbox(p),), (p,)) for n, p in enumerate(people)], message=build,
            transports=lambda: SmtpTransport(settings, "from@example.org"), ledger=ledger,
            campaign=campaign, connections=2, left_out=ledger.suppressed_among))
        settled = ledger.settled(campaign)
    report = events[-1]
    assert isinstance(report, Report) and report.exit_code == 0
    assert report.sent == 29 and report.skipped_suppressed == 1
    assert sorted(smtp_server.addresses()) == sorted(set(people) - {people[20]})
    assert settled[people[20]] == SUPPRESSED  # settled: a later run does not send it
    assert {s for a, s in settled.items() if a != people[20]} == {SENT}
    assert len(settled) == len(people)


def test_the_check_before_each_message_costs_microseconds(tmp_path: Path) -> None:
    """What the send loop asks before each message: a primary-key lookup among the
    suppressed, measured on a ledger that holds 2,000 of them."""
    with Ledger(tmp_path) as ledger:
        for n in range(2000):
            ledger.suppress(f"gone{n}@example.org", "unsubscribed", "test")
        start = time.perf_counter()
        for n in range(2000):
            ledger.suppressed_among((f"p{n}@example.org",))
        each = (time.perf_counter() - start) / 2000
    print(f"suppressed_among: {each * 1e6:.1f} µs a message")
    assert each < 0.002  # far below the time one message takes to build and send


def test_the_series_record_counts_who_left_as_settled(series: Path,
                                                      smtp_server: Server) -> None:
    """A campaign that left someone out is whole: the record says so, and it does not go
    again."""
    people = subscribe(series, 5)
    with Ledger(series / ".state") as ledger:
        campaign = ledger.campaign("2024-02-22-mathis", "announcement", force=False)
        ledger.write_outcome(campaign, people[1], SUPPRESSED, 0, "unsubscribed")
    sent = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert sent.code == 0, sent.both
    assert "sent 4" in sent.out and "left out 1 (unsubscribed while it went)" in sent.out
    assert people[1] not in smtp_server.addresses()
    lines = [json.loads(line) for line in (series / "seminars" / ".sent.log").read_text()
             .splitlines() if line.startswith("{")]
    assert [(w["reached"], w["of"], w.get("left")) for w in lines] == [(4, 5, 1)]
    again = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert again.code == 0 and len(smtp_server.received) == 4, again.both
