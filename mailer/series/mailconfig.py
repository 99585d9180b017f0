"""The ``mail:`` section of ``series.yaml``: who sends, to whom, how fast, through which relay."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailer.net.servers import ImapSettings, SmtpSettings

DEFAULT_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class InboxSettings:
    """``mail.inbox``: the organiser's mailbox, over IMAP or as a Maildir folder."""

    imap: ImapSettings | None = None
    maildir: str | None = None  # relative to the series folder, or absolute


@dataclass(frozen=True)
class MailSettings:
    """The ``mail:`` section of ``series.yaml``."""

    sender: str | None = None
    to: tuple[str, ...] = ()
    recipients_file: str | None = None
    reply_to: str | None = None
    unsubscribe: str | None = None
    rate_per_minute: int = 0
    retry_seconds: float = DEFAULT_RETRY_SECONDS
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    inbox: InboxSettings | None = None
    confirm_unsubscribe: bool = False  # a one-line "you are unsubscribed" back
    subscribe: str | None = None  # mailto: where people sign up (contract §9)
    web: str | None = None  # mail.web.base_url: where `announce serve` answers (https://)
