"""Outside servers and tools a test starts or calls: a private Postfix or Dovecot, tidy,
Chromium, SpamAssassin and the like. Locally a test skips with the reason when one is absent;
under CI (``CI`` set) a missing one is a failure.

Such a test is marked ``integration`` (``pytest -m "not integration"`` runs the rest), and
one that is not fails here, whether or not the tool is installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest
from smtpserver import free_port


class _Service(Protocol):
    def configure(self) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


ServiceT = TypeVar("ServiceT", bound=_Service)

# Whether the test being set up or run is marked integration (conftest.py sets it).
marked = False


def _needs(what: str) -> None:
    """Fail a test that needs ``what`` from outside but does not say so by its mark."""
    if not marked:
        pytest.fail(f"this test needs {what}: mark it @pytest.mark.integration", pytrace=False)


@contextlib.contextmanager
def private_service(make: Callable[[Path, int], ServiceT], prefix: str) -> Iterator[ServiceT]:
    """A private Postfix or Dovecot on a free loopback port, in a folder of its own (not
    pytest's private temporary folders: the service's own users must reach it)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    service = make(base, free_port())
    try:
        service.configure()
        service.start()
        yield service
    finally:
        service.stop()
        shutil.rmtree(base, ignore_errors=True)


def require_root_tools(tools: tuple[str, ...], master: str, hint: str) -> None:
    """Skip (or, in CI, fail) unless ``tools`` are installed and we are root (``master``, such
    as "Postfix's master", starts as root); ``hint`` says how CI gets them."""
    _needs(master)
    missing = [tool for tool in tools if not shutil.which(tool)]
    why = (f"{', '.join(missing)} not installed" if missing else
           f"{master} must be started as root" if os.geteuid() != 0 else "")
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; {hint}")
        pytest.skip(f"{why} (CI runs these tests)")


def require_tool(name: str) -> str:
    """Return the tool's path; skip locally when it is absent, fail in CI where it must be."""
    _needs(name)
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; .ci/run installs it")
    pytest.skip(f"{name} is not installed here (CI installs it with apt-get)")


def require_module(name: str, hint: str) -> None:
    """Skip locally when the Python package ``name`` is not installed (``hint`` says how to
    install it); under CI, where it must be, fail."""
    _needs(name)
    if importlib.util.find_spec(name) is not None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; {hint}")
    pytest.skip(f"{name} is not installed here ({hint})")
