"""The ledger: a row per recipient after the server's answer, campaigns, calendar versions,
suppressions, the inbox's log, notices; opening, checking and upgrading its file; the lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailer.delivery.inboxrows import SentCopy
from mailer.delivery.ledger import REFUSED, SENT, Ledger
from mailer.delivery.ledgerfile import LEDGER_VERSION
from mailer.delivery.lock import run_lock
from mailer.delivery.noticerows import NoticeRows
from mailer.delivery.suppressedrows import SuppressedRows
from mailer.errors import LedgerError, TemporaryFailure

T0 = datetime(2024, 2, 20, 7, 0, tzinfo=UTC)

# A ledger as announce's first version wrote it: no campaigns.facts, no deliveries.message_id,
# calendar versions ordered by their stamps (the later one written first), user_version 1.
VERSION_1 = """
CREATE TABLE campaigns (id INTEGER PRIMARY KEY, seminar TEXT NOT NULL, kind TEXT NOT NULL,
                        started TEXT NOT NULL, forced INTEGER NOT NULL DEFAULT 0);
CREATE TABLE deliveries (campaign INTEGER NOT NULL REFERENCES campaigns (id),
                         recipient TEXT NOT NULL, status TEXT NOT NULL, code INTEGER NOT NULL,
                         reply TEXT NOT NULL, at TEXT NOT NULL,
                         PRIMARY KEY (campaign, recipient)) WITHOUT ROWID;
CREATE TABLE events (seminar TEXT NOT NULL, digest TEXT NOT NULL, first_sent TEXT NOT NULL,
                     PRIMARY KEY (seminar, digest)) WITHOUT ROWID;
INSERT INTO campaigns VALUES (1, 'talk', 'announcement', '2024-02-01T07:00:00+00:00', 0);
INSERT INTO deliveries VALUES (1, 'a@example.org', 'sent', 250, 'ok', '2024-02-01T07:00:01+00:00');
INSERT INTO events VALUES ('talk', 'later', '2024-02-03T07:00:00+00:00'),
                          ('talk', 'earlier', '2024-02-01T07:00:00+00:00');
