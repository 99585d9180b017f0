"""The web part (contract §9): ``announce serve``'s application under the real waitress server,
spoken to by a real HTTP client. One click from a mail client unsubscribes its recipient and
nobody else; a sign-up on the form is confirmed by its link; a subscriber sets their zone and
reminders; a forged token is a 404 that changes nothing.
"""

from __future__ import annotations

import getpass
import re
import signal
import subprocess
import sys
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest
from browser import Chromium, Tab
from outside import require_tool
from runners import invoke, popen
from seriesfiles import REPO, subscribe
from smtpserver import Server, free_port
from webserver import serving, with_web

from mailer.delivery.ledger import Ledger
from mailer.delivery.memberrows import CONFIRMED

STRANGER = "new.reader@example.net"


def to(server: Server, address: str) -> list[EmailMessage]:
    return [r.message for r in server.received if r.rcpt_tos == [address]]


def one_click_uri(message: EmailMessage) -> str:
    """The https (here: loopback http) URI of a copy's List-Unsubscribe."""
    uris = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
    [web] = [u for u in uris if u.startswith("http")]
    return web


def path_of(uri: str) -> str:
    return "/" + uri.split("/", 3)[3]


def active(root: Path) -> str:
    listing = invoke(root, "subscribers")
    assert listing.code == 0, listing.both
    return listing.out


@pytest.fixture
def listed(series: Path) -> list[str]:
    """The bundled series sent to a subscriber file of three."""
    return subscribe(series, 3)


def test_one_click_from_a_real_client_suppresses_at_once_and_the_next_send_skips_it(
        series: Path, listed: list[str], smtp_server: Server) -> None:
    with serving(series, smtp_server) as web:
        sent = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
        assert sent.code == 0, sent.both
        first, second = to(smtp_server, listed[0])[0], to(smtp_server, listed[1])[0]
        assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert one_click_uri(first) != one_click_uri(second)  # each recipient's own
        assert one_click_uri(first).startswith(web.base + "/u/")
        # What a mail client does (RFC 8058): POST the body, no cookie, no page.
        status, page, headers = web.post(path_of(one_click_uri(first)),
                                         {"List-Unsubscribe": "One-Click"})
        assert status == 200 and "You are unsubscribed" in page
        assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == \
            "no-store"
    assert f"  suppressed  {listed[0]}: unsubscribed" in active(series)
    with Ledger(series / ".state") as ledger:
        assert set(ledger.suppressed()) == {listed[0]}
    assert "unsubscribed" in (series / "seminars" / ".suppressed.log").read_text()
    again = invoke(series, "send", "2024-02-22", "--kind", "reminder", "--today", "2024-02-22",
                   server=smtp_server)
    assert again.code == 0, again.both
    reminded = [r.rcpt_tos for r in smtp_server.received[3:]]
    assert sorted(reminded) == [[listed[1]], [listed[2]]]


def test_the_multipart_body_rfc_8058_allows_works_too(series: Path, listed: list[str],
                                                      smtp_server: Server) -> None:
    with serving(series, smtp_server) as web:
        assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                      server=smtp_server).code == 0
        path = path_of(one_click_uri(to(smtp_server, listed[2])[0]))
        body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
                b"One-Click\r\n--XyZ--\r\n")
        status, _, _ = web.request("POST", path, body,
                                   {"Content-Type": "multipart/form-data; boundary=XyZ"})
        assert status == 200
    with Ledger(series / ".state") as ledger:
        assert set(ledger.suppressed()) == {listed[2]}


