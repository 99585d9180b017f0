"""New things from nothing: a talk record (``new``) and a whole series folder (``init``)."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailer.errors import InputError
from mailer.paths import display_path, write_atomically
from mailer.series.names import slugify
from mailer.series.schema import load_talk
from mailer.series.store import SERIES_FILE

DEFAULT_ZONE = "Europe/Stockholm"


def _yaml_text(value: str) -> str:
    """Quote any text as a YAML string (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False)


_EXAMPLE_ABSTRACT = ("The Analytical Engine *weaves algebraical patterns* just as the "
                     "Jacquard loom weaves flowers and leaves. A talk on its notes, the first "
                     "published program, and what a machine can and cannot originate.")
_EXAMPLE_BIO = ("Ada Lovelace translated and annotated Menabrea's paper on Babbage's "
                "Analytical Engine (1843).")


_EXAMPLE_STATUS = ("# An example: announce mails nothing about a tentative talk. Make it yours (or "
                   "delete it),\n# then set status: confirmed.\nstatus: tentative    "
                   "# confirmed | tentative | cancelled | open")


def _talk_lines(day: date, speaker: str, affiliation: str | None, title: str | None, *,
                example: bool = False, email: str | None = None) -> list[str]:
    lines = [f"date: {day.isoformat()}", f"speaker: {_yaml_text(speaker)}"]
    if affiliation:
        lines.append(f"affiliation: {_yaml_text(affiliation)}")
    lines.append(f"email: {_yaml_text(email)}" if email else
                 "# email: speaker@example.org   # to ask them for what is missing")
    lines.append(f"title: {_yaml_text(title)}" if title else "# title: ")
    lines.append("# time: \"15:00\"      # when not the series' default_time")
    if example:
        lines += ["abstract: |", f"  {_EXAMPLE_ABSTRACT}", "bio: |", f"  {_EXAMPLE_BIO}"]
    else:
        lines += ["# abstract: |", "#   Markdown, as the speaker wrote it.",
                  "# bio: |", "#   Markdown: \"About the speaker\"."]
    if example:
        return [*lines, _EXAMPLE_STATUS, ""]
    return [*lines, "status: confirmed    # confirmed | tentative | cancelled | open", ""]


def new_talk(root: Path, day: date, speaker: str, affiliation: str | None,
             title: str | None, *, example: bool = False, email: str | None = None) -> Path:
    """Write ``seminars/DATE-<slug>.yaml`` for a new talk; never overwrite.

    The file name is the speaker's name in ASCII ("Пётр Чайковский" gives
    ``petr-chaykovskiy``); the record keeps the name as written.
    """
    folder = root / "seminars"
    if not (folder / SERIES_FILE).is_file():
        raise InputError(f"{display_path(folder / SERIES_FILE)}: no such file; `new` adds a talk "
                         "to a series folder (give --root before the command, or run "
                         "`announce init` first); nothing was written")
    slug = slugify(speaker)
    if not slug:
        raise InputError(f"--speaker: {speaker!r} gives no usable file name; "
                         "give the speaker's name in letters")
    path = folder / f"{day.isoformat()}-{slug}.yaml"
    taken = sorted(folder.glob(f"{day.isoformat()}*.yaml"))
    if taken and taken != [path]:
        raise InputError(f"{display_path(taken[0])}: {day} has a talk already; a series has "
                         "one talk a day. Choose another date, or edit that record")
    try:
        with open(path, "x", encoding="utf-8") as out:
            out.write("\n".join(_talk_lines(day, speaker, affiliation, title, example=example,
                                            email=email)))
    except FileExistsError:
        raise InputError(f"{display_path(path)}: already exists; edit it instead") from None
    try:
        load_talk(path, path.stem, day)
    except InputError:
        path.unlink()
        raise
    return path


_SERIES_TEMPLATE = """\
# A seminar series. Every key is described in the announce README.
# "Welcome to this week's {name} seminar." -- name it as that sentence reads best.
name: {name}
team: The {name} Team
# website: https://example.org/seminars
timezone: {zone}
default_time: "15:00"
duration_minutes: 60
location: Room 1, or online
# video_link: https://example.org/call
# video_label: Zoom link
upcoming_count: 4
announce_days_before: 6
page:
  front_matter:
    layout: default
mail:
  from: {name} Seminar <seminar@example.org>
  to: seminar-list@example.org
  # recipients_file: subscribers.csv   # one address a line, or CSV with email,name
  # unsubscribe: mailto:seminar-list-leave@example.org
  smtp:
    host: localhost
    port: 25
    security: none          # starttls | tls | none; the password comes from ANNOUNCE_SMTP_PASSWORD
"""

_GITIGNORE = """\
# announce's state: the send ledger, the run lock and previews. Keep it on the host
# that sends; it is what stops a cron job from sending the same mail twice.
.announce/
"""


def host_zone() -> str | None:
    """The host's IANA zone from ``TZ`` or /etc/localtime; None when it cannot be known."""
    told = os.environ.get("TZ", "").lstrip(":")
    if told and "/" in told and _known_zone(told):
        return told
    with contextlib.suppress(OSError):
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link and _known_zone(zone := link.split("zoneinfo/", 1)[1]):
            return zone
    return None


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def init_series(folder: Path, today: date, name: str = "Example",
                zone: str | None = None) -> Path:
    """Make a series folder with its settings, a ``.gitignore`` and one example talk (in
    ``zone``, by default the machine's). The example is tentative: nothing is mailed about
    it until the organiser makes it theirs.

    The templates stay in the package, so an upgrade brings their fixes; a folder copies
    one into its own ``templates/`` only to change it (``announce template NAME``).
    """
    settings = folder / "seminars" / SERIES_FILE
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{display_path(folder)}: is a file; give the folder to make the "
                         "series in (it may not exist yet)")
    if settings.exists():
        raise InputError(f"{display_path(settings)}: already exists; this folder is a series")
    if not name.strip() or any(ch in name for ch in "\r\n:#{}[]"):
        raise InputError(f"--name: {name!r}: give the series name in words, on one line")
    if zone is not None and not _known_zone(zone):
        raise InputError(f"--timezone: {zone!r} is not a time zone announce knows; give an "
                         "IANA name, such as Europe/Stockholm or America/New_York")
    write_atomically(settings, _SERIES_TEMPLATE.format(
        name=name.strip(), zone=zone or host_zone() or DEFAULT_ZONE).encode("utf-8"))
    ignore = folder / ".gitignore"
    if not ignore.exists():
        write_atomically(ignore, _GITIGNORE.encode("utf-8"))
    new_talk(folder, today + timedelta(days=2), "Ada Lovelace", "University of London",
             "Notes on the Analytical Engine", example=True)
    return folder

