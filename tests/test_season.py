"""A season of talks: the calendar feed, reminders, cancellations and the planning commands."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import vobject
from runners import invoke
from seriesfiles import edit, subscribe, write
from smtpserver import Server, parts

from mailer.delivery.ledgerfile import LEDGER_VERSION


def events_by_uid(ics: str) -> dict[str, vobject.base.Component]:
    calendar = vobject.readOne(ics, validate=True)
    return {event.uid.value: event for event in calendar.vevent_list}


def test_feed_validates_with_stable_uids_and_zones(series: Path) -> None:
    first = invoke(series, "ics")
    assert first.code == 0, first.err
    second = invoke(series, "ics", "--out", str(series / "feed.ics"))
    assert second.code == 0
    one = events_by_uid(first.out)
    two = events_by_uid((series / "feed.ics").read_text(encoding="utf-8"))
    assert set(one) == set(two)
    assert len(one) == 6, "every week but the open one"
    starts = {e.dtstart.value.date().isoformat(): e for e in one.values()}
    mathis = starts["2024-02-22"]
    assert mathis.dtstart.value.astimezone(UTC) == datetime(2024, 2, 22, 14, 0, tzinfo=UTC)
    kreis = starts["2024-04-04"]
    assert kreis.dtstart.value.hour == 16
    assert kreis.dtstart.value.utcoffset().total_seconds() == 7200
    assert (kreis.dtend.value - kreis.dtstart.value).total_seconds() == 3600
    assert starts["2024-02-29"].status.value == "CANCELLED"
    assert mathis.status.value == "CONFIRMED"
    assert "BEGIN:VTIMEZONE" in first.out and "TZID=Europe/Stockholm" in first.out


def test_uid_survives_time_and_title_change_and_sequence_grows(series: Path,
                                                               smtp_server: Server) -> None:
    before = events_by_uid(invoke(series, "ics").out)
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    sent = events_by_uid(invoke(series, "ics").out)
    edit(series / "seminars" / "2024-02-22-mathis.yaml", ('time: "15:00"', 'time: "16:15"'),
         ("title: Measuring", "title: Now measuring"))
    changed = events_by_uid(invoke(series, "ics").out)
    assert set(before) == set(sent) == set(changed)
    uid = next(u for u in changed if u.startswith("2024-02-22-mathis"))
    assert int(sent[uid].sequence.value) == 0
    assert int(changed[uid].sequence.value) == 1
    assert changed[uid].dtstart.value.hour == 16
    assert invoke(series, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    mailed = parts(smtp_server.received[-1].message)["text/calendar"].get_content()
    assert "SEQUENCE:1" in mailed
    assert events_by_uid(mailed)[uid].summary.value.startswith("Learning Machines: Now measuring")


def test_reminder_dry_run_says_today_and_the_time(series: Path, smtp_server: Server) -> None:
    dry = invoke(series, "send", "--kind", "reminder", "--dry-run", "--today", "2024-04-04")
    assert dry.code == 0, dry.both
    assert "Today at 16:00 CEST: the Learning Machines seminar." in dry.out
    assert "Subject: Today 16:00: Learning Machines seminar" in dry.out
    none = invoke(series, "send", "--kind", "reminder", "--today", "2024-04-03")
    assert none.code == 0
    assert "No seminar today (2024-04-03)." in none.out
    sent = invoke(series, "send", "--kind", "reminder", "--today", "2024-04-04", server=smtp_server)
    assert sent.code == 0, sent.both
    assert invoke(series, "send", "2024-04-04", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    assert len(smtp_server.received) == 2, "a reminder and an announcement are separate kinds"


def test_cancellation_flow(series: Path, smtp_server: Server) -> None:
    path = series / "seminars" / "2024-03-21-gustafsson.yaml"
    assert "Fredrik Gustafsson" in invoke(series, "page", "2024-03-14").out
    refused = invoke(series, "send", "2024-03-21", "--kind", "cancellation", "--today",
                     "2024-02-20")
    assert refused.code == 2
    assert "not cancelled" in refused.err
    path.write_text(path.read_text() + "status: cancelled\nnote: The speaker is ill.\n")
    dry = invoke(series, "send", "--kind", "cancellation", "--dry-run", "--today", "2024-03-18")
    assert dry.code == 0, dry.both
    assert "The Learning Machines seminar on 2024-03-21 15:00 is cancelled." in dry.out
    assert "Reason: The speaker is ill." in dry.out
    assert "Fredrik Gustafsson" not in invoke(series, "page", "2024-03-14").out
    announce = invoke(series, "send", "2024-03-21", "--today", "2024-02-20")
    assert announce.code == 2
    assert "is cancelled" in announce.err
    sent = invoke(series, "send", "2024-03-21", "--kind", "cancellation", "--today", "2024-02-20",
                  server=smtp_server)
    assert sent.code == 0, sent.both
    ics = parts(smtp_server.received[0].message)["text/calendar"].get_content()
    assert "STATUS:CANCELLED" in ics
    vobject.readOne(ics, validate=True)


def test_list_shows_missing_and_sent(series: Path, smtp_server: Server) -> None:
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    every = invoke(series, "list", "--all")
    assert every.code == 0
    for talk_id in ("2024-02-22-mathis", "2024-02-29-sportlov", "2024-04-04-kreis"):
        assert talk_id in every.out
    mathis = next(line for line in every.out.splitlines() if "mathis" in line)
    assert "missing photo" in mathis and "announcement sent" in mathis
    kreis = next(line for line in every.out.splitlines() if "kreis" in line)
    assert "missing title, abstract, bio, photo" in kreis and "16:00 CEST" in kreis
    upcoming = invoke(series, "list", "--today", "2024-03-20", "--json")
    rows = json.loads(upcoming.out)
    assert [r["id"] for r in rows] == ["2024-03-21-gustafsson", "2024-03-28-xu",
                                       "2024-04-04-kreis"]
    assert rows[0]["missing"] == ["title", "abstract", "bio", "photo"]
    assert invoke(series, "list", "--today", "2030-01-01").out.startswith("No upcoming talks")


def test_list_after_an_all_refused_send_says_refused(series: Path, smtp_server: Server) -> None:
    subscribe(series, 3)
    smtp_server.sink.faults.rcpt = lambda address: "550 5.1.1 no such user"
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 1
    mathis = next(line for line in invoke(series, "list", "--all").out.splitlines()
                  if "mathis" in line)
    assert "announcement refused by all 3 recipients" in mathis
    assert "not sent" not in mathis
    rows = json.loads(invoke(series, "list", "--all", "--json").out)
    assert rows[0]["sent"]["announcement"]["refused"] == 3


def test_page_all_writes_date_named_pages(series: Path) -> None:
    out = series / "site"
    result = invoke(series, "page", "--all", "--out", str(out))
    assert result.code == 0, result.both
    assert sorted(p.name for p in out.iterdir()) == [
        ".announce-pages", "2024-02-22.md", "2024-03-14.md", "2024-03-21.md", "2024-03-28.md",
        "2024-04-04.md"]
    assert (out / "2024-02-22.md").read_text(encoding="utf-8") == invoke(series, "page",
                                                                      "2024-02-22").out


def test_program_lists_every_week_of_the_year(series: Path) -> None:
    write(series / "seminars" / "2025-01-16-next.yaml", "date: 2025-01-16\nspeaker: Next Year\n")
    result = invoke(series, "program", "2024")
    assert result.code == 0, result.both
    assert result.out.startswith("---\nlayout: default\n")
    for day in ("2024-02-22", "2024-02-29", "2024-03-07", "2024-03-14", "2024-03-21",
                "2024-03-28", "2024-04-04"):
        assert f"| {day}" in result.out
    assert "*Cancelled*: Sportlov" in result.out
    assert "| 2024-03-07 15:00 | **Open**: Up for grabs | |" in result.out
    assert "[Alexander Mathis, EPFL](2024-02-22.html)" in result.out
    assert "Next Year" not in result.out
    assert "Next Year" in invoke(series, "program").out


def test_a_tentative_talk_is_tba_everywhere_public_until_confirmed(series: Path) -> None:
    path = series / "seminars" / "2024-03-21-gustafsson.yaml"
    edit(path, ("affiliation: Karolinska Institutet", "affiliation: Karolinska Institutet\n"
                                                       "title: Maybe\nstatus: tentative"))
    refused = invoke(series, "page", "2024-03-21")
    assert refused.code == 2
    assert "2024-03-21-gustafsson is tentative: it gets a public page once" in refused.err
    assert "* 2024-03-21, 15:00: TBA\n" in invoke(series, "page", "2024-02-22").out
    out = series / "site"
    assert invoke(series, "page", "--all", "--out", str(out)).code == 0
    assert not (out / "2024-03-21.md").exists()
    programme = invoke(series, "program", "2024").out
    assert "| 2024-03-21 15:00 | TBA (tentative) | S-T-~~A~~-~~B~~-~~P~~ |" in programme
    assert "Gustafsson" not in programme
    feed = events_by_uid(invoke(series, "ics").out)
    event = next(e for u, e in feed.items() if u.startswith("2024-03-21"))
    assert event.status.value == "TENTATIVE"
    assert event.summary.value == "Learning Machines: TBA"
    assert "Gustafsson" not in invoke(series, "ics").out
    listed = next(line for line in invoke(series, "list", "--all").out.splitlines()
                  if "gustafsson" in line)
    assert "Fredrik Gustafsson" in listed and "tentative" in listed
    edit(path, ("status: tentative", "status: confirmed"))
    assert "Fredrik Gustafsson" in invoke(series, "page", "2024-03-21").out


def test_sequence_follows_what_went_out_not_the_clock(series: Path, smtp_server: Server) -> None:
    # The first version goes out with the clock set late, the second with it set early:
    # the feed must still say the second is the newer one, as its mail did.
    first = invoke(series, "send", "2024-02-22", "--now", "2024-02-19T08:00",
                   server=smtp_server)
    assert first.code == 0, first.both
    edit(series / "seminars" / "2024-02-22-mathis.yaml", ('time: "15:00"', 'time: "16:15"'))
    second = invoke(series, "send", "2024-02-22", "--force", "--now", "2024-02-17T08:00",
                    server=smtp_server)
    assert second.code == 0, second.both
    mailed = parts(smtp_server.received[-1].message)["text/calendar"].get_content()
    assert "SEQUENCE:1" in mailed
    uid = next(u for u in events_by_uid(mailed) if u.startswith("2024-02-22-mathis"))
    assert int(events_by_uid(invoke(series, "ics").out)[uid].sequence.value) == 1


def test_a_version_1_ledger_is_numbered_by_its_clock_once(series: Path,
                                                          smtp_server: Server) -> None:
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    ledger = series / ".state" / "ledger.sqlite3"
    with sqlite3.connect(ledger) as db:  # as announce 0.1 left it
        db.executescript("CREATE TABLE old AS SELECT seminar, digest, first_sent FROM events;"
                         "DROP TABLE events; CREATE TABLE events (seminar TEXT NOT NULL, "
                         "digest TEXT NOT NULL, first_sent TEXT NOT NULL, PRIMARY KEY (seminar,"
                         " digest)) WITHOUT ROWID; INSERT INTO events SELECT * FROM old;"
                         "DROP TABLE old; PRAGMA user_version = 1;")
    edit(series / "seminars" / "2024-02-22-mathis.yaml", ('time: "15:00"', 'time: "16:15"'))
    assert invoke(series, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    mailed = parts(smtp_server.received[-1].message)["text/calendar"].get_content()
    assert "SEQUENCE:1" in mailed
    with sqlite3.connect(ledger) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LEDGER_VERSION
        assert [n for (n,) in db.execute("SELECT n FROM events ORDER BY n")] == [1, 2]


def test_list_columns_hold_with_wide_characters(series: Path) -> None:
    write(series / "seminars" / "2024-03-01-li.yaml",
          "date: 2024-03-01\nspeaker: 李小龙\naffiliation: 北京大学\ntitle: T\n")
    lines = invoke(series, "list", "--all").out.splitlines()
    ours = next(line for line in lines if line.startswith("2024-03-01-li"))
    other = next(line for line in lines if line.startswith("2024-02-22-mathis"))
    before_state = ours[: ours.index("missing")]  # the state column, in terminal columns
    width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in before_state)
    assert width == other.index("missing")


def test_program_without_a_year_and_in_utc_reads_naturally(series: Path) -> None:
    edit(series / "seminars" / "series.yaml", ("timezone: Europe/Stockholm", "timezone: Etc/UTC"))
    page = invoke(series, "program").out
    assert "# Learning Machines seminars\n" in page
    assert "All times are UTC." in page
