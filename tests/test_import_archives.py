"""``announce import`` of other seminars' archives: front matter, data files, TSV, dates and
times as people write them, photos, guesses that ``check`` warns about, the migration report.

The archives in ``tests/archive/`` are small and written in the styles real ones use: a Jekyll
collection of talk pages with front matter (``collection/``), a Jekyll ``_data`` list of a
term's talks, a ``talks.json``, a TSV plan, and one of the series' own 2026 pages with its
faults (a call link after the footer, text between the date and the upcoming list, an image
tag, a comma inside the affiliation, the speaker's photo beside the page).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from htmlcheck import words
from runners import invoke
from seriesfiles import TESTS, write

from mailer.importing.draft import GUESS_MARK
from mailer.series.model import Status
from mailer.series.store import Store

ARCHIVE = TESTS / "archive"
COLLECTION = sorted((ARCHIVE / "collection").glob("*.md"))
OWN_2026 = ARCHIVE / "lm2026" / "2026-04-23.md"
MARKUP = {"img", "src", "alt", "name", "url"}  # an <img>'s and a link list's own words


def zone(root: Path, name: str) -> Path:
    """Set the series' time zone."""
    series = root / "seminars" / "series.yaml"
    text = re.sub(r"(?m)^timezone: .*$", f"timezone: {name}", series.read_text(encoding="utf-8"))
    series.write_text(text, encoding="utf-8")
    return root


def test_front_matter_maps_to_the_record(fresh: Path) -> None:
    zone(fresh, "America/New_York")
    result = invoke(fresh, "import", *map(str, COLLECTION))
    assert result.code == 0, result.both
    store = Store(fresh)
    jane = store.find("2024-09-13")
    assert jane.speaker_line() == "Jane Q. Doe, Massachusetts Institute of Technology"
    assert jane.title == "Learning to Rank, Fairly"
    assert jane.time is not None and jane.time.isoformat() == "13:00:00"
    assert jane.location == "Room 32-G449 (Kiva)"
    assert jane.abstract is not None and jane.abstract.startswith("Ranking systems decide")
    assert jane.bio is not None and jane.bio.startswith("Jane Q. Doe is an assistant")
    assert "[Poster of the talk](/talks/2024-09-13-poster.jpg)" in jane.bio  # <img>: a link
    note = jane.note or ""
    for kept in ("registration: https://example.org/register/fair-ranking",
                 "flyer: /assets/flyers/2024-09-13.pdf",
                 "[Paper](https://example.org/papers/fair-ranking.pdf)",
                 "tags: fairness, ranking"):
        assert kept in note, kept
    assert "front matter registration: has no place in a record; carried into note" in result.out
    assert "ET read as the series' own time (America/New_York)" in result.out
    assert jane.photo == "photos/2024-09-13-jane-q-doe.png"  # image: beside the page, copied
    assert (fresh / jane.photo).read_bytes() == (
        ARCHIVE / "collection" / "2024-09-13-jane-doe.png").read_bytes()
    ariel = store.find("2024-10-04")
    assert ariel.speaker_line() == "Ariel Flint Ashery, City St George’s, University of London"
    assert ariel.time is not None and ariel.time.isoformat() == "11:45:00"
    assert ariel.location == "Seminar room B"
    assert ariel.video_link == "https://example.zoom.us/j/123456789"
    assert ariel.slides == "https://example.org/slides/norms.pdf"
    assert ariel.recording == "https://www.youtube.com/watch?v=abc123"
    assert ariel.abstract == "Populations of language models agree on conventions nobody told them."
    assert ariel.bio is not None and "[Ariel at the whiteboard](ariel-whiteboard.jpg)" in ariel.bio
    assert ariel.photo is None  # its image is not in the archive
    assert invoke(fresh, "check").code == 0


def test_a_zone_of_another_place_is_converted_and_an_ambiguous_one_refused(fresh: Path) -> None:
    zone(fresh, "Europe/Stockholm")
    result = invoke(fresh, "import", str(COLLECTION[0]))
    assert result.code == 0, result.both
    assert "13:00 ET (America/New_York) is 19:00 in the series' zone (Europe/Stockholm)" in \
        result.out
    talk = Store(fresh).find("2024-09-13")
    assert talk.time is not None and talk.time.isoformat() == "19:00:00"
    page = write(fresh.parent / "in" / "talk.md", "---\ntitle: T\nspeaker: Ann Ek\n"
                 "date: 2024-11-07\ntime: 3 PM IST\n---\nText.\n")
    refused = invoke(fresh, "import", str(page))
    assert refused.code == 2, refused.both
    assert "talk.md:1: time: the zone 'IST' could be Asia/Kolkata or Europe/Dublin" in refused.err
    assert not list((fresh / "seminars").glob("2024-11-07-*"))