def test_a_forged_token_is_a_404_and_removes_nobody(series: Path, listed: list[str],
                                                    smtp_server: Server) -> None:
    with serving(series, smtp_server) as web:
        assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                      server=smtp_server).code == 0
        real = path_of(one_click_uri(to(smtp_server, listed[0])[0]))
        forged = real[:-1] + ("a" if real[-1] != "a" else "b")
        for path in (forged, "/u/" + "a" * 20, "/u/short", "/u/", "/u/../etc/passwd",
                     "/p/" + "b" * 20, "/c/" + "c" * 20, "/nothing"):
            for method in ("GET", "POST"):
                status, page, _ = web.request(method, path, b"List-Unsubscribe=One-Click", {
                    "Content-Type": "application/x-www-form-urlencoded"})
                assert status == 404, (method, path)
                assert "Nothing here" in page
        # A link scanner GETs the real link: a page with a button, and nobody is removed.
        status, page, _ = web.request("GET", real)
        assert status == 200 and '<button type="submit">Unsubscribe</button>' in page
        status, _, _ = web.post(real, {"something": "else"})  # not RFC 8058's body
        assert status == 400
        assert web.request("DELETE", real)[0] == 405
    with Ledger(series / ".state") as ledger:
        assert ledger.suppressed() == {}


def test_a_sign_up_on_the_form_is_confirmed_by_its_link_with_consent_and_time(
        series: Path, listed: list[str], smtp_server: Server) -> None:
    with serving(series, smtp_server) as web:
        status, page, _ = web.request("GET", "/subscribe")
        assert status == 200 and '<label for="address">' in page and 'lang="en"' in page
        status, page, _ = web.post("/subscribe", {"address": STRANGER,
                                                  "zone": "America/New_York"})
        assert status == 200 and "Check your mail" in page
        [ask] = to(smtp_server, STRANGER)
        assert "confirm that you want to join" in str(ask["Subject"])
        link = re.search(r"(http://127\.0\.0\.1:\d+/c/[a-z2-7]{20})", ask.get_body(
            ("plain",)).get_content()).group(1)  # type: ignore[union-attr]
        assert STRANGER not in [m.address for m in _members(series, CONFIRMED)]
        status, page, _ = web.request("GET", path_of(link))  # a scanner confirms nobody
        assert status == 200 and "Yes, add me" in page
        assert STRANGER not in [m.address for m in _members(series, CONFIRMED)]
        status, page, _ = web.post(path_of(link), {})
        assert status == 200 and "You are on the list" in page
        [member] = _members(series, CONFIRMED)
        assert (member.address, member.via, member.consent) == (STRANGER, "web", "web link")
        assert member.consented is not None
        welcome = to(smtp_server, STRANGER)[-1]
        assert "you are on the list" in str(welcome["Subject"])
        assert f"{web.base}/p/" in welcome.get_body(("plain",)).get_content()  # type: ignore
    listing = active(series)
    assert "sign-up by web" in listing and "America/New_York" in listing
    sent = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert sent.code == 0, sent.both
    mails = [m for m in to(smtp_server, STRANGER) if "Mathis" in str(m["Subject"])]
    assert len(mails) == 1 and "EST" in mails[0].get_body(("plain",)).get_content()  # type: ignore


def _members(root: Path, status: str) -> list:  # type: ignore[type-arg]
    with Ledger(root / ".state") as ledger:
        return ledger.members(status)


def test_twenty_sign_ups_for_one_victim_send_one_mail_and_meet_the_limit(
        series: Path, listed: list[str], smtp_server: Server) -> None:
    with serving(series, smtp_server) as web:
        statuses = [web.post("/subscribe", {"address": STRANGER})[0] for _ in range(20)]
        assert statuses[:3] == [200, 200, 200] and set(statuses[3:]) == {429}
        assert len(to(smtp_server, STRANGER)) == 1
        # The client tried ten times in the hour: another address from it waits too.
        status, _, headers = web.post("/subscribe", {"address": "other@example.net"})
        assert status == 429 and int(headers["retry-after"]) > 0
        # Another reader behind the same proxy (on this machine, so its word is taken).
        status, _, _ = web.post("/subscribe", {"address": "other@example.net"},
                                {"X-Forwarded-For": "198.51.100.7"})
        assert status == 200 and len(to(smtp_server, "other@example.net")) == 1
    # Someone on the list already gets no mail, and the page says what it says to anyone.
    with serving(series, smtp_server) as web:
        status, page, _ = web.post("/subscribe", {"address": listed[0]})
        assert status == 200 and "Check your mail" in page
        assert to(smtp_server, listed[0]) == []
        status, page, _ = web.post("/subscribe", {"address": "not an address"})
        assert status == 400 and 'aria-invalid="true"' in page


