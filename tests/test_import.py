"""``announce import``: a series' archive of pages and spreadsheets into records, every word kept.

``tests/archive/`` holds six real pages of the Learning Machines series as published, with
their real faults: no front matter, a flash-talk list, three speakers, a stub, a broken link,
a collaboration line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from htmlcheck import in_order, words
from runners import invoke
from seriesfiles import TESTS, write

from mailer.importing.when import parse_day as sheet_date
from mailer.series.store import Store

ARCHIVE = TESTS / "archive"
SECTION = re.compile(r"^\*\*([^*]+):\*\*", re.MULTILINE)


def sections(page: str) -> dict[str, str]:
    """The page's bold-label sections, read naively: label -> the text up to the next label."""
    found = list(SECTION.finditer(page))
    return {m.group(1): page[m.end(): found[i + 1].start() if i + 1 < len(found) else None]
            for i, m in enumerate(found)}


def test_real_pages_become_records_with_every_word(fresh: Path) -> None:
    result = invoke(fresh, "import", *map(str, sorted(ARCHIVE.glob("*.md"))))
    assert result.code == 0, result.both
    assert "imported 6 talk(s):" in result.out
    store = Store(fresh)
    talks = {talk.date.isoformat(): talk for talk in store.talks()}
    assert len(talks) == 6
    for path in ARCHIVE.glob("*.md"):
        talk = talks[path.stem]
        page = sections(path.read_text(encoding="utf-8").replace("&#x27;", "'"))
        for label, value in (("Title", talk.title), ("Abstract", talk.abstract),
                             ("About the speaker", talk.bio)):
            expected = [w for w in words(page[label]) if w not in ("N", "A")]
            assert in_order(expected, value or ""), (path.name, label)
        said = set(words(page.get("Speaker", page.get("Speakers", "")))) - {"and"}
        assert said <= set(words(" ".join(s.line() for s in talk.speakers))), path.name
    assert invoke(fresh, "check").code == 0


def test_speakers_notes_links_and_reports(fresh: Path) -> None:
    result = invoke(fresh, "import", *map(str, sorted(ARCHIVE.glob("*.md"))))
    talks = {talk.date.isoformat(): talk for talk in Store(fresh).talks()}
    assert [s.line() for s in talks["2022-05-19"].speakers] == [
        "Marcus Liwicki, Luleå University of Technology",
        "Frederik Sandin, Luleå University of Technology",
        "Karl Ekström, Luleå University of Technology"]
    assert talks["2024-02-22"].speaker_line() == "Alexander Mathis, EPFL"
    assert talks["2024-10-03"].bio is None  # "N/A"
    assert talks["2024-10-03"].video_link == (
        "https://rise.zoom.us/j/69691371971?pwd=DskXgEH3oeY2mr90ba4PNJStbmwXFq.1")
    assert "Make sure that you arrive in good time." in (talks["2024-10-03"].note or "")
    assert talks["2025-01-30"].video_link is None  # [N/A](N/A)
    assert "collaboration between RISE and Climate AI Nordics" in (talks["2025-01-30"].note or "")
    assert "Rickard Brännvall" in talks["2021-03-25"].speaker_line()
    for expected in ("2021-03-25.md:9: the speaker line is kept as one name",
                     "2025-01-30.md:22: the call link '[N/A](N/A)' is not a URL",
                     "2025-01-30.md:8: text outside the known sections is carried into note"):
        assert expected in result.out, expected


def test_importing_twice_changes_nothing(fresh: Path) -> None:
    pages = list(map(str, sorted(ARCHIVE.glob("*.md"))))
    assert invoke(fresh, "import", *pages).code == 0
    before = {p: p.read_bytes() for p in (fresh / "seminars").iterdir()}
    again = invoke(fresh, "import", *pages)
    assert again.code == 0, again.both
    assert "imported 0 talk(s); nothing was written" in again.out
    assert again.out.count("left alone") == 6
    assert {p: p.read_bytes() for p in (fresh / "seminars").iterdir()} == before