def test_a_guessed_speaker_line_warns_until_the_comment_is_deleted(fresh: Path) -> None:
    assert invoke(fresh, "import", str(COLLECTION[1])).code == 0
    (record,) = (fresh / "seminars").glob("2024-10-04-*.yaml")
    first = record.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(GUESS_MARK)
    assert "City St George’s" in first
    checked = invoke(fresh, "check")
    assert checked.code == 0
    assert "2024-10-04-ariel-flint-ashery.yaml:1: the speakers are a guess of `import`" in \
        checked.err
    record.write_text("\n".join(record.read_text(encoding="utf-8").splitlines()[1:]) + "\n",
                      encoding="utf-8")
    assert "a guess" not in invoke(fresh, "check").err


def test_a_data_file_of_a_term(fresh: Path) -> None:
    result = invoke(fresh, "import", str(ARCHIVE / "_data" / "spring2025.yml"))
    assert result.code == 0, result.both
    talks = {t.date.isoformat(): t for t in Store(fresh).talks()}
    ann = talks["2025-01-24"]
    assert ann.speaker_line() == "Ann Ek, KTH Royal Institute of Technology"
    assert ann.time is not None and ann.time.isoformat() == "11:45:00"
    assert ann.video_link == "https://kth-se.zoom.us/j/123"
    assert ann.abstract == "Message passing on graphs, and where it fails."
    spring_break = talks["2025-03-14"]
    assert spring_break.status == Status.CANCELLED  # not a confirmed TBA talk
    assert spring_break.note == "Spring Break" and not spring_break.speakers
    assert talks["2025-03-30"].status == Status.OPEN  # speaker: TBD
    bo = talks["2025-04-04"]
    assert bo.status == Status.TENTATIVE and bo.speaker_line() == "Bo Ly"
    assert "host: Cai Wu" in (bo.note or "")
    assert "spring2025.yml:2: not a talk, not imported: semester: Spring 2025" in result.out
    assert "spring2025.yml:13: the entry holiday: 'Spring Break': imported as cancelled" in \
        result.out


def test_a_json_list_and_a_tsv(fresh: Path) -> None:
    result = invoke(fresh, "import", str(ARCHIVE / "talks.json"), str(ARCHIVE / "plan.tsv"))
    assert result.code == 0, result.both
    talks = {t.date.isoformat(): t for t in Store(fresh).talks()}
    two = talks["2024-08-30"]
    assert [s.line() for s in two.speakers] == ["Dana Berg, Lund University",
                                                "Eli Ström, Uppsala University"]
    assert two.recording == "https://www.youtube.com/watch?v=xyz789"
    assert two.abstract == "We compare [two views](figs/views.png) side by side."
    assert two.note == "tags: interpretability"
    assert talks["2024-09-06"].status == Status.CANCELLED
    assert talks["2024-09-06"].note == "No seminar (Labour Day)"
    gus = talks["2025-05-08"]
    assert gus.speaker_line() == "Gus Holm, Chalmers" and gus.title == "Tabs, not commas"
    assert gus.time is not None and gus.time.isoformat() == "13:00:00"
    assert talks["2025-05-15"].status == Status.CANCELLED  # "inställt"
    assert talks["2025-05-15"].note == "inställt (Kristi himmelfärd)"


def test_our_own_2026_page_loses_nothing_and_finds_its_photo(fresh: Path) -> None:
    report = fresh.parent / "migration.md"
    result = invoke(fresh, "import", str(OWN_2026), "--report", str(report))
    assert result.code == 0, result.both
    talk = Store(fresh).find("2026-04-23")
    assert talk.speaker_line() == "Ariel Flint Ashery, City St George’s, University of London"
    note = talk.note or ""
    assert "[Register here!](https://example.org/register/2026-04-23)" in note
    assert "knock at the door" in note and "https://maps.example.org/kista" in note
    assert talk.video_link == "https://rise.zoom.us/j/208117140"  # after the footer
    assert talk.photo == "photos/2026-04-23-ariel-flint-ashery.jpg"  # not the thumbnail
    assert (fresh / talk.photo).read_bytes() == (
        ARCHIVE / "lm2026" / "2026-04-23-photo-ariel-flint-ashery.jpg").read_bytes()
    record = next((fresh / "seminars").glob("2026-04-23-*.yaml")).read_text(encoding="utf-8")
    assert "<img" not in record
    text = report.read_text(encoding="utf-8")
    assert "## 2026-04-23 · seminars/2026-04-23-ariel-flint-ashery.yaml" in text
    assert "Welcome to this week's Learning Machines seminar." in text  # left out, said so
    assert "* 2026-04-30, 15:00: Someone Else, Somewhere" in text
    assert "title: from **Title:**" in text


