"""announce: weekly seminar announcements from one YAML record per talk."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("announce")  # one version: pyproject.toml's, as installed
except PackageNotFoundError:  # a source tree run without being installed
    __version__ = "0+unknown"
