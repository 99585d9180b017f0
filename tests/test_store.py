"""The folder index: finding a talk by id or date, file names, reading only what is needed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from runners import invoke
from seriesfiles import write

from mailer.errors import InputError
from mailer.series.store import Store


def test_find_by_id_and_by_date(series: Path) -> None:
    store = Store(series)
    assert store.find("2024-02-22-mathis").speaker_line() == "Alexander Mathis, EPFL"
    assert store.find("2024-02-22").id == "2024-02-22-mathis"


def test_unknown_talk_suggests_the_closest_id(series: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(series)
    with pytest.raises(InputError, match=r"2024-02-22-mathes: no such talk in seminars; "
                                         r"did you mean 2024-02-22-mathis\?"):
        Store(series).find("2024-02-22-mathes")
    result = invoke(series, "page", "2024-02-23")
    assert result.code == 2
    assert "2024-02-23: no such talk" in result.err


def test_two_talks_on_one_date_are_an_error_everywhere(series: Path) -> None:
    write(series / "seminars" / "2024-02-22-second.yaml", "date: 2024-02-22\nspeaker: B\n")
    both = ("seminars/2024-02-22-mathis.yaml and seminars/2024-02-22-second.yaml: two talks "
            "on 2024-02-22; a series has one talk a day")
    with pytest.raises(InputError, match="two talks on 2024-02-22"):
        Store(series).find("2024-02-22")
    for command in (["check"], ["send", "--due", "--now", "2024-02-20T08:00", "--dry-run"],
                    ["page", "--all", "--out", str(series / "site")]):
        result = invoke(series, *command)
        assert result.code == 2, command
        assert both in result.err, command


def test_new_refuses_a_date_that_has_a_talk(series: Path) -> None:
    result = invoke(series, "new", "2024-02-22", "--speaker", "Ada Lovelace")
    assert result.code == 2
    assert "seminars/2024-02-22-mathis.yaml: 2024-02-22 has a talk already" in result.err
    assert not (series / "seminars" / "2024-02-22-ada-lovelace.yaml").exists()


def test_which_is_a_name_never_a_path(series: Path) -> None:
    write(series / "outside.yaml", "date: 2024-02-22\n")
    for which in ("../outside", "2024-02-22-mathis/../../outside", "/etc/passwd"):
        result = invoke(series, "page", which)
        assert result.code == 2, which
        assert "no such talk" in result.err


def test_bad_file_name_date(series: Path) -> None:
    write(series / "seminars" / "2024-02-31-x.yaml", "date: 2024-02-31\n")
    result = invoke(series, "check")
    assert result.code == 2
    assert "seminars/2024-02-31-x.yaml: the file name's date" in result.err


def test_past_talks_are_never_read(series: Path) -> None:
    # A broken record in the past does not stop today's work: its name says it is past.
    write(series / "seminars" / "2020-01-02-old.yaml", "this: [is not valid\n")
    store = Store(series)
    assert [s.id for s in store.talks(date(2024, 3, 28))] == [
        "2024-03-28-xu", "2024-04-04-kreis"]
    assert store.ids()[0] == "2020-01-02-old"
    with pytest.raises(InputError, match=r"2020-01-02-old\.yaml:2: invalid YAML"):
        list(store.talks())


def test_stray_files_are_named(series: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(series)
    write(series / "seminars" / "notes.yaml", "x: 1\n")
    write(series / "seminars" / "2024-05-02-ada.yml", "date: 2024-05-02\n")
    assert Store(series).stray_files() == ["seminars/2024-05-02-ada.yml", "seminars/notes.yaml"]