@pytest.mark.parametrize("page", [*COLLECTION, OWN_2026, *sorted(ARCHIVE.glob("*.md"))],
                         ids=lambda p: p.name)
def test_every_word_of_a_page_is_in_its_record_or_the_report(fresh: Path, page: Path) -> None:
    report = fresh.parent / "report.md"
    result = invoke(fresh, "import", str(page), "--report", str(report))
    assert result.code == 0, result.both
    (record,) = (fresh / "seminars").glob("20*.yaml")
    kept = set(words(record.read_text(encoding="utf-8") + report.read_text(encoding="utf-8")
                     + result.out))
    lost = [w for w in words(page.read_text(encoding="utf-8").replace("&#x27;", "'"))
            if w not in kept and not w.isdigit() and w not in MARKUP]
    assert lost == [], (page.name, lost)


@pytest.mark.parametrize(("entry", "says"), [
    ("date: Aug 30\n  speaker: Ann", "talks.yml:1: date: Aug 30 is not a day of the calendar "
                                     "(understood: 2024-08-30"),
    ("date: 03/04/2024\n  speaker: Ann", "could be 03 April 2024 or 04 March 2024"),
    ("date: Thursday, August 30, 2024\n  speaker: Ann", "30 August 2024 is a Friday"),
    ("date: 2024-08-30\n  time: teatime", "talks.yml:2: time: teatime is not a time of day"),
    ("speaker: Ann", "talks.yml:1: a talk without a date"),
])
def test_a_bad_entry_is_refused_naming_file_line_and_forms(fresh: Path, entry: str,
                                                           says: str) -> None:
    data = write(fresh.parent / "talks.yml", f"- {entry}\n")
    report = fresh.parent / "report.md"
    result = invoke(fresh, "import", str(data), "--report", str(report))
    assert result.code == 2, result.both
    assert says in result.err
    assert "Traceback" not in result.both
    assert sorted(p.name for p in (fresh / "seminars").iterdir()) == ["series.yaml"]
    assert not report.exists()


@pytest.mark.parametrize(("text", "says"), [
    ("talks: 3\n", "talks.yml:1: not a list of talks"),
    ("- date: [2024\n", "talks.yml:2: not readable as YAML"),
    ("- &a {date: 2024-08-30}\n- *a\n", "aliases and tags are not read here"),
])
def test_a_data_file_that_is_not_a_list_of_talks(fresh: Path, text: str, says: str) -> None:
    result = invoke(fresh, "import", str(write(fresh.parent / "talks.yml", text)))
    assert result.code == 2, result.both
    assert says in result.err


def test_a_json_file_that_is_not_json_names_its_line(fresh: Path) -> None:
    data = write(fresh.parent / "talks.json", '[\n  {"date": "2024-08-30",}\n]\n')
    result = invoke(fresh, "import", str(data))
    assert result.code == 2
    assert "talks.json:2: not readable as JSON" in result.err


def test_speaker_mappings_keep_their_bio_photo_and_the_rest(fresh: Path) -> None:
    data = write(fresh.parent / "talks.yml", (
        "- date: 2025-02-06\n  title: Two of us\n  speakers:\n"
        "    - name: Ann Ek\n      affiliation: KTH\n      bio: Ann works on graphs.\n"
        "      website: https://ann.example.org\n"
        "    - name: Bo Ly\n      image: bo.jpg\n"))
    result = invoke(fresh, "import", str(data))
    assert result.code == 0, result.both
    talk = Store(fresh).find("2025-02-06")
    assert [s.line() for s in talk.speakers] == ["Ann Ek, KTH", "Bo Ly"]
    assert talk.bio == "Ann works on graphs."
    assert talk.note == "Ann Ek, website: https://ann.example.org"
    assert "talks.yml:3: the entry speaker Ann Ek: website: carried into note" in result.out
    assert "the photo 'bo.jpg' is not in the archive folder" in result.out


def test_a_call_link_in_the_upcoming_list_or_after_the_footer_is_kept(fresh: Path) -> None:
    page = write(fresh.parent / "in" / "2026-05-07.md", (
        "**Title:** Late link\n\n**Speaker:** Ann Ek, KTH\n\n**Date:** 2026-05-07 15:00\n\n"
        "**Upcoming seminars:**\n\n* 2026-05-14: Bo Ly, SU\n\n"
        "Join on Zoom: https://rise.zoom.us/j/555\n\n-- The Learning Machines Team\n"))
    result = invoke(fresh, "import", str(page))
    assert result.code == 0, result.both
    talk = Store(fresh).find("2026-05-07")
    assert talk.video_link == "https://rise.zoom.us/j/555"
    assert talk.note == "Join on Zoom: https://rise.zoom.us/j/555"
    assert "2026-05-07.md:11: text in the upcoming seminars is carried into note" in result.out
