"""Every use case called as a plain function, without Typer: what it yields or returns is what
the command line prints, and its effects (mail on the test server, files, the ledger) are real.

The bundled season: its first talk is 2024-02-22 at 15:00 CET, announced from 2024-02-16.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from seriesfiles import REPO, subscribe, write
from smtpserver import Server

from mailer.commands.environment import Settings, resolve
from mailer.commands.output import Done, Line
from mailer.series.kinds import Kind
from mailer.series.store import Store

CET = ZoneInfo("Europe/Stockholm")
TALK = "2024-02-22-mathis"
DAY = date(2024, 2, 20)
NOW = datetime(2024, 2, 20, 9, 0, tzinfo=CET)
USE_CASES = sorted(p.stem for p in (REPO / "mailer" / "commands").glob("*.py")
                   if p.stem not in ("__init__", "environment", "output", "mailing"))


def settings_for(root: Path, server: Server | None = None) -> tuple[Settings, Store]:
    store = Store(root)
    environ = {"ANNOUNCE_STATE_DIR": str(root / ".state"), "ANNOUNCE_RETRY_SECONDS": "0"}
    if server is not None:
        environ.update(server.env())
    return resolve(root, store.series.mail, environ), store


def drained(outputs: Iterable[object]) -> tuple[list[str], int]:
    """The lines a use case yielded, and the exit code it ended with."""
    lines, codes = [], []
    for output in outputs:
        if isinstance(output, Line):
            lines.append(output.text)
        elif isinstance(output, Done):
            codes.append(output.code)
    assert len(codes) == 1, "a use case ends with exactly one Done"
    return lines, codes[0]


def test_every_use_case_module_is_tested_here() -> None:
    tested = {"ask", "check", "copies", "cron", "feed", "imports", "inbox", "move", "preview",
              "scaffold", "send", "serve", "site", "status", "subscribers", "template"}
    assert set(USE_CASES) == tested
    for name in USE_CASES:  # and each imports without the command line
        module = importlib.import_module(f"mailer.commands.{name}")
        assert "typer" not in module.__dict__


def test_send_sends_and_a_second_send_finds_it_done(series: Path, smtp_server: Server) -> None:
    from mailer.commands.send import Request, send

    people = subscribe(series, 3)
    settings, store = settings_for(series, smtp_server)
    lines, code = drained(send(settings, store, Request(TALK, Kind.ANNOUNCEMENT, DAY), NOW))
    assert code == 0 and sorted(smtp_server.addresses()) == people, lines
    assert lines == [f"announcement of {TALK}: sent 3, refused 0, deferred 0"]
    again, code = drained(send(settings, store, Request(TALK, Kind.ANNOUNCEMENT, DAY), NOW))
    assert code == 0 and "already sent to 3 recipient(s)" in again[0]
    assert len(smtp_server.received) == 3


def test_send_due_says_what_is_next_when_nothing_is_due(series: Path) -> None:
    from mailer.commands.cron import send_due

    settings, store = settings_for(series)
    early = datetime(2024, 2, 1, 9, 0, tzinfo=CET)
    lines, code = drained(send_due(settings, store, early, dry_run=True))
    assert code == 0
    assert lines == ["Nothing is due at 2024-02-01 09:00 CET. Next: the announcement of "
                     f"{TALK}, due from 2024-02-16 08:00 CET."]


def test_ask_with_to_reaches_only_that_address(series: Path, smtp_server: Server) -> None:
    from mailer.commands.ask import ask

    write(series / "seminars" / f"{TALK}.yaml",
          "date: 2024-02-22\nspeakers:\n- {name: Ann Ek, email: ann@example.org}\n")
    settings, store = settings_for(series, smtp_server)
    lines, code = drained(ask(settings, store, TALK, DAY, NOW, to=("me@example.net",)))
    assert code == 0, lines
    assert [r.rcpt_tos for r in smtp_server.received] == [["me@example.net"]]


def test_preview_writes_the_files(series: Path, tmp_path: Path) -> None:
    from mailer.commands.preview import preview

    settings, store = settings_for(series)
    done = preview(settings, store, TALK, kind=Kind.REMINDER, day=DAY, now=NOW,
                   out=tmp_path / "p")
    assert done.folder == tmp_path / "p"
    assert sorted(p.name for p in done.folder.iterdir()) == [
        "event.ics", "message.eml", "message.html", "message.txt"]


def test_check_and_subscribers_and_list(series: Path) -> None:
    from mailer.commands.check import check_series
    from mailer.commands.copies import sent, sent_lines
    from mailer.commands.status import format_rows, listing
    from mailer.commands.subscribers import restore, subscribers

    settings, store = settings_for(series)
    said = [line.text for line in check_series(settings, store, DAY)]
    assert said[0] == "ok: series and 7 talk(s) are valid and render"
    assert subscribers(settings, store)[0].text == "1 active, 0 suppressed"
    from mailer.errors import InputError

    with pytest.raises(InputError, match="is not suppressed"):
        restore(settings, "nobody@example.org")
    rows = listing(store, settings.state, DAY, every=False)
    assert format_rows(rows, CET)[0].startswith(f"{TALK}  ")
    assert sent_lines(sent(store, settings.state, TALK), CET)[0].startswith(
        f"Nothing about {TALK} went out")


def test_move_site_and_template(series: Path, tmp_path: Path) -> None:
    from mailer.commands.feed import feed
    from mailer.commands.move import move
    from mailer.commands.site import page, program
    from mailer.commands.template import template_lines, template_text

    store = Store(series)
    assert "Quantifying behavior" in page(store, store.find(TALK))
    assert "| 2024-02-22 15:00 | [Alexander Mathis, EPFL](2024-02-22.html) |" in \
        program(store, 2024)
    calendar = feed(store, series / ".state", NOW)
    assert f"UID:{TALK}.learning-machines@announce" in calendar
    assert calendar.count("BEGIN:VEVENT") == 6  # every talk but the open slot
    moved = move(store, series / ".state", TALK, date(2024, 2, 23), None, today=DAY, now=NOW)
    assert moved.talk.key == TALK and (series / "seminars" / "2024-02-23-mathis.yaml").is_file()
    assert template_lines(series)[0].text == "announcement.md.j2     (package default)"
    assert template_text("subject.txt.j2")


def test_scaffold_and_import(tmp_path: Path) -> None:
    from mailer.commands.imports import import_files
    from mailer.commands.scaffold import init_series, new_talk

    init_series(tmp_path / "club", DAY, name="Club", zone="Europe/Stockholm")
    made = new_talk(tmp_path / "club", date(2024, 3, 7), "Bo Ek", None, None)
    assert made.name == "2024-03-07-bo-ek.yaml"
    sheet = write(tmp_path / "plan.csv", "date,speaker,title\n2024-03-14,Cai Wu,On things\n")
    done = import_files(tmp_path / "club", [sheet])
    assert (tmp_path / "club" / "seminars" / "2024-03-14-cai-wu.yaml").is_file(), done.lines()


def test_inbox_reads_a_maildir_and_acts_on_nothing_without_proof(series: Path) -> None:
    import mailbox

    from mailer.commands.inbox import read_inbox

    box = series / "Maildir"
    forged = mailbox.Maildir(box, create=True)
    forged.add(b"From: stranger@example.com\r\nTo: lm@example.org\r\nSubject: unsubscribe\r\n"
               b"Message-ID: <x@example.com>\r\n\r\nplease\r\n")
    write(series / "seminars" / "series.yaml",
          (series / "seminars" / "series.yaml").read_text(encoding="utf-8")
          .replace("mail:\n", f"mail:\n  inbox: {{maildir: {box}}}\n", 1))
    settings, store = settings_for(series)
    read = read_inbox(store, settings.state, settings.mail, NOW, dry_run=True)
    assert read.lines and "stranger@example.com" in " ".join(read.lines)


def test_serve_makes_the_web_part_and_serves_it_without_the_command_line(series: Path) -> None:
    import threading
    import urllib.request

    from mailer.commands.serve import listen, make_app

    settings, store = settings_for(series)
    said: list[str] = []
    serving = listen(make_app(settings, store, log=said.append), "127.0.0.1", 0)
    thread = threading.Thread(target=serving.run, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{serving.port}/subscribe",
                                    timeout=10) as answer:
            assert answer.status == 200 and b"Join the mailing list" in answer.read()
    finally:
        serving.stop()
        thread.join(10)
    assert not thread.is_alive()
    assert (settings.state / "secret").is_file()  # the tokens' key, made on first use
