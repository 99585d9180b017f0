"""The series and its talks, as frozen values, and the time-zone rules they follow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from mailer.series.mailconfig import MailSettings
from mailer.series.names import slugify

TBA = "TBA"  # what a missing speaker, title or abstract shows as
DEFAULT_VIDEO_LABEL = "Video link"
DEFAULT_FRONT_MATTER: Mapping[str, Any] = MappingProxyType({"layout": "default"})


class Status(StrEnum):
    """Where a talk stands."""

    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"
    OPEN = "open"  # a planned week still looking for a speaker ("up for grabs")


@dataclass(frozen=True)
class Speaker:
    """One speaker of a talk."""

    name: str
    affiliation: str | None = None
    email: str | None = None  # the address they are asked and briefed at (contract §8)
    timezone: str | None = None  # IANA: their own time is shown beside the series'

    def line(self) -> str:
        """Return ``Name, Affiliation``, or the name alone."""
        return f"{self.name}, {self.affiliation}" if self.affiliation else self.name


RGB = tuple[int, int, int]


@dataclass(frozen=True)
class ImageStyle:
    """How the talk's images look (``images:`` in series.yaml)."""

    background: RGB = (43, 22, 84)
    accent: RGB = (199, 182, 242)
    text: RGB = (255, 255, 255)
    logo: str | None = None  # a path under the series folder


@dataclass(frozen=True)
class SpeakerMail:
    """``speakers:`` in series.yaml: when a speaker is asked, chased and briefed (contract §8)."""

    request_days_before: int = 28
    chase_every_days: int = 7
    deadline_days_before: int = 10
    brief_days_before: int = 1


@dataclass(frozen=True)
class Series:
    """The settings of ``seminars/series.yaml``."""

    name: str
    team: str
    timezone: str
    default_time: time
    website: str | None = None
    duration_minutes: int = 60
    location: str | None = None
    video_link: str | None = None
    video_label: str | None = None
    upcoming_count: int = 4
    announce_days_before: int = 6
    announce_at: time = time(8, 0)
    remind_at: time | None = None
    front_matter: Mapping[str, Any] = field(default_factory=lambda: DEFAULT_FRONT_MATTER)
    page_url: str | None = None  # "/lm/": where the talk pages are published on the site
    cadence: str = "weekly"  # weekly | biweekly: how `new --next` spaces the talks
    speaker_mail: SpeakerMail = field(default_factory=SpeakerMail)
    followup_days_after: int | None = None  # the recording's mail: up to this many days after
    # A talk still without a title when its announcement is due: "announce" it (TBA) or
    # "hold" it until the title is in (the organiser is told once).
    incomplete: str = "announce"
    mail: MailSettings = field(default_factory=MailSettings)
    images: ImageStyle = field(default_factory=ImageStyle)

    def page_link(self, day: date) -> str:
        """The link from the programme to a talk's page, as plain Jekyll resolves it.

        With ``page.url`` each page carries that ``permalink``, and the link goes through
        ``relative_url`` (any baseurl, any folder layout); without it, the page beside the
        programme under Jekyll's default permalink (``2024-02-22.md`` becomes ``.html``)."""
        if self.page_url is None:
            return f"{day.isoformat()}.html"
        return "{{ '" + self.permalink(day) + "' | relative_url }}"

    def permalink(self, day: date) -> str:
        """The talk page's permalink under ``page.url``."""
        return f"{self.page_url or '/'}{day.isoformat()}.html"

    @property
    def token(self) -> str:
        """``[learning-machines]``: the series' mark in the subject of mail to speakers,
        which their replies keep."""
        return f"[{slugify(self.name) or 'seminar'}]"

    @property
    def call_label(self) -> str:
        """The call link's label ("Zoom link"), or the default."""
        return self.video_label or DEFAULT_VIDEO_LABEL

    @property
    def zone(self) -> ZoneInfo:
        """The series' time zone (zoneinfo caches instances)."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Talk:
    """One talk: the contents of ``seminars/YYYY-MM-DD-<slug>.yaml``."""

    id: str
    date: date
    time: time | None = None
    speakers: tuple[Speaker, ...] = ()
    title: str | None = None
    abstract: str | None = None
    bio: str | None = None
    location: str | None = None
    video_link: str | None = None
    status: Status = Status.CONFIRMED
    note: str | None = None
    photo: str | None = None  # a path under the series folder, as written
    uid: str | None = None  # the talk's identity once it has moved (written by `move`)
    host: Speaker | None = None  # who introduces the speaker: name and address
    recording: str | None = None  # after the talk: a URL of the recording
    slides: str | None = None  # after the talk: a URL of the slides

    def asked(self) -> tuple[Speaker, ...]:
        """The speakers who can be asked and briefed: those with an address."""
        return tuple(speaker for speaker in self.speakers if speaker.email)

    @property
    def key(self) -> str:
        """The talk's identity in the ledger and in calendars: its first id, kept by `move`."""
        return self.uid or self.id

    @property
    def shown_title(self) -> str:
        """The title, or TBA."""
        return self.title or TBA

    def place(self, series: Series) -> str | None:
        """Where the talk is: its own location, else the series'."""
        return self.location or series.location

    def call(self, series: Series) -> str | None:
        """The call link: the talk's own, else the series'."""
        return self.video_link or series.video_link

    @property
    def cancelled(self) -> bool:
        """Whether the week is cancelled."""
        return self.status == Status.CANCELLED

    @property
    def open(self) -> bool:
        """Whether the week is planned but has no speaker yet."""
        return self.status == Status.OPEN

    @property
    def takes_place(self) -> bool:
        """Whether there is a talk this week: neither cancelled nor open."""
        return self.status not in (Status.CANCELLED, Status.OPEN)

    def parts(self) -> dict[str, bool]:
        """S-T-A-B-P, the series' completeness code: which of Speaker, Title, Abstract, Bio
        and Photo the record has."""
        return {"S": bool(self.speakers), "T": bool(self.title), "A": bool(self.abstract),
                "B": bool(self.bio), "P": bool(self.photo)}

    def missing(self, *, photo: bool = False) -> list[str]:
        """Name what an announcement would still show as TBA or leave out (and the photo)."""
        names = {"S": "speaker", "T": "title", "A": "abstract", "B": "bio", "P": "photo"}
        return [names[letter] for letter, present in self.parts().items()
                if not present and (photo or letter != "P")]

    def start(self, series: Series) -> datetime:
        """Return the talk's start as an aware datetime in the series' zone."""
        return datetime.combine(self.date, self.time or series.default_time, tzinfo=series.zone)

    def end(self, series: Series) -> datetime:
        """Return the talk's end, ``duration_minutes`` after its start."""
        return self.start(series) + timedelta(minutes=series.duration_minutes)

    def speaker_line(self) -> str:
        """Return ``Name, Affiliation; Name, Affiliation`` or TBA."""
        if not self.speakers:
            return TBA
        return "; ".join(speaker.line() for speaker in self.speakers)

    def listed_speaker(self) -> str:
        """Return the speaker as an upcoming list shows it: TBA until the talk is confirmed."""
        return self.speaker_line() if self.status == Status.CONFIRMED else TBA