def test_a_page_written_to_trip_the_importer(fresh: Path) -> None:
    page = write(fresh / "in" / "talk.md", (
        "**Title:** Tokens &amp; <eos>: x<y\n\n"
        "**Speakers:** Ann Ek, KTH; Bo Ly, Stockholm University\n\n"
        "**Abstract:** We predict <mask> with `a<b>` and it&#x27;s fine.\n\n"
        "![figure](figure.png) and [slides](slides.pdf)\n\n"
        "**Keywords:** tokens, masks\n\n"
        "**About the speakers:** Both are *researchers*.\n\n"
        "**Date:** 2026-12-10 16:30\n"))
    result = invoke(fresh, "import", str(page))
    assert result.code == 0, result.both
    talk = Store(fresh).find("2026-12-10")
    assert talk.title == "Tokens & <eos>: x<y"
    assert [s.line() for s in talk.speakers] == ["Ann Ek, KTH", "Bo Ly, Stockholm University"]
    assert talk.abstract is not None
    assert talk.abstract.startswith("We predict <mask> with `a<b>` and it's fine.")
    assert "**Keywords:** tokens, masks" in talk.abstract  # an unknown label stays in place
    assert talk.time is not None and talk.time.isoformat() == "16:30:00"
    assert "[figure](figure.png) and [slides](slides.pdf)" in talk.abstract  # an image: a link
    assert "an image (figure.png) is kept as a link to the image" in result.out
    assert "a link that is not a URL is kept as written: [slides](slides.pdf)" in result.out
    assert invoke(fresh, "check").code == 0


CSV = ('\ufeffDate;Speaker;Affiliation;Title;Abstract;Host\n'
       '2026-12-10;Jonas Åström;"KTH, Stockholm";"Tokens; and <eos>";"Line one,\n'
       'line two with ""quotes""";Anna\n'
       '\n'
       '2026-12-17;Пётр Чайковский;;;;\n')


def test_a_spreadsheet_imports_exactly(fresh: Path) -> None:
    sheet = write(fresh / "plan.csv", CSV)
    result = invoke(fresh, "import", str(sheet))
    assert result.code == 0, result.both
    assert "plan.csv:1: columns not carried over: Host" in result.out
    store = Store(fresh)
    first = store.find("2026-12-10")
    assert first.speaker_line() == "Jonas Åström, KTH, Stockholm"
    assert first.title == "Tokens; and <eos>"
    assert first.abstract == 'Line one,\nline two with "quotes"'
    second = store.find("2026-12-17-petr-chaykovskiy")
    assert second.speaker_line() == "Пётр Чайковский"
    assert second.title is None
    assert invoke(fresh, "check").code == 0


def test_a_bad_row_stops_everything_naming_its_line(fresh: Path) -> None:
    sheet = write(fresh / "plan.csv", "date,speaker\n2026-12-10,Ada\n2026-02-30,Bob\n")
    result = invoke(fresh, "import", str(ARCHIVE / "2024-02-22.md"), str(sheet))
    assert result.code == 2
    assert "plan.csv:3: date: '2026-02-30' is not a date" in result.err
    assert sorted(p.name for p in (fresh / "seminars").iterdir()) == ["series.yaml"]


@pytest.mark.parametrize(("name", "text", "says"), [
    ("plan.csv", "when,who\n2026-12-10,Ada\n", "plan.csv:1: the header needs a date and a "
                                               "speaker column"),
    ("plan.csv", "date,speaker,titel\n", 'column "titel": did you mean "title"?'),
    ("plan.csv", "date,speaker,time\n2026-12-10,Ada,teatime\n",
     "plan.csv:2: time: 'teatime' is not a time of day (understood: 15:00, 15.00, 3 PM"),
    ("plan.csv", "date,speaker,video_link\n2026-12-10,Ada,zoom\n",
     "plan.csv:2: video_link: \"zoom\" is not a web address"),
    ("notes.md", "**Title:** No date anywhere\n", "notes.md:1: no date"),
    ("plan.xlsx", "", "plan.xlsx: not a talk page"),
])
def test_broken_input_is_refused_with_nothing_written(fresh: Path, name: str, text: str,
                                                      says: str) -> None:
    path = write(fresh / name, text)
    result = invoke(fresh, "import", str(path))
    assert result.code == 2, result.both
    assert says in result.err
    assert sorted(p.name for p in (fresh / "seminars").iterdir()) == ["series.yaml"]


