"""``serve``: the web part (contract §9) under waitress, a production WSGI server.

Waitress is pure Python (nothing to compile, any OS), maintained by the Pylons project, and
serves with a pool of threads: what a page does here is a few SQLite statements and, for a
sign-up, one SMTP session, so threads suit it better than processes (the form's rate limit
then holds for the whole server). It trusts ``X-Forwarded-For`` from a proxy on the same
machine only (nginx, Apache), so the limit per client counts the reader, not the proxy.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from waitress import wasyncore

from mailer.commands.environment import Settings
from mailer.delivery.secret import series_secret
from mailer.series.store import Store
from mailer.web.webapp import WebApp
from mailer.web.webdesk import Desk

THREADS = 4
PROXY = "127.0.0.1"  # a proxy on this machine may say who the client is


def _stderr(line: str) -> None:
    sys.stderr.write(f"announce serve: {line}\n")
    sys.stderr.flush()


def make_app(settings: Settings, store: Store,
             log: Callable[[str], None] = _stderr) -> WebApp:
    """The WSGI application for the series (the secret made if it is not yet)."""
    secret = series_secret(settings.state, create=True)
    assert secret is not None  # noqa: S101 (made above when missing)
    return WebApp(Desk(store, settings.state, settings.mail, secret, log=log))


class Serving:
    """A waitress server listening: ``run()`` serves (in this thread) until ``stop()`` is
    called from another, or until an interrupt; requests in hand then finish."""

    def __init__(self, server: Any, channels: dict[int, Any]) -> None:
        self.server = server
        self.channels = channels
        self._stopping = threading.Event()
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=0.25, use_poll=True, map=self.channels, count=1)
        finally:
            self.server.task_dispatcher.shutdown()
            wasyncore.close_all(self.channels)
            self._stopped.set()

    def stop(self, wait: float = 10.0) -> None:
        """Stop serving, and wait until the server has let go of its connections."""
        self._stopping.set()
        self._stopped.wait(wait)


def listen(app: Callable[..., Iterable[bytes]], host: str, port: int) -> Serving:
    """Bind ``host:port`` (0: any free port) with waitress, ready to ``run``."""
    channels: dict[int, Any] = {}
    server = waitress.create_server(
        app, map=channels, host=host, port=port, threads=THREADS, ident="announce",
        trusted_proxy=PROXY, trusted_proxy_headers={"x-forwarded-for"},
        clear_untrusted_proxy_headers=True, max_request_body_size=64 * 1024)
    return Serving(server, channels)


def serve(settings: Settings, store: Store, host: str, port: int,
          say: Callable[[str], None]) -> None:
    """Serve the web part on ``host:port`` until the process is stopped."""
    serving = listen(make_app(settings, store), host, port)
    where = f"http://{host}:{serving.port}" if ":" not in host else\
        f"http://[{host}]:{serving.port}"
    say(f"serving the web part of {store.series.name} on {where} "
        f"({THREADS} threads; Ctrl-C or SIGTERM stops it)")
    if settings.mail.web:
        say(f"mail.web.base_url: {settings.mail.web} (the mail's links lead there)")
    else:
        say("mail.web.base_url is not set: the mail announce sends does not link here yet")
    try:
        serving.run()
    except KeyboardInterrupt:  # Ctrl-C; SIGTERM arrives as SystemExit (the command line's)
        say("stopped")
