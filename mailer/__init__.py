"""announce: weekly seminar announcements from one YAML record per talk.

"contract §N" in the code is section N of docs/contract.md, what users type, write and receive.
"""

from __future__ import annotations

from functools import cache


@cache
def _version() -> str:
    # importlib.metadata costs some 35 ms to load: only what asks for the version pays it.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("announce")  # one version: pyproject.toml's, as installed
    except PackageNotFoundError:  # a source tree run without being installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    """``mailer.__version__``, read from the package metadata when first asked for."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'mailer' has no attribute {name!r}")
