"""Bad input: every error names the file (and line) and the key, exits 2, and shows no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from runners import invoke
from seriesfiles import TALK, edit, write

# (what is broken, file to write, its new text, what the error must say)
BROKEN = [
    ("bad time", TALK, "date: 2024-02-22\ntime: \"25:00\"\nspeaker: A\n",
     f"seminars/{TALK}:2: time: \"25:00\" is not a time of day (HH:MM)"),
    ("unknown key", TALK, "date: 2024-02-22\nspeaker: A\ntitel: Oops\n",
     f"seminars/{TALK}:3: titel: unknown key; did you mean \"title\"?"),
    ("date differs from file name", TALK, "date: 2024-02-23\nspeaker: A\n",
     f"seminars/{TALK}:1: date: 2024-02-23 differs from the date in the file name"),
    ("YAML syntax", TALK, "date: 2024-02-22\nspeaker: [A\ntitle: x\n",
     f"seminars/{TALK}:3: invalid YAML"),
    ("unknown time zone", "series.yaml", None,
     "seminars/series.yaml:5: timezone: \"Europe/Stockholmm\""),
    ("missing series.yaml", "series.yaml", "", "seminars/series.yaml: no such file"),
    ("unknown status", TALK, "date: 2024-02-22\nspeaker: A\nstatus: postponed\n",
     f"seminars/{TALK}:3: status: \"postponed\" is not one of confirmed, tentative, cancelled"),
    ("record is not a mapping", TALK, "- date: 2024-02-22\n- speaker: A\n",
     f"seminars/{TALK}:1: expected a talk record (a mapping of keys), found a list"),
    ("From is not an address", "series.yaml", None, "seminars/series.yaml:19: mail.from:"),
    ("impossible date", TALK, "date: 2024-02-30\nspeaker: A\n",
     f"seminars/{TALK}:1: date: \"2024-02-30\" is not a valid date"),
    ("speaker given twice", TALK, "date: 2024-02-22\nspeakers:\n  - name: A\n    name: B\n",
     f"seminars/{TALK}:4: speakers[0].name: given twice"),
    ("date before 1900", TALK, "speaker: A\ndate: 1899-12-31\n",
     f"seminars/{TALK}:2: date: \"1899-12-31\" is not in the years 1900 to 2200"),
    ("date after 2200", TALK, "date: 9999-12-31\nspeaker: A\n",
     f"seminars/{TALK}:1: date: \"9999-12-31\" is not in the years 1900 to 2200"),
]


def break_folder(root: Path, name: str, text: str | None, what: str) -> None:
    path = root / "seminars" / name
    if what == "missing series.yaml":
        path.unlink()
    elif what == "unknown time zone":
        edit(path, ("Europe/Stockholm", "Europe/Stockholmm"))
    elif what == "From is not an address":
        edit(path, ("from: Learning Machines Seminar <lm-seminar@example.org>",
                    "from: the seminar team"))
    else:
        assert text is not None
        write(path, text)


@pytest.mark.parametrize(("what", "name", "text", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
@pytest.mark.parametrize("command", [["check"], ["send", "--dry-run", "--today", "2024-02-20"]])
def test_broken_folder_exits_2_naming_file_and_line(
    series: Path, what: str, name: str, text: str | None, expected: str, command: list[str],
) -> None:
    break_folder(series, name, text, what)
    result = invoke(series, *command)
    assert result.code == 2, result.both
    assert f"announce: {expected}" in result.err, result.err
    assert "Traceback" not in result.both
    assert not (series / ".state" / "preview").exists()


@pytest.mark.parametrize("day", ["9999-12-31", "2201-01-01", "1899-12-31", "0001-01-01"])
@pytest.mark.parametrize("command", [
    ["check"], ["ics"], ["program"], ["list", "--all"], ["new", "--next", "--speaker", "A"],
    ["page", "2024-02-22"], ["preview", "2024-02-22"],
    ["send", "--due", "--dry-run", "--now", "2024-02-19T08:00"]])
def test_a_file_name_date_out_of_range_is_an_error_and_no_command_overflows(
        series: Path, day: str, command: list[str]) -> None:
    old = series / "seminars" / "2024-03-14-martinez-balvanera.yaml"
    edit(old, ("date: 2024-03-14", f"date: {day}"))
    old.rename(series / "seminars" / f"{day}-martinez-balvanera.yaml")
    result = invoke(series, *command)
    assert "Traceback" not in result.both
    # A command about one talk reads the records after it only: an early one is not its
    # business. Every command that reads all the records stops at it.
    if command[0] in ("page", "preview", "send") and day < "2024":
        assert result.code == 0, result.both
        return
    assert result.code == 2, result.both
    assert (f"announce: seminars/{day}-martinez-balvanera.yaml: the file name's date: "
            f"\"{day}\" is not in the years 1900 to 2200") in result.err


@pytest.mark.parametrize("day", ["1900-01-01", "2200-12-31"])
def test_the_first_and_last_days_of_the_range_are_talk_dates(series: Path, day: str) -> None:
    old = series / "seminars" / "2024-03-14-martinez-balvanera.yaml"
    edit(old, ("date: 2024-03-14", f"date: {day}"))
    old.rename(series / "seminars" / f"{day}-martinez-balvanera.yaml")
    for command in (["check"], ["ics"], ["program"], ["preview", day],
                    ["page", "--all", "--out", "site"]):
        result = invoke(series, *command)
        assert result.code == 0, (command, result.both)


def test_unquoted_time_works(series: Path) -> None:
    assert "time: 16:00" in (series / "seminars" / "2024-04-04-kreis.yaml").read_text()
    assert "* 2024-04-04, 16:00 CEST: Karsten Kreis" in invoke(series, "page", "2024-02-22").out


def test_several_problems_are_reported_together(series: Path) -> None:
    write(series / "seminars" / TALK, "date: 2024-02-22\ntime: 9\nspeeker: A\nstatus: done\n")
    result = invoke(series, "check")
    assert result.code == 2
    assert f"{TALK}:2: time:" in result.err
    assert f"{TALK}:3: speeker: unknown key; did you mean \"speaker\"?" in result.err
    assert f"{TALK}:4: status:" in result.err


def test_unknown_series_key_suggests(series: Path) -> None:
    edit(series / "seminars" / "series.yaml", ("upcoming_count:", "upcomming_count:"))
    result = invoke(series, "check")
    assert result.code == 2
    assert "upcomming_count: unknown key; did you mean \"upcoming_count\"?" in result.err


def test_series_number_and_link_problems_are_reported(series: Path) -> None:
    edit(series / "seminars" / "series.yaml", ("upcoming_count: 4", "upcoming_count: many"),
         ("website: https://ri.se/lm-sem", "website: javascript:alert(1)"))
    result = invoke(series, "check")
    assert result.code == 2
    assert "series.yaml:11: upcoming_count: \"many\" is not a whole number" in result.err
    assert "series.yaml:4: website: \"javascript:alert(1)\" is not a web address" in result.err


def test_speaker_and_speakers_together_are_refused(series: Path) -> None:
    write(series / "seminars" / TALK,
          "date: 2024-02-22\nspeaker: A\nspeakers:\n  - Ann Ek\n  - {name: Bo, affiliation: SU}\n")
    result = invoke(series, "check")
    assert result.code == 2
    assert f"{TALK}:2: speaker: cannot be used together with speakers:" in result.err


def test_a_list_of_plain_names_is_a_list_of_speakers(series: Path) -> None:
    write(series / "seminars" / TALK,
          "date: 2024-02-22\nspeakers:\n  - Ann Ek\n  - {name: Bo Ly, affiliation: SU}\n")
    assert "**Speakers:** Ann Ek; Bo Ly, SU\n" in invoke(series, "page", "2024-02-22").out


def test_check_passes_on_the_bundled_example(series: Path) -> None:
    result = invoke(series, "check")
    assert result.code == 0, result.err
    assert result.out == "ok: series and 7 talk(s) are valid and render\n"


@pytest.mark.parametrize(("line", "key", "kept"), [
    ("title: Why #1 matters", "title", "Why"),
    ("abstract: We use # signs", "abstract", "We use"),
    ("affiliation: EPFL # the lab", "affiliation", "EPFL"),
])
def test_words_yaml_would_cut_at_a_comment_are_refused(series: Path, line: str, key: str,
                                                      kept: str) -> None:
    write(series / "seminars" / TALK, f"date: 2024-02-22\nspeaker: A\n{line}\n")
    result = invoke(series, "check")
    assert result.code == 2
    assert (f'{TALK}:3: {key}: "{kept} #..." is cut at " #", which YAML reads as the start '
            "of a comment; put the whole value in quotes") in result.err


@pytest.mark.parametrize("line", ['title: "Why #1 matters"', "title: C# in practice",
                                  "abstract: |\n  We use # signs, kept in a block"])
def test_a_hash_that_is_not_a_comment_is_text(series: Path, line: str) -> None:
    write(series / "seminars" / TALK, f"date: 2024-02-22\nspeaker: A\n{line}\n")
    assert invoke(series, "check").code == 0


@pytest.mark.parametrize(("line", "says"), [
    ("title: Deep learning: a survey", 'title: the value holds ": ", which YAML reads as a new '
                                       'key; put the whole value in quotes (title: "...")'),
    ("title: [WIP] a talk", "title: the value starts with [, which YAML reads as a list"),
    ("title: @home", "title: the value starts with @, which YAML reserves; put the whole"),
    ("\ttitle: tabbed", "title: a tab in the indentation; YAML indents with spaces only"),
])
def test_a_newcomers_yaml_mistakes_name_the_key_and_say_what_to_do(series: Path, line: str,
                                                                   says: str) -> None:
    write(series / "seminars" / TALK, f"date: 2024-02-22\nspeaker: A\n{line}\n")
    result = invoke(series, "check")
    assert result.code == 2
    assert f"{TALK}:3: {says}" in result.err, result.err


def test_a_comma_inside_a_flow_mapping_is_explained(series: Path) -> None:
    record = series / "seminars" / "2024-02-22-mathis.yaml"
    text = record.read_text(encoding="utf-8")
    start, end = text.index("speaker:"), text.index("title:")
    record.write_text(text[:start] + "speakers: [{name: Dana, email: dana@uni,test}]\n"
                      + text[end:], encoding="utf-8")
    result = invoke(series, "check")
    assert result.code == 2
    assert "speakers[0].test: unknown key; it has no value" in result.err
    assert 'quote a value with a comma in it (email: "dana@uni,test")' in result.err


def test_check_warns_that_send_needs_mail_from(series: Path) -> None:
    edit(series / "seminars" / "series.yaml", ("  from:", "  # from:"))
    result = invoke(series, "check")
    assert result.code == 0, result.both
    assert "mail.from is not set, so `send` will refuse until it is" in result.err
    assert invoke(series, "send", "--dry-run", "--today", "2024-02-20").code == 2
