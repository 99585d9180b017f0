"""The ``announce`` command line: parse options, call one use case, print what it returns.

``app`` holds the global options and the error-to-exit-code mapping; each module beside
it registers the commands of one job. Modules that render or send are imported inside
the commands, so ``announce --help`` and ``--version`` load only Typer.
"""

from mailer.cli import audience, mail, plan, web
from mailer.cli.app import app, main

__all__ = ["app", "audience", "mail", "main", "plan", "web"]
