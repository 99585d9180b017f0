"""The ledger: a row per recipient after the server's answer, campaigns, calendar versions, lock."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailer.delivery.ledger import REFUSED, SENT, Ledger
from mailer.delivery.lock import run_lock
from mailer.errors import LedgerError, TemporaryFailure

T0 = datetime(2024, 2, 20, 7, 0, tzinfo=UTC)


def test_rows_campaigns_and_summary(tmp_path: Path) -> None:
    with Ledger(tmp_path, clock=lambda: T0) as ledger:
        first = ledger.campaign("talk", "announcement", force=False)
        assert ledger.campaign("talk", "announcement", force=False) == first
        ledger.write_outcome(first, "A@Example.org", SENT, 250, "ok")
        ledger.write_outcome(first, "b@example.org", REFUSED, 550, "no such user")
        assert ledger.settled(first) == {"a@example.org": SENT, "b@example.org": REFUSED}
        summary = ledger.summary("talk", "announcement")
        assert summary is not None
        assert (summary.sent, summary.refused, summary.last) == (1, 1, "2024-02-20T07:00:00+00:00")
        forced = ledger.campaign("talk", "announcement", force=True)
        assert forced != first
        assert ledger.settled(forced) == {}
        assert ledger.summary("talk", "reminder") is None


def test_all_refused_is_a_summary_not_nothing(tmp_path: Path) -> None:
    with Ledger(tmp_path) as ledger:
        campaign = ledger.campaign("talk", "announcement", force=False)
        ledger.write_outcome(campaign, "a@example.org", REFUSED, 550, "gone")
        summary = ledger.summary("talk", "announcement")
    assert summary is not None
    assert (summary.sent, summary.refused) == (0, 1)


def test_sequence_grows_with_each_version_sent(tmp_path: Path) -> None:
    with Ledger(tmp_path) as ledger:
        assert ledger.sequence("talk", "v1") == 0
        ledger.event_sent("talk", "v1")
        assert ledger.sequence("talk", "v1") == 0
        assert ledger.sequence("talk", "v2") == 1
        ledger.event_sent("talk", "v2")
        assert ledger.sequence("talk", "v2") == 1


def test_existing_is_none_without_a_ledger_and_creates_nothing(tmp_path: Path) -> None:
    with Ledger.existing(tmp_path / "state") as ledger:
        assert ledger is None
    assert not (tmp_path / "state").exists()


def test_closed_after_the_with_block(tmp_path: Path) -> None:
    with Ledger(tmp_path) as ledger:
        pass
    with pytest.raises(sqlite3.ProgrammingError):
        ledger.db.execute("SELECT 1")


def test_a_corrupt_file_is_a_ledger_error(tmp_path: Path) -> None:
    (tmp_path / "ledger.sqlite3").write_text("not a database\n" * 100)
    with pytest.raises(LedgerError, match=r"is damaged .*nothing was sent"):
        Ledger(tmp_path)


def test_run_lock_is_exclusive_and_says_so(tmp_path: Path) -> None:
    with (run_lock(tmp_path),
          pytest.raises(TemporaryFailure, match="another announce send is running"),
          run_lock(tmp_path, wait=0.2)):
        pass
    with run_lock(tmp_path, wait=0.2):
        pass  # released when the first run ended
