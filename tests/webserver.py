"""The web part under test: ``announce serve``'s application under the real waitress server,
started in this process on a free loopback port in a thread, and a real HTTP client
(http.client) that speaks to it."""

from __future__ import annotations

import contextlib
import http.client
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runners import cli_env
from seriesfiles import edit
from smtpserver import Server

from mailer.commands.environment import resolve
from mailer.commands.serve import listen, make_app
from mailer.series.store import Store


@dataclass
class Web:
    """A running web part: its base URL and what it said."""

    base: str
    said: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(urllib.parse.urlsplit(self.base).port or 0)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        """One request over a new connection: status, page, headers."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return (response.status, response.read().decode("utf-8"),
                    {k.lower(): v for k, v in response.getheaders()})
        finally:
            connection.close()

    def post(self, path: str, fields: dict[str, str],
             headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        """A form posted as a browser or a mail client does (urlencoded)."""
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def with_web(root: Path, port: int) -> None:
    """Give the series ``mail.web.base_url`` on ``port`` of loopback (in place of one it
    has)."""
    path = root / "seminars" / "series.yaml"
    url = f"http://127.0.0.1:{port}"
    text = path.read_text(encoding="utf-8")
    if "  web:\n    base_url: " in text:
        path.write_text(re.sub(r"(?m)^    base_url: .*$", f"    base_url: {url}", text),
                        encoding="utf-8")
    else:
        edit(path, ("  smtp:\n", f"  web:\n    base_url: {url}\n  smtp:\n"))


@contextlib.contextmanager
def serving(root: Path, server: Server | None = None, *, base_url: bool = True,
            app: Callable[[Any], Any] = lambda made: made) -> Iterator[Web]:
    """Serve the series' web part on a free port (0) of 127.0.0.1 under waitress, in a
    thread; with ``base_url``, the series' ``mail.web.base_url`` is set to it first.
    ``app`` may wrap the application (a test's own page beside it)."""
    holder: dict[str, Callable[..., Iterable[bytes]]] = {}

    def dispatch(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return holder["app"](environ, start_response)

    running = listen(dispatch, "127.0.0.1", 0)
    web = Web(f"http://127.0.0.1:{running.port}")
    if base_url:
        with_web(root, running.port)
    store = Store(root)
    settings = resolve(root, store.series.mail, cli_env(root, server))
    holder["app"] = app(make_app(settings, store, log=web.said.append))
    thread = threading.Thread(target=running.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield web
    finally:
        running.stop()
        thread.join(10)
