"""Rendering: the golden page, the time-zone note, TBA, several speakers, text and HTML parts.

Golden files: ``tests/golden/`` holds the text and HTML parts of the bundled example.
Refresh them after a deliberate wording change with ``UPDATE_GOLDEN=1 make test``, then
read the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from runners import invoke
from seriesfiles import GOLDEN, REPO, write

from mailer.render.templates import PACKAGE_TEMPLATES

SERIES = """\
name: Deep Thoughts
team: The Deep Thoughts Team
timezone: Europe/Stockholm
default_time: "15:00"
video_link: https://example.org/call?id=1&pwd=x
video_label: Call link
upcoming_count: 3
mail:
  from: Seminars <seminars@example.org>
  to: list@example.org
"""


def split_page(text: str) -> tuple[object, str]:
    """Return (front matter as data, body) of a Jekyll page."""
    assert text.startswith("---\n")
    front, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(front), body


def test_seed_talk_page_equals_golden(series: Path) -> None:
    result = invoke(series, "page", "2024-02-22")
    assert result.code == 0, result.err
    golden = (GOLDEN / "2024-02-22-mathis.page.md").read_text(encoding="utf-8")
    got_front, got_body = split_page(result.out)
    want_front, want_body = split_page(golden)
    assert got_front == want_front
    assert got_body == want_body
    assert "highly time consuming" in result.out
    assert "event_time" not in result.out


def test_page_by_id_and_to_file(series: Path) -> None:
    out = series / "site" / "talk.md"
    assert invoke(series, "page", "2024-02-22-mathis", "--out", str(out)).code == 0
    assert out.read_text(encoding="utf-8") == invoke(series, "page", "2024-02-22").out


def make(root: Path, talks: dict[str, str], series: str = SERIES) -> Path:
    write(root / "seminars" / "series.yaml", series)
    for name, text in talks.items():
        write(root / "seminars" / f"{name}.yaml", text)
    return root


def test_all_times_in_summer_time_when_every_time_shares_it(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "2024-04-04-a": "date: 2024-04-04\nspeaker: A\ntitle: T\n",
        "2024-04-11-b": "date: 2024-04-11\nspeaker: B\n",
        "2024-04-18-c": "date: 2024-04-18\ntime: 16:30\nspeaker: C\n",
    })
    page = invoke(root, "page", "2024-04-04").out
    assert "* 2024-04-11, 15:00: B\n* 2024-04-18, 16:30: C\n" in page
    assert "* All times are in CEST.\n" in page


def test_winter_mark_after_switch_back(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "2024-10-24-a": "date: 2024-10-24\nspeaker: A\n",
        "2024-10-31-b": "date: 2024-10-31\nspeaker: B\n",
    })
    page = invoke(root, "page", "2024-10-24").out
    assert "* 2024-10-31, 15:00 CET: B\n" in page
    assert "All times are in CEST unless marked otherwise." in page


def test_cancelled_skipped_tentative_tba_two_speakers(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "2024-05-02-a": "date: 2024-05-02\nspeakers:\n  - {name: Ann Ek, affiliation: KTH}\n"
                        "  - {name: Bo Ly, affiliation: SU}\ntitle: Two of us\n",
        "2024-05-09-x": "date: 2024-05-09\nstatus: cancelled\nnote: Ascension Day\nspeaker: X\n",
        "2024-05-16-t": "date: 2024-05-16\nstatus: tentative\nspeaker: Maybe Someone\n",
        "2024-05-23-n": "date: 2024-05-23\n",
        "2024-05-30-z": "date: 2024-05-30\nspeaker: Zed\naffiliation: Uni\n",
    })
    page = invoke(root, "page", "2024-05-02").out
    assert "**Speakers:** Ann Ek, KTH; Bo Ly, SU\n" in page
    assert "2024-05-09" not in page
    assert "* 2024-05-16, 15:00: TBA\n* 2024-05-23, 15:00: TBA\n* 2024-05-30, 15:00: Zed, Uni\n"\
        in page
    assert "TBA," not in page
    empty = invoke(root, "page", "2024-05-23").out
    assert "**Title:** TBA\n" in empty
    assert "**Speaker:** TBA\n" in empty
    assert "**Abstract:** TBA\n" in empty
    assert "About the speaker" not in empty
    link = "https://example.org/call?id=1&pwd=x"
    assert f"**Call link:** [{link}]({link})" in empty


def test_no_upcoming_talks_leaves_the_list_out(tmp_path: Path) -> None:
    root = make(tmp_path, {"2024-05-02-a": "date: 2024-05-02\nspeaker: A\n"})
    page = invoke(root, "page", "2024-05-02").out
    assert "Upcoming" not in page
    assert "All times" not in page


def compare_golden(name: str, got: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8"), f"{name} differs (UPDATE_GOLDEN=1 refreshes)"


def test_text_and_html_parts_golden(series: Path, tmp_path: Path) -> None:
    out = tmp_path / "preview"
    result = invoke(series, "preview", "2024-02-22", "--out", str(out))
    assert result.code == 0, result.err
    assert sorted(p.name for p in out.iterdir()) == [
        "event.ics", "message.eml", "message.html", "message.txt"]
    text = (out / "message.txt").read_text(encoding="utf-8")
    compare_golden("2024-02-22-mathis.txt", text)
    compare_golden("2024-02-22-mathis.html", (out / "message.html").read_text(encoding="utf-8"))
    assert "**" not in text
    assert "](" not in text
    assert "highly time consuming" in text


def test_reminder_text_says_today(series: Path, tmp_path: Path) -> None:
    out = tmp_path / "p"
    result = invoke(series, "preview", "2024-04-04", "--kind", "reminder", "--out", str(out))
    assert result.code == 0, result.both
    text = (out / "message.txt").read_text(encoding="utf-8")
    assert text.startswith("Today at 16:00 CEST: the Learning Machines seminar.")


def test_package_templates_are_the_repos() -> None:
    assert PACKAGE_TEMPLATES.resolve() in (REPO / "templates", REPO / "mailer" / "templates")
    assert (PACKAGE_TEMPLATES / "announcement.md.j2").is_file()


def test_series_templates_override_file_by_file(series: Path) -> None:
    write(series / "templates" / "subject.txt.j2", "Custom: {{ seminar.title }}")
    result = invoke(series, "send", "2024-02-22", "--dry-run", "--today", "2024-02-20")
    assert result.code == 0, result.err
    assert "Subject: Custom: Measuring behavior" in result.out
    assert "Welcome to this week's Learning Machines seminar." in result.out


def test_a_misnamed_template_override_is_named(series: Path) -> None:
    write(series / "templates" / "subject.j2", "{{ seminar.title }}\n")
    for command in (["check"], ["template"]):
        result = invoke(series, *command)
        assert result.code == 0
        assert ("warning: templates/subject.j2 is not a template announce uses, so it changes "
                "nothing; did you mean subject.txt.j2?") in result.err


def test_a_template_typo_names_its_line_once_with_what_was_meant(series: Path) -> None:
    write(series / "templates" / "subject.txt.j2", "{#- ours -#}\n{{ seminar.titel }}\n")
    result = invoke(series, "check")
    assert result.code == 2
    assert ("templates/subject.txt.j2:2: seminar.titel: a seminar has no 'titel'; did you "
            "mean seminar.title?") in result.err
    assert result.err.count("titel") == 2  # one line, not one per talk
    assert "mailer." not in result.err
