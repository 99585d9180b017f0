"""announce: weekly seminar announcements from one YAML record per talk."""

__version__ = "0.1.0"
