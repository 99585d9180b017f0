"""The line-aware YAML reader: text as written, every problem with its line, bombs refused."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path

import pytest
from seriesfiles import write

from mailer.errors import InputError
from mailer.series.yamlfile import MAX_DEPTH, parse_clock, parse_date, read_record


def record_of(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    return read_record(write(tmp_path / "r.yaml", text), "a test record")


def test_text_stays_as_written(tmp_path: Path) -> None:
    record = record_of(tmp_path, "a: no\nb: 1.0\nc: 16:00\nd: 0x1F\ne: ~\nf: '~'\ng: |\n  x\n\n")
    assert [record.text(k) for k in "abcd"] == ["no", "1.0", "16:00", "0x1F"]
    assert record.text("e") is None
    assert record.text("f") == "~"
    assert record.text("g") == "x"


def test_every_key_knows_its_line(tmp_path: Path) -> None:
    record = record_of(tmp_path, "# comment\na: 1\n\nb:\n  - x\n")
    assert record.lines == {"a": 2, "b": 4}
    record.report("b", "is wrong")
    assert record.problems == [f"{record.where}:4: b: is wrong"]


def test_problems_are_collected_then_raised_together(tmp_path: Path) -> None:
    record = record_of(tmp_path, "n: many\nt: 25:00\nu: ftp://x\nx: 1\nx: 2\n")
    assert record.integer("n", 4, 0, 10) == 4
    assert record.clock("t") is None
    assert record.url("u") is None
    with pytest.raises(InputError) as caught:
        record.finish()
    lines = str(caught.value).splitlines()
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in lines] == ["5", "1", "2", "3"]
    assert lines[0].endswith("x: given twice")


def test_aliases_and_deep_nesting_are_refused_before_building(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"r.yaml:2: YAML aliases \(\*a\) are not allowed"):
        record_of(tmp_path, "a: &a [1]\nb: *a\n")
    deep = "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    with pytest.raises(InputError, match="nested deeper than"):
        record_of(tmp_path, deep)


@pytest.mark.parametrize(("content", "says"), [
    (b"", "r.yaml:1: the file is empty"),
    (b"a: 1\nb: \xff\n", "r.yaml:2: not UTF-8 text"),
    (b"- 1\n", "r.yaml:1: expected a test record (a mapping of keys), found a list"),
])
def test_unreadable_files(tmp_path: Path, content: bytes, says: str) -> None:
    (tmp_path / "r.yaml").write_bytes(content)
    with pytest.raises(InputError, match=re.escape(says)):
        read_record(tmp_path / "r.yaml", "a test record")


def test_a_folder_or_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").mkdir()
    with pytest.raises(InputError, match=r"d\.yaml: is a folder"):
        read_record(tmp_path / "d.yaml", "a test record")
    with pytest.raises(InputError, match=r"nope\.yaml: no such file"):
        read_record(tmp_path / "nope.yaml", "a test record")


@pytest.mark.parametrize(("raw", "expected"), [
    ("15:00", time(15, 0)), ("9:05", time(9, 5)), (" 23:59 ", time(23, 59)),
    ("24:00", None), ("12:60", None), ("1500", None), ("12:5", None), ("١٢:٠٠", None)])
def test_clock(raw: str, expected: time | None) -> None:
    assert parse_clock(raw) == expected


@pytest.mark.parametrize(("raw", "expected", "why"), [
    ("2024-02-22", date(2024, 2, 22), None),
    ("2024-02-30", None, "is not a valid date"),
    ("22/02/2024", None, "is not a date (YYYY-MM-DD)"),
    ("２０２４-02-22", None, "is not a date (YYYY-MM-DD)"),
])
def test_date(raw: str, expected: date | None, why: str | None) -> None:
    problems: list[str] = []
    assert parse_date(raw, problems.append) == expected
    if why is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert why in problems[0]
