"""A send in progress and an unsubscribe lose nothing (contract §9): whoever is suppressed
before their message is built gets nothing, is recorded as left out, and the campaign is still
whole for the ledger and the series' record."""

from __future__ import annotations

import bisect
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from runners import invoke, popen
from seriesfiles import subscribe
from smtpserver import Faults, Server, Sink, start_server
from webserver import serving

from mailer.addresses import Mailbox
from mailer.delivery.ledger import SENT, SUPPRESSED, Ledger
from mailer.delivery.loop import Delivery, Report, deliver
from mailer.delivery.secret import series_secret
from mailer.mail.tokens import unsubscribe_token
from mailer.net.servers import SmtpSettings
from mailer.net.smtpsession import SmtpTransport
from mailer.series.store import Store


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


@dataclass
class Timed(Sink):
    """A server that notes when each message was taken (just before its 250 is answered)."""

    arrivals: list[tuple[float, str]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session,
                          envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            with self.lock:
                self.arrivals.extend((time.monotonic(), r) for r in envelope.rcpt_tos)
        return reply


CONNECTIONS = 3  # mail.smtp.connections (the default)
# At most this many messages are handed to the connections and not yet answered (each
# connection holds one, and a second whose envelope goes ahead): so when message n is built,
# at least n - IN_FLIGHT have been answered by the server.
IN_FLIGHT = 2 * CONNECTIONS


def test_a_send_of_2000_and_50_one_click_posts_lose_nobody(series: Path) -> None:
    """2,000 subscribers, and while they are sent to, 50 one-click POSTs through the real
    waitress server from a real HTTP client (10 for people already reached, 40 for people
    far ahead). Nobody is lost: every other address gets exactly one copy. Nobody whose POST
    returned before their message was built gets it: the send builds message n only once at
    least n - IN_FLIGHT messages were answered, so a POST that returned while fewer than that
    had arrived certainly came first; that is what is asserted, for every such POST (the
    others may go either way, and get at most one copy)."""
    people = subscribe(series, 2000)
    sink = Timed(faults=Faults(slow_seconds=0.005))  # a relay that takes ~5 ms a message
    server = start_server(sink)
    try:
        with serving(series, server) as web:
            secret = series_secret(series / ".state", create=False)
            assert secret is not None
            token = Store(series).series.token
            sending = popen(series, "send", "2024-02-22", "--today", "2024-02-20",
                            server=server)
            while len(sink.arrivals) < 100 and sending.poll() is None:
                time.sleep(0.01)
            returned: dict[str, float] = {}  # address -> when its POST returned
            behind = iter(people[10:90:8])
            for n in range(50):
                if n % 5 == 0:
                    address = next(behind)  # reached already: keeps its one copy
                else:  # far ahead of the send
                    ahead = len(sink.arrivals) + 200
                    address = next(p for p in people[min(ahead, 1999):] if p not in returned)
                status, _, _ = web.post(f"/u/{unsubscribe_token(secret, token, address)}",
                                        {"List-Unsubscribe": "One-Click"})
                returned[address] = time.monotonic()
                assert status == 200
            out, err = sending.communicate(timeout=300)
    finally:
        server.controller.stop()
    assert sending.returncode == 0, out + err
    counts = server.counts()
    assert max(counts.values()) == 1  # nobody twice
    assert {p for p in people if p not in returned} <= set(counts)  # nobody lost
    arrived = sorted(t for t, _ in sink.arrivals)
    certain = 0
    for address, moment in returned.items():
        number = people.index(address) + 1  # its message's place in the run
        if bisect.bisect_right(arrived, moment) < number - IN_FLIGHT:
            certain += 1  # its POST returned before its message could have been built
            assert address not in counts, address
    print(f"{certain} of {len(returned)} POSTs certainly came before their message")
    assert certain >= 20, f"only {certain} POSTs certainly came first; the test proves little"
    assert f"left out {2000 - len(counts)} (unsubscribed while it went)" in out
    lines = [json.loads(line) for line in (series / "seminars" / ".sent.log").read_text()
             .splitlines() if line.startswith("{")]
    assert [(w["reached"] + w.get("left", 0), w["of"]) for w in lines] == [(2000, 2000)]
