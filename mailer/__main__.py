"""Run the command line as ``python -m mailer``."""

from mailer.cli import main

main()
