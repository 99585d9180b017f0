"""Fixtures: a real SMTP server on loopback and a copy of the bundled example series."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import outside
import pytest
import trustme
from runners import invoke
from seriesfiles import copy_example
from smtpserver import Server, start_server


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tell outside.py whether this test may start outside servers and tools."""
    outside.marked = item.get_closest_marker("integration") is not None


@pytest.fixture(scope="session")
def authority() -> trustme.CA:
    """A throwaway certificate authority for TLS servers (trust it with SSL_CERT_FILE)."""
    return trustme.CA()


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    """A plain SMTP server on loopback."""
    server = start_server()
    yield server
    server.controller.stop()


@pytest.fixture
def series(tmp_path: Path) -> Path:
    """A copy of the bundled Learning Machines series in a temporary folder."""
    return copy_example(tmp_path / "series")


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A new, empty series folder."""
    assert invoke(tmp_path, "init", "s", "--name", "Learning Machines").code == 0
    for example in (tmp_path / "s" / "seminars").glob("20*.yaml"):
        example.unlink()
    return tmp_path / "s"