def test_import_outside_a_series_writes_nothing(tmp_path: Path) -> None:
    result = invoke(tmp_path, "import", str(ARCHIVE / "2024-02-22.md"))
    assert result.code == 2
    assert "no such file; import into a series folder" in result.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("written", "day"), [
    ("2024-02-22", "2024-02-22"), ("22/02/2024", "2024-02-22"), ("2/22/2024", "2024-02-22"),
    ("22.02.2024", "2024-02-22"), ("01.02.2024", "2024-02-01"),
])
def test_spreadsheet_dates_as_sheets_export_them(written: str, day: str) -> None:
    assert sheet_date(written).isoformat() == day


def test_every_bad_row_is_reported_at_once_and_ambiguity_names_both(series: Path) -> None:
    sheet = write(series.parent / "plan.csv",
                  "date,speaker\n01/02/2026,Ada\n2026-12-10,Bob\n31/31/2026,Cy\n2026-13-01,Di\n")
    result = invoke(series, "import", str(sheet))
    assert result.code == 2
    assert ("plan.csv:2: date: '01/02/2026' is not a date (could be 01 February 2026 or "
            "02 January 2026; write it as YYYY-MM-DD)") in result.err
    assert "plan.csv:4: date: '31/31/2026'" in result.err and "plan.csv:5: date:" in result.err
    assert "isoformat" not in result.err
    assert not list((series / "seminars").glob("2026-12-10-*"))  # all or nothing


def test_two_speakers_joined_by_and_in_a_sheet(series: Path) -> None:
    sheet = write(series.parent / "plan.csv",
                  "date,speaker\n2026-12-10,Erik Ylipää and Joakim Nivre\n")
    assert invoke(series, "import", str(sheet)).code == 0
    (record,) = (series / "seminars").glob("2026-12-10-*.yaml")
    text = record.read_text(encoding="utf-8")
    assert "Erik Ylipää" in text and "Joakim Nivre" in text and "speakers:" in text


def test_a_cp1252_sheet_names_the_line_and_says_how_to_save_it(series: Path) -> None:
    sheet = series.parent / "plan.csv"
    sheet.write_bytes("date,speaker\n2026-12-10,Jonas Åström\n".encode("cp1252"))
    result = invoke(series, "import", str(sheet))
    assert result.code == 2
    assert "plan.csv:2: not UTF-8 text" in result.err and "CSV UTF-8" in result.err


def test_page_heuristics_a_real_archive_needs(fresh: Path) -> None:
    """A trailing comma, an acronym before the affiliation, a label missing a star, an <img>."""
    pages = {
        "2019-05-02.md": "**Speaker:** Ann Ek, KTH Royal Institute of Technology, \n\n"
                         "**Title:** One\n",
        "2019-05-09.md": "**Speaker:** Andrew Jesson, OATML, Oxford Applied and Theoretical "
                         "Machine Learning Group\n\n**Title:** Two\n",
        "2019-05-16.md": "**Speaker:** Bo Ly, Cai Wu, Lund University\n\n**Title:** Three\n\n"
                         "**Abstract:** See <img src=\"figure.png\" alt=\"the figure\"> here.\n\n"
                         "**Upcoming seminars:*\n\n* 2019-05-23, 15:00: Someone, Somewhere\n",
    }
    paths = [str(write(fresh / "in" / name, text)) for name, text in pages.items()]
    result = invoke(fresh, "import", *paths)
    assert result.code == 0, result.both
    store = Store(fresh)
    assert [s.line() for s in store.find("2019-05-02").speakers] == [
        "Ann Ek, KTH Royal Institute of Technology"]
    assert [s.line() for s in store.find("2019-05-09").speakers] == [
        "Andrew Jesson, OATML, Oxford Applied and Theoretical Machine Learning Group"]
    third = store.find("2019-05-16")
    # No "and": one speaker, cut at the first comma; the other reading makes it a guess.
    assert [s.line() for s in third.speakers] == ["Bo Ly, Cai Wu, Lund University"]
    assert "2019-05-16.md:1: the speaker line is read as Bo Ly, Cai Wu, Lund University; a " \
           "guess" in result.out
    assert third.abstract == "See [the figure](figure.png) here."
    assert "2019-05-16.md:5: an <img> tag (figure.png) is kept as a link" in result.out
    assert third.note is None  # the upcoming list is made anew, not carried as a note
    assert "2019-05-02.md" not in result.out and "2019-05-09.md" not in result.out
