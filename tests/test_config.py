"""Mail settings: the environment overrides the file, and says clearly what is wrong."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from mailer.commands.environment import with_environment
from mailer.errors import InputError
from mailer.net.servers import SmtpSettings, smtp_password
from mailer.series.mailconfig import MailSettings


def test_environment_overrides_the_file() -> None:
    mail = MailSettings(smtp=SmtpSettings(host="relay.example.org", port=587,
                                          security="starttls", username="file"))
    env = {"ANNOUNCE_SMTP_HOST": "127.0.0.1", "ANNOUNCE_SMTP_PORT": "2525",
           "ANNOUNCE_SMTP_SECURITY": "none", "ANNOUNCE_SMTP_USERNAME": "cron",
           "ANNOUNCE_RETRY_SECONDS": "0"}
    got = with_environment(mail, env)
    assert got.smtp == SmtpSettings(host="127.0.0.1", port=2525, security="none",
                                    username="cron")
    assert got.retry_seconds == 0.0
    assert with_environment(mail, {}) == mail


@pytest.mark.parametrize(("name", "value", "says"), [
    ("ANNOUNCE_SMTP_PORT", "smtp", "is not a whole number"),
    ("ANNOUNCE_SMTP_PORT", "70000", "is out of range (1..65535)"),
    ("ANNOUNCE_SMTP_SECURITY", "ssl", "must be one of starttls, tls, none"),
    ("ANNOUNCE_SMTP_HOST", "relay example", "is not a host name"),
])
def test_bad_environment_values(name: str, value: str, says: str) -> None:
    with pytest.raises(InputError, match=f"environment: {name}=.*{re.escape(says)}"):
        with_environment(MailSettings(), {name: value})


def test_password_only_from_the_environment() -> None:
    assert smtp_password({"ANNOUNCE_SMTP_PASSWORD": "s3cret"}) == "s3cret"
    assert smtp_password({"ANNOUNCE_SMTP_PASSWORD": ""}) is None
    holders = {f.name for f in fields(SmtpSettings)} | {f.name for f in fields(MailSettings)}
    assert {name for name in holders if "password" in name} == {"password_command"}