def test_a_subscriber_sets_zone_and_reminders_on_their_page(series: Path, listed: list[str],
                                                            smtp_server: Server) -> None:
    with serving(series, smtp_server) as web:
        assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                      server=smtp_server).code == 0
        token = one_click_uri(to(smtp_server, listed[1])[0]).rsplit("/", 1)[1]
        status, page, _ = web.request("GET", f"/p/{token}")
        assert status == 200 and 'id="reminders" name="reminders" value="on" checked' in page
        status, page, _ = web.post(f"/p/{token}", {"form": "preferences",
                                                   "zone": "Asia/Tokyo"})
        assert status == 200 and "Saved." in page and '"Asia/Tokyo" selected' in page
        assert web.post(f"/p/{token}", {"zone": "Mars/Olympus"})[0] == 400
    with Ledger(series / ".state") as ledger:
        chosen = ledger.preferences()[listed[1]]
    assert (chosen.zone, chosen.reminders) == ("Asia/Tokyo", False)


def test_announce_serve_runs_waitress_and_stops_on_sigterm(series: Path) -> None:
    port = free_port()
    with_web(series, port)
    process = popen(series, "serve", "--port", str(port))
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/subscribe",
                                            timeout=5) as answer:
                    assert answer.status == 200
                    assert answer.headers["Server"] == "announce"  # waitress, its ident
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("announce serve did not answer")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"on http://127.0.0.1:{port}" in err + out


def test_a_dry_run_reads_back_every_copys_own_list_unsubscribe(series: Path,
                                                               listed: list[str]) -> None:
    """Every copy's own List-Unsubscribe, the web one included, is read back before anything
    goes (contract §6); a dry run does the same checks."""
    with_web(series, 8025)
    dry = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", "--dry-run")
    assert dry.code == 0, dry.both


PHONE = 375  # CSS pixels: an iPhone's width
LABELLED = ("Array.from(document.querySelectorAll('input:not([type=hidden]), select'))"
            ".every(function (e) { return e.labels.length > 0; })")


def _fits(tab: Tab, title: str) -> None:
    """The page is the one expected, in English, every field labelled, and at a phone's
    width it scrolls only downwards."""
    assert tab.value("document.querySelector('h1').textContent") == title
    assert tab.value("document.documentElement.lang") == "en"
    assert tab.value(LABELLED)
    scroll, screen = tab.widths()
    assert screen == PHONE and scroll <= screen, f"{title}: {scroll} px wide at {screen} px"


@pytest.mark.integration
def test_chromium_at_375_px_signs_up_confirms_and_sets_preferences(
        series: Path, listed: list[str], smtp_server: Server, tmp_path: Path) -> None:
    tool = require_tool("chromium")
    with serving(series, smtp_server) as web, Chromium(tool, tmp_path / "profile") as browser:
        tab = browser.tab(PHONE)
        tab.open(f"{web.base}/subscribe")
        _fits(tab, "Join the mailing list")
        tab.screenshot(REPO / "tests" / "artifacts" / "web-subscribe-375px.png")
        tab.type_into("#address", STRANGER)
        tab.choose("#zone", "America/New_York")
        tab.click("button[type=submit]")
        _fits(tab, "Check your mail")
        [ask] = to(smtp_server, STRANGER)
        link = re.search(r"(http://127\.0\.0\.1:\d+/c/[a-z2-7]{20})", ask.get_body(
            ("plain",)).get_content()).group(1)  # type: ignore[union-attr]
        tab.open(link)
        _fits(tab, "Confirm your sign-up")
        tab.click("button[type=submit]")
        _fits(tab, "You are on the list")
        tab.click("a[href^='../p/']")
        _fits(tab, "Your preferences")
        assert tab.value("document.querySelector('#zone').value") == "America/New_York"
        tab.choose("#zone", "Asia/Tokyo")
        tab.click("#reminders", leads=False)
        assert tab.value("document.querySelector('#reminders').checked") is False
        tab.click("button[type=submit]")
        _fits(tab, "Your preferences")
        assert "Saved." in tab.value("document.body.textContent")
        tab.screenshot(REPO / "tests" / "artifacts" / "web-preferences-375px.png")
    [member] = _members(series, CONFIRMED)
    assert (member.address, member.consent) == (STRANGER, "web link")
    with Ledger(series / ".state") as ledger:
        chosen = ledger.preferences()[STRANGER]
    assert (chosen.zone, chosen.reminders) == ("Asia/Tokyo", False)


