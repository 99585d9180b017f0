"""The version of announce as installed: pyproject.toml's, read from the package metadata.

importlib.metadata costs some 35 ms to load, so only what shows the version imports this
module: ``--version`` (the command line imports it late) and a calendar's PRODID.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version


@cache
def version() -> str:
    """The installed version of announce; ``0+unknown`` for a source tree run without being
    installed."""
    try:
        return installed_version("announce")
    except PackageNotFoundError:
        return "0+unknown"
