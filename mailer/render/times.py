"""How times and days read, the same in every output: ``15:00``, ``Thursday 22 February 2024``,
``CET``."""

from __future__ import annotations

from datetime import datetime


def hhmm(moment: datetime) -> str:
    """Format a local time as ``HH:MM``."""
    return moment.strftime("%H:%M")


def long_day(moment: datetime) -> str:
    """Format a day for people: ``Thursday 22 February 2024``."""
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def zone_abbreviation(moment: datetime) -> str:
    """Return the zone abbreviation in force at ``moment`` (``CET``, ``CEST``)."""
    return moment.tzname() or moment.strftime("%z")