PRAGMA user_version = 1;
"""


def _write_version_1(folder: Path) -> Path:
    path = folder / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(VERSION_1)
    db.close()
    return path


def _user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


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


def test_a_version_1_ledger_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    path = _write_version_1(tmp_path)
    with Ledger(tmp_path, clock=lambda: T0) as ledger:
        assert ledger.sequence("talk", "earlier") == 0  # numbered in the order they went out
        assert ledger.sequence("talk", "later") == 1
        assert ledger.sequence("talk", "newer") == 2
        assert ledger.reached("talk") == {"a@example.org"}
        campaign = ledger.campaign("talk", "update", force=False, facts='{"when": "x"}')
        ledger.write_outcome(campaign, "a@example.org", SENT, 250, "ok", message_id="<u@x>")
        assert ledger.sent_to(["<u@x>"]) == [SentCopy("<u@x>", "a@example.org", "update", "talk")]
        ledger.suppress("b@example.org", "bounce", "<b@x>")  # the tables added since
        assert ledger.first_time("said")
    assert _user_version(path) == LEDGER_VERSION
    with Ledger(tmp_path) as again:  # opened at the current version: nothing to do
        assert again.sequence("talk", "later") == 1
        assert set(again.suppressed()) == {"b@example.org"}


def test_readonly_reads_an_old_ledger_as_upgraded_and_leaves_the_file_as_it_was(
        tmp_path: Path) -> None:
    path = _write_version_1(tmp_path)
    before = path.read_bytes()
    with Ledger.existing(tmp_path, readonly=True) as ledger:
        assert ledger is not None
        assert ledger.sequence("talk", "later") == 1
        assert ledger.first_time("said")
        campaign = ledger.campaign("talk", "reminder", force=False)
        ledger.write_outcome(campaign, "a@example.org", SENT, 250, "ok")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.sqlite3"]
    with Ledger.existing(tmp_path, readonly=True) as again:  # what it wrote is forgotten
        assert again is not None
        assert again.first_time("said")
        assert again.summary("talk", "reminder") is None


def test_a_ledger_from_a_newer_announce_is_refused_and_left_alone(tmp_path: Path) -> None:
    with Ledger(tmp_path):
        pass
    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {LEDGER_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    newer = rf"newer announce \(version {LEDGER_VERSION + 1}; this one knows {LEDGER_VERSION}\)"
    with pytest.raises(LedgerError, match=newer):
        Ledger(tmp_path)
    assert path.read_bytes() == before
    assert _user_version(path) == LEDGER_VERSION + 1


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _foreign(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE other (x)")
    db.close()


@pytest.mark.parametrize(("make", "says"), [(_empty, "the file is empty"),
                                            (_foreign, "it holds no announce tables")])
def test_a_file_that_is_no_ledger_of_ours_is_damaged(
        tmp_path: Path, make: Callable[[Path], None], says: str) -> None:
    make(tmp_path / "ledger.sqlite3")
    with pytest.raises(LedgerError, match=f"is damaged \\({says}\\).*nothing was sent"):
        Ledger(tmp_path)


def test_without_create_no_ledger_is_made(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no ledger yet"):
        Ledger(tmp_path / "state", create=False)
    assert not (tmp_path / "state").exists()


def test_a_notice_is_said_once_and_stays_said(tmp_path: Path) -> None:
    with NoticeRows(tmp_path, clock=lambda: T0) as notices:
        assert notices.first_time("one")
        assert not notices.first_time("one")
        assert notices.first_time("two")
    with Ledger(tmp_path) as ledger:  # the next run
        assert not ledger.first_time("one")


def test_suppressions_and_soft_bounces(tmp_path: Path) -> None:
    with SuppressedRows(tmp_path, clock=lambda: T0) as rows:
        assert rows.soft_bounce("A@Example.org", "<1@x>") == 1
        assert rows.soft_bounce("a@example.org", "<1@x>") == 1  # one failure counts once
        assert rows.soft_bounce("a@example.org", "<2@x>") == 2
        assert rows.suppress("A@Example.org", "bounce", "<3@x>")
        assert not rows.suppress("a@example.org", "unsubscribe", "<4@x>")
        assert rows.suppressed() == {
            "a@example.org": ("bounce", "2024-02-20T07:00:00+00:00", "<3@x>")}
        assert rows.restore("A@EXAMPLE.ORG")
        assert not rows.restore("a@example.org")
        assert rows.suppressed() == {}
        assert rows.soft_bounce("a@example.org", "<5@x>") == 1  # the lift forgot the others


def test_the_inbox_log_knows_the_copies_an_answer_may_name(tmp_path: Path) -> None:
    with Ledger(tmp_path, clock=lambda: T0) as ledger:
        campaign = ledger.campaign("talk", "announcement", force=False)
        ledger.write_outcome(campaign, "A@Example.org", SENT, 250, "ok", message_id="<a@x>")
        ledger.write_outcome(campaign, "b@example.org", REFUSED, 550, "gone", message_id="<b@x>")
        ledger.noted("<n@x>", "C@Example.org", "received", "talk")
        copies = ledger.sent_to([" <a@x> ", "<b@x>", "<n@x>", "<unknown@x>", ""])
        assert set(copies) == {SentCopy("<a@x>", "a@example.org", "announcement", "talk"),
                               SentCopy("<n@x>", "c@example.org", "received", "talk")}
        assert ledger.sent_to(["", " "]) == []
        assert ledger.last_note("c@example.org", "received") == T0
        assert ledger.last_note("c@example.org", "unsubscribed") is None
        assert not ledger.was_handled("<m@x>")
        ledger.handled("<m@x>", "bounce")
        assert ledger.was_handled("<m@x>")
        assert ledger.reached_anyone("A@EXAMPLE.org")
        assert not ledger.reached_anyone("b@example.org")  # refused: never delivered


def test_an_update_continues_only_its_own_change_set_and_tells_when_whole(
        tmp_path: Path) -> None:
    with Ledger(tmp_path) as ledger:
        first = ledger.campaign("talk", "update", force=False, facts='{"when": "1"}',
                                audience=["A@Example.org"])
        assert ledger.campaign("talk", "update", force=False, facts='{"when": "1"}') == first
        assert ledger.campaign("talk", "update", force=False, facts='{"when": "2"}') != first
        assert ledger.audience(first) == {"a@example.org"}
        assert ledger.told("talk") is None  # it reached no one of its audience yet
        ledger.write_outcome(first, "a@example.org", SENT, 250, "ok")
        assert ledger.told("talk") == '{"when": "1"}'


def test_clamp_brings_stamps_from_the_future_back_to_now(tmp_path: Path) -> None:
    with Ledger(tmp_path, clock=lambda: T0 + timedelta(days=2)) as ledger:
        campaign = ledger.campaign("talk", "announcement", force=False)
        ledger.write_outcome(campaign, "a@example.org", SENT, 250, "ok")
        assert ledger.clamp(T0) == 1
        assert ledger.clamp(T0) == 0
        assert ledger.first_sent("talk", "announcement") == T0
