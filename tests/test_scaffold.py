"""``new`` and ``init``: records named in ASCII for any name, a new folder that works at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from runners import invoke
from smtpserver import Server

from mailer.render.templates import PACKAGE_TEMPLATES


def test_new_then_check(series: Path) -> None:
    made = invoke(series, "new", "2024-04-11", "--speaker", "Jonas Åström",
                  "--affiliation", "KTH: Royal Institute", "--title", "Yes: no")
    assert made.code == 0, made.both
    assert (series / "seminars" / "2024-04-11-jonas-astrom.yaml").is_file()
    assert invoke(series, "check").code == 0
    page = invoke(series, "page", "2024-04-11").out
    assert "**Speaker:** Jonas Åström, KTH: Royal Institute" in page
    assert "**Title:** Yes: no" in page
    again = invoke(series, "new", "2024-04-11", "--speaker", "Jonas Åström")
    assert again.code == 2
    assert "already exists" in again.err


@pytest.mark.parametrize(("name", "file_name"), [
    ("Пётр Чайковский", "2026-12-10-petr-chaykovskiy.yaml"),
    ("李小龙", "2026-12-10-li-xiao-long.yaml"),
    ("Σωκράτης Παππάς", "2026-12-10-sokratis-pappas.yaml"),
])
def test_new_transliterates_the_file_name_and_keeps_the_name(series: Path, name: str,
                                                            file_name: str) -> None:
    made = invoke(series, "new", "2026-12-10", "--speaker", name)
    assert made.code == 0, made.both
    path = series / "seminars" / file_name
    assert path.name.isascii()
    assert f'speaker: "{name}"' in path.read_text(encoding="utf-8")
    assert f"**Speaker:** {name}\n" in invoke(series, "page", "2026-12-10").out


def test_new_refuses_a_name_with_no_letters(series: Path) -> None:
    result = invoke(series, "new", "2026-12-10", "--speaker", "!!!")
    assert result.code == 2
    assert "gives no usable file name" in result.err


def test_new_outside_a_series_folder_writes_nothing(tmp_path: Path) -> None:
    result = invoke(tmp_path, "new", "2026-12-10", "--speaker", "Ada Lovelace")
    assert result.code == 2
    assert "seminars/series.yaml: no such file" in result.err
    assert list(tmp_path.iterdir()) == []


def test_new_with_a_bad_date_is_a_usage_error(series: Path) -> None:
    result = invoke(series, "new", "2026-13-01", "--speaker", "Ada")
    assert result.code == 2
    assert "'2026-13-01' is not a date (YYYY-MM-DD)" in result.err


def test_init_makes_a_working_folder_without_copying_templates(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    made = invoke(tmp_path, "init", str(folder), "--name", "Journal Club")
    assert made.code == 0, made.both
    assert not (folder / "templates").exists()
    assert ".announce/" in (folder / ".gitignore").read_text(encoding="utf-8").splitlines()
    for args in (["check"], ["list"]):
        result = invoke(folder, *args)
        assert result.code == 0, (args, result.both)
    preview = invoke(folder, "preview")
    assert preview.code == 0, preview.both
    text = (folder / ".state" / "preview").glob("*/message.txt")
    assert next(text).read_text(encoding="utf-8").startswith(
        "Welcome to this week's Journal Club seminar.")
    assert invoke(tmp_path, "init", str(folder)).code == 2


def test_init_default_name_reads_naturally(tmp_path: Path) -> None:
    assert invoke(tmp_path, "init", "s").code == 0
    now = datetime.now(UTC).isoformat(timespec="minutes")  # the series lives in real time
    dry = invoke(tmp_path / "s", "send", "--dry-run", "--now", now)
    assert dry.code == 0, dry.both
    assert "Welcome to this week's Example seminar." in dry.out
    assert "From: Example Seminar <seminar@example.org>" in dry.out


def test_template_prints_a_default_to_copy(series: Path) -> None:
    listed = invoke(series, "template")
    assert "announcement.md.j2" in listed.out and "(package default)" in listed.out
    one = invoke(series, "template", "subject.txt.j2")
    assert one.code == 0
    assert one.out == (PACKAGE_TEMPLATES / "subject.txt.j2").read_text(encoding="utf-8")
    own = series / "templates" / "subject.txt.j2"
    own.parent.mkdir()
    own.write_text("Custom: {{ seminar.title }}", encoding="utf-8")
    assert "subject.txt.j2         templates/subject.txt.j2" in invoke(series, "template").out
    assert "Subject: Custom: Measuring" in invoke(series, "send", "--dry-run", "2024-02-22",
                                                  "--today", "2024-02-20").out
    assert invoke(series, "template", "nope.j2").code == 2


def test_nothing_init_writes_is_mailed_by_cron_over_the_next_weeks(tmp_path: Path,
                                                                   smtp_server: Server) -> None:
    made = invoke(tmp_path, "init", "s", "--timezone", "Europe/Berlin")
    assert made.code == 0, made.both
    assert "timezone: Europe/Berlin" in made.out and "tentative" in made.out
    series = tmp_path / "s"
    assert "timezone: Europe/Berlin" in (series / "seminars" / "series.yaml").read_text()
    start = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    for day in range(31):
        moment = (start + timedelta(days=day)).isoformat(timespec="minutes")
        result = invoke(series, "send", "--due", "--now", moment, server=smtp_server)
        assert result.code == 0, result.both
    assert smtp_server.received == []


def test_init_names_the_zone_it_chose_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    made = invoke(tmp_path, "init", "s", TZ="America/New_York")
    assert made.code == 0 and "timezone: America/New_York, this machine's zone" in made.out
    utc = invoke(tmp_path, "init", "u", TZ="Etc/UTC")
    assert "seminars rarely do: give --timezone ZONE" in utc.out
    bad = invoke(tmp_path, "init", "b", "--timezone", "Mars/Olympus")
    assert bad.code == 2 and "--timezone: 'Mars/Olympus' is not a time zone" in bad.err
    assert not (tmp_path / "b" / "seminars").exists()
