"""``announce import`` of the series' yearly plan tables (``lm/YYYY.md``).

``tests/plans/2024.md`` is the series' real 2024 plan as published: cancelled weeks in red,
an open week in purple, a tentative one in grey, S-T-A-B-P comments with strike-through.
The tables written here are in the same form, over several years and every colour.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from runners import invoke
from seriesfiles import TESTS, write

from mailer.series.model import Status
from mailer.series.store import Store

PLAN = TESTS / "plans" / "2024.md"
PAGE = TESTS / "archive" / "2024-02-22.md"


def row(day: str, speaker: str, colour: str | None = None, comment: str = "STABP") -> str:
    cells = [day, speaker, "", comment]
    if colour:
        cells = [f'<span style="color:{colour}"> {cell} </span>' for cell in cells]
    return "| " + " | ".join(cells) + " |"


def table(*rows: str, title: str = "Plan") -> str:
    return (f"---\nlayout: default\n---\n# {title}\n\n"
            "| date | speaker | photo | comment |\n| ---- | ---- | ---- | ---- |\n"
            + "\n".join(rows) + "\n")


def test_the_real_plan_gives_one_record_per_row_with_its_status(fresh: Path) -> None:
    result = invoke(fresh, "import", str(PLAN))
    assert result.code == 0, result.both
    talks = list(Store(fresh).talks())
    assert len(talks) == 37
    statuses = Counter(talk.status for talk in talks)
    assert statuses == {Status.CONFIRMED: 22, Status.CANCELLED: 13, Status.OPEN: 1,
                        Status.TENTATIVE: 1}
    store = Store(fresh)
    assert store.find("2024-02-15").note == "Sportlov"
    assert store.find("2024-02-15").speakers == ()
    assert store.find("2024-09-12").note == "Pioneer Centre for Artificial Intelligence"
    assert store.find("2024-04-25").status == Status.OPEN
    assert store.find("2024-04-25").note == "*Up for grabs!!!*"
    tentative = store.find("2024-12-05")
    assert (tentative.status, tentative.speaker_line()) == (Status.TENTATIVE, "Jonas A.")
    first = store.find("2024-01-18")
    assert first.speaker_line() == "Serge Belongie, University of Copenhagen"
    assert first.title is None
    assert "22 row(s) link a page that was not in this import" in result.out
    assert "photo and image columns are not imported" in result.out
    assert invoke(fresh, "check").code == 0
    again = invoke(fresh, "import", str(PLAN))
    assert again.code == 0 and "imported 0 talk(s)" in again.out


def test_a_page_and_its_plan_row_make_one_record(fresh: Path) -> None:
    result = invoke(fresh, "import", str(PLAN), str(PAGE))
    assert result.code == 0, result.both
    same_day = sorted((fresh / "seminars").glob("2024-02-22-*.yaml"))
    assert [p.name for p in same_day] == ["2024-02-22-alexander-mathis.yaml"]
    talk = Store(fresh).find("2024-02-22")
    assert talk.title and talk.title.startswith("Measuring behavior")
    assert talk.abstract and talk.status == Status.CONFIRMED
    assert "21 row(s) link a page" in result.out


def test_a_plan_in_a_glob_of_pages_does_not_stop_the_import(fresh: Path) -> None:
    pages = sorted((TESTS / "archive").glob("*.md"))
    result = invoke(fresh, "import", *map(str, pages), str(PLAN))
    assert result.code == 0, result.both
    days = [talk.date.isoformat() for talk in Store(fresh).talks()]
    assert len(days) == len(set(days))
    assert "2021-03-25" in days and "2024-12-26" in days


def test_tables_of_several_years_and_every_colour(fresh: Path) -> None:
    plan_2025 = write(fresh / "lm" / "2025.md", table(
        row("2025-01-09", "[Ada Lovelace, KTH](2025-01-09.md)"),
        row("2025-01-16", "Jullov", "red", "CANCELLED"),
        row("2025-01-23", "*Up for grabs!!!*", "purple", "~~STABP~~"),
        row("2025-01-30", "Bo Ek ?", "gray", "S~~TABP~~"),
        row("2025-02-06", "Cai Wu and Dan Li, Lund University"),
        title="Plan 2025"))
    plan_2026 = write(fresh / "lm" / "2026.md", table(
        row("2026-01-08", "Eva Berg, Chalmers", "grey", "S~~TABP~~"),
        row("2026-01-15", "CANCELLED", "red", "CANCELLED"),
        title="Plan 2026"))
    result = invoke(fresh, "import", str(plan_2025), str(plan_2026))
    assert result.code == 0, result.both
    store = Store(fresh)
    assert store.find("2025-01-09").speaker_line() == "Ada Lovelace, KTH"
    assert (store.find("2025-01-16").status, store.find("2025-01-16").note) ==\
        (Status.CANCELLED, "Jullov")
    assert store.find("2025-01-23").status == Status.OPEN
    assert store.find("2025-01-30").status == Status.TENTATIVE
    assert store.find("2025-01-30").speaker_line() == "Bo Ek"
    assert [s.name for s in store.find("2025-02-06").speakers] == ["Cai Wu", "Dan Li"]
    assert store.find("2026-01-08").speaker_line() == "Eva Berg, Chalmers"
    cancelled = store.find("2026-01-15")
    assert (cancelled.status, cancelled.note) == (Status.CANCELLED, None)
    assert sorted(p.name for p in (fresh / "seminars").glob("2026-*")) ==\
        ["2026-01-08-eva-berg.yaml", "2026-01-15-cancelled.yaml"]


def test_bad_rows_are_reported_together_and_nothing_is_written(fresh: Path) -> None:
    plan = write(fresh / "lm" / "2025.md", table(
        row("2025-01-09", "Ada Lovelace"),
        row("2025-13-16", "Bo Ek"),
        row("2025-01-23", "Cai Wu", "green")))
    result = invoke(fresh, "import", str(plan))
    assert result.code == 2
    assert "2025.md:9: date: '2025-13-16' is not a day written YYYY-MM-DD" in result.err
    assert "2025.md:10: a row coloured 'green'" in result.err
    assert "Traceback" not in result.both
    assert sorted(p.name for p in (fresh / "seminars").iterdir()) == ["series.yaml"]


def test_two_pages_for_one_date_are_refused_naming_both(fresh: Path) -> None:
    first = write(fresh / "a" / "2025-01-09.md", "**Speaker:** Ada Lovelace\n")
    second = write(fresh / "b" / "2025-01-09.md", "**Speaker:** Bo Ek\n")
    result = invoke(fresh, "import", str(first), str(second))
    assert result.code == 2
    assert "b/2025-01-09.md:1: 2025-01-09 is also the date of a/2025-01-09.md:1" in result.err
    assert sorted(p.name for p in (fresh / "seminars").iterdir()) == ["series.yaml"]