UNIT = REPO / "contrib" / "systemd" / "announce-serve.service"


def test_the_serve_unit_says_what_the_docs_say() -> None:
    unit = UNIT.read_text(encoding="utf-8")
    assert "\nExecStart=/home/seminar/.local/bin/announce serve --host 127.0.0.1 --port 8025\n"\
        in unit
    howto = (REPO / "docs" / "howto" / "web.md").read_text(encoding="utf-8")
    assert "contrib/systemd/announce-serve.service" in howto and "proxy_pass" in howto
    for line in unit.splitlines():
        if "=" in line and not line.startswith("#"):
            assert "#" not in line, f"systemd would read this comment as part of the value: {line}"


@pytest.mark.integration
def test_systemd_analyze_verifies_the_serve_unit(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze")
    announce = Path(sys.executable).parent / "announce"
    env_file = tmp_path / "seminar.env"
    env_file.write_text("ANNOUNCE_SMTP_PASSWORD=unused\n", encoding="utf-8")
    unit = (UNIT.read_text(encoding="utf-8")
            .replace("/home/seminar/.local/bin/announce", str(announce))
            .replace("WorkingDirectory=/srv/seminar", f"WorkingDirectory={tmp_path}")
            .replace("EnvironmentFile=/etc/announce/seminar.env", f"EnvironmentFile={env_file}")
            .replace("User=seminar", f"User={getpass.getuser()}"))
    (tmp_path / "announce-serve.service").write_text(unit, encoding="utf-8")
    done = subprocess.run([analyze, "verify", "--man=no", "announce-serve.service"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "announce-serve" not in done.stderr, done.stderr


def test_who_joined_on_the_web_left_and_signs_up_again_comes_back_by_the_same_link(
        series: Path, listed: list[str], smtp_server: Server) -> None:
    with serving(series, smtp_server) as web:
        assert web.post("/subscribe", {"address": STRANGER})[0] == 200
        [ask] = to(smtp_server, STRANGER)
        link = path_of(re.search(r"(http://\S+/c/[a-z2-7]{20})", ask.get_body(
            ("plain",)).get_content()).group(1))  # type: ignore[union-attr]
        assert web.post(link, {})[0] == 200
        leave = link.replace("/c/", "/u/")
        assert web.post(leave, {"List-Unsubscribe": "One-Click"})[0] == 200
        assert "  suppressed  " + STRANGER in active(series)
        status, page, _ = web.request("GET", link)  # nothing waits for it now
        assert status == 200 and "No sign-up waits" in page
        assert web.post("/subscribe", {"address": STRANGER})[0] == 200
        assert len(to(smtp_server, STRANGER)) == 2  # the ask and the welcome: one a day
        status, page, _ = web.post(link, {})
        assert status == 200 and "You are on the list" in page
        assert any("no longer suppressed" in line for line in web.said)
    assert "  suppressed  " + STRANGER not in active(series)
    [member] = _members(series, CONFIRMED)
    assert member.address == STRANGER
