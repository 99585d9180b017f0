"""How ``import`` reads what people write: dates, times, zones, speaker lines, status words,
headings without a colon, a plan's photo column, a row that is not a talk."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path

import pytest
from runners import invoke
from seriesfiles import TESTS, write

from mailer.importing.entries import status_in
from mailer.importing.speakerlines import parse_speakers
from mailer.importing.when import parse_clock, parse_day, parse_when, settle
from mailer.series.model import Status
from mailer.series.store import Store


@pytest.mark.parametrize(("written", "day"), [
    ("2026-4-6", date(2026, 4, 6)), ("Aug 30 2024", date(2024, 8, 30)),
    ("30 August 2024", date(2024, 8, 30)), ("Friday, August 30, 2024", date(2024, 8, 30)),
    ("Sept. 5, 2024", date(2024, 9, 5)), ("fredag 30 augusti 2024", date(2024, 8, 30)),
    ("30/08/2024", date(2024, 8, 30)), ("2/22/2024", date(2024, 2, 22)),
    ("1st March 2025", date(2025, 3, 1)),
])
def test_days_as_people_write_them(written: str, day: date) -> None:
    assert parse_day(written) == day


@pytest.mark.parametrize(("written", "says"), [
    ("03/04/2024", "could be 03 April 2024 or 04 March 2024"),
    ("Thursday, August 30, 2024", "30 August 2024 is a Friday, not a Thursday"),
    ("Aug 30", "understood: 2024-08-30"), ("Smarch 3 2024", "'Smarch' is not the name of a month"),
    ("2024-02-30", "no such day"),
])
def test_days_refused_with_the_reason_and_the_forms(written: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_day(written)


@pytest.mark.parametrize(("written", "start", "end", "zone"), [
    ("1:00 PM ET", time(13), None, "ET"), ("11:45AM – 12:45PM", time(11, 45), time(12, 45), None),
    ("15.00", time(15), None, None), ("3 pm", time(15), None, None),
    ("1-2pm", time(13), time(14), None), ("11-1pm", time(11), time(13), None),
    ("15:00-16:30 CET", time(15), time(16, 30), "CET"), ("12 AM", time(0), None, None),
    ("kl. 15.00", time(15), None, None),
])
def test_times_as_people_write_them(written: str, start: time, end: time | None,
                                    zone: str | None) -> None:
    clock = parse_clock(written)
    assert (clock.start, clock.end, clock.zone) == (start, end, zone)


@pytest.mark.parametrize("written", ["3", "13:00 PM", "25:00", "teatime", "15:00 and more"])
def test_times_refused(written: str) -> None:
    with pytest.raises(ValueError, match=re.escape("understood: 15:00, 15.00, 3 PM")):
        parse_clock(written)


def test_a_day_and_a_time_in_one_value() -> None:
    assert parse_when("Friday, August 30, 2024, 1:00 PM ET") == (
        date(2024, 8, 30), parse_clock("1:00 PM ET"))
    assert parse_when("2024-02-22 15:00")[1] == parse_clock("15:00")
    assert parse_when("2024-02-22") == (date(2024, 2, 22), None)
    day, clock = parse_when("2024-09-13 13:00:00 -0400")  # Jekyll's own form
    assert (day, clock) == (date(2024, 9, 13), parse_clock("13:00 -0400"))
    assert clock is not None and clock.zone == "-0400"
    assert settle(day, clock.start, "-0400", "America/New_York")[:2] == (day, time(13))
    assert settle(day, clock.start, "-0400", "Europe/Stockholm")[:2] == (day, time(19))


def test_zones_are_settled_against_the_series_and_never_guessed() -> None:
    day = date(2024, 8, 30)
    assert settle(day, time(13), "EST", "America/New_York")[:2] == (day, time(13))
    assert settle(day, time(13), "PT", "America/New_York")[:2] == (day, time(16))
    assert settle(date(2024, 1, 5), time(23), "ET", "Europe/Stockholm")[:2] == (
        date(2024, 1, 6), time(5))
    assert settle(day, time(13), "CST", "America/Chicago")[:2] == (day, time(13))
    for word, says in (("CST", "could be America/Chicago or Asia/Shanghai"),
                       ("XYZ", "is not one announce knows")):
        with pytest.raises(ValueError, match=says):
            settle(day, time(13), word, "Europe/Stockholm")


@pytest.mark.parametrize(("line", "speakers", "guess"), [
    ("Ariel Flint Ashery, City St George’s, University of London",
     ["Ariel Flint Ashery, City St George’s, University of London"], True),
    ("Ann Ek, KTH Royal Institute of Technology, Stockholm",
     ["Ann Ek, KTH Royal Institute of Technology, Stockholm"], False),
    ("Ann Ek and Bo Ly, Lund University", ["Ann Ek, Lund University", "Bo Ly, Lund University"],
     False),
    ("Ann Ek & Bo Ly, Lund University", ["Ann Ek, Lund University", "Bo Ly, Lund University"],
     False),
    ("Ann Ek, Lund University\nBo Ly, Uppsala University",
     ["Ann Ek, Lund University", "Bo Ly, Uppsala University"], False),
    ("Jakob Ambsdorf, University of Copenhagen & Pioneer Centre for AI",
     ["Jakob Ambsdorf, University of Copenhagen & Pioneer Centre for AI"], False),
    ("Ann Ek (KTH)", ["Ann Ek, KTH"], False),
])
def test_speaker_lines(line: str, speakers: list[str], guess: bool) -> None:
    found, doubt = parse_speakers(line)
    assert [s.line() for s in found] == speakers
    assert (doubt is not None) == guess


@pytest.mark.parametrize(("text", "status"), [
    ("Spring Break", Status.CANCELLED), ("No seminar (Easter)", Status.CANCELLED),
    ("Sportlov", Status.CANCELLED), ("Inställt", Status.CANCELLED),
    ("Inget seminarium", Status.CANCELLED), ("Holiday", Status.CANCELLED),
    ("TBD", Status.OPEN), ("*Up for grabs!!!*", Status.OPEN),
    ("Ann Ek (tentative)", Status.TENTATIVE), ("Preliminärt: Bo Ly", Status.TENTATIVE),
    ("Ivan Orlov", None), ("Breaking symmetry", None), ("Ann Ek", None),
])
def test_status_words(text: str, status: Status | None) -> None:
    assert status_in(text) == status


def test_headings_without_a_colon_start_their_sections(fresh: Path) -> None:
    page = write(fresh.parent / "in" / "2025-02-06.md", (
        "**Title:** Headings\n\n**Speaker:** Ann Ek, KTH\n\n"
        "**Abstract**\n\nThe abstract's words.\n\n"
        "### Biography\n\nThe bio's words.\n\n"
        "## Location\n\nRoom 4\n"))
    result = invoke(fresh, "import", str(page))
    assert result.code == 0, result.both
    talk = Store(fresh).find("2025-02-06")
    assert (talk.abstract, talk.bio, talk.location) == (
        "The abstract's words.", "The bio's words.", "Room 4")
    assert talk.note is None


def test_a_plans_photo_column_and_an_uncoloured_holiday(fresh: Path) -> None:
    folder = fresh.parent / "lm"
    write(folder / "2025.md", (
        "| date | speaker | photo | comment |\n| ---- | ---- | ---- | ---- |\n"
        "| 2025-02-06 | [Ann Ek, KTH](2025-02-06.md) | [photo](2025-02-06-photo-ann-ek.jpg) "
        "| STABP |\n"
        "| 2025-02-13 | Sportlov | | |\n"))
    (folder / "2025-02-06-photo-ann-ek.jpg").write_bytes(
        (TESTS / "archive" / "lm2026" / "2026-04-23-photo-ariel-flint-ashery.jpg").read_bytes())
    result = invoke(fresh, "import", str(folder / "2025.md"))
    assert result.code == 0, result.both
    store = Store(fresh)
    assert store.find("2025-02-06").photo == "photos/2025-02-06-ann-ek.jpg"
    free = store.find("2025-02-13")
    assert free.status == Status.CANCELLED and free.note == "Sportlov"
    assert "2025.md:4: the speaker cell 'Sportlov' is read as cancelled" in result.out


def test_a_csv_row_with_only_a_date_is_an_open_week(fresh: Path) -> None:
    sheet = write(fresh.parent / "plan.csv", "date,speaker\n2025-02-06,\n2025-02-13,Ann Ek\n")
    result = invoke(fresh, "import", str(sheet))
    assert result.code == 0, result.both
    assert Store(fresh).find("2025-02-06").status == Status.OPEN
    assert Store(fresh).find("2025-02-13").status == Status.CONFIRMED
