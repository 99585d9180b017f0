"""What rendering a talk gives for one kind of mail: plain values, no rendering machinery.

A leaf of its own, so that the message builder can take a rendered mail without
loading Jinja, YAML or Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows from inside the mail (``cid:``), such as the photo."""

    cid: str
    data: bytes
    subtype: str = "jpeg"

    @property
    def src(self) -> str:
        """The ``src`` the HTML gives it."""
        return f"cid:{self.cid}"


@dataclass(frozen=True)
class Attachment:
    """A file the mail carries for the reader to save, such as the meeting backdrop."""

    filename: str
    data: bytes
    subtype: str = "jpeg"  # image/<subtype>


@dataclass(frozen=True)
class Rendered:
    """Everything a talk turns into for one kind of mail."""

    subject: str
    text: str
    html: str
    ics: str | None
    images: tuple[InlineImage, ...] = ()
    attachments: tuple[Attachment, ...] = ()
