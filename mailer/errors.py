"""The one exception family the command line maps to exit codes."""

from __future__ import annotations

# sysexits(3), as mail software uses them.
EX_OK = 0
EX_FAILURE = 1
EX_USAGE = 2
EX_TEMPFAIL = 75


class MailerError(Exception):
    """Base of every error the command line reports without a traceback."""

    exit_code = EX_FAILURE


class InputError(MailerError):
    """Bad input or usage: a file, a key, an option. Exit 2."""

    exit_code = EX_USAGE


class DeliveryError(MailerError):
    """A permanent failure: refused by the server, refused login, untrusted certificate. Exit 1."""

    exit_code = EX_FAILURE


class LedgerError(MailerError):
    """The ledger cannot be opened or written; nothing may be sent. Exit 1."""

    exit_code = EX_FAILURE


class TemporaryFailure(MailerError):
    """Something that may work later: server down, 4xx, another run holding the lock. Exit 75."""

    exit_code = EX_TEMPFAIL
