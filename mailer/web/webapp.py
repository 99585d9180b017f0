"""The web part's WSGI application (contract §9), run by ``announce serve`` under waitress.

- ``POST /u/<token>`` with ``List-Unsubscribe=One-Click`` (RFC 8058) unsubscribes at once
  (200); ``GET /u/<token>`` shows a button that does the same, so a link scanner that opens
  every link in a mail unsubscribes nobody.
- ``GET|POST /subscribe`` (and ``/``): the sign-up form (address, zone). It says the same
  whoever the address is (no one learns who is on the list) and is limited per address and
  per client (:mod:`mailer.web.ratelimit`).
- ``GET /c/<token>`` and a ``POST`` to it: confirm a sign-up.
- ``GET|POST /p/<token>``: the subscriber's zone and reminders.

A token that is nobody's is a 404, like any other path. No page loads anything from elsewhere,
runs a script or may be framed; none is cached or sends a Referer (the token is in its URL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs

from mailer.addresses import AddressProblem
from mailer.errors import MailerError
from mailer.web import webpages
from mailer.web.ratelimit import Limiter
from mailer.web.webdesk import Desk, Holder
from mailer.web.webpages import Look

MAX_BODY = 16 * 1024  # a form of an address and a zone; RFC 8058's one line
_TOKEN_PATH = re.compile(r"/([ucp])/([a-z2-7]{20})/?")
_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
]
_STATUS = {200: "200 OK", 400: "400 Bad Request", 404: "404 Not Found",
           405: "405 Method Not Allowed", 413: "413 Content Too Large",
           429: "429 Too Many Requests", 503: "503 Service Unavailable"}

StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Answer:
    """A page and its status."""

    status: int
    body: str
    headers: tuple[tuple[str, str], ...] = ()


class TooLarge(Exception):
    """A request body over :data:`MAX_BODY`."""


def _form(environ: dict[str, Any]) -> dict[str, str]:
    """The posted fields (urlencoded, or multipart as RFC 8058 allows), first value each."""
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    if size > MAX_BODY:
        raise TooLarge
    data = environ["wsgi.input"].read(size) if size > 0 else b""
    kind = str(environ.get("CONTENT_TYPE") or "")
    if kind.lower().startswith("multipart/form-data"):
        parsed: Message = BytesParser().parsebytes(
            f"Content-Type: {kind}\r\n\r\n".encode("latin-1", "replace") + data)
        fields: dict[str, str] = {}
        for part in parsed.walk():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields.setdefault(name, payload.decode("utf-8", "replace").strip())
        return fields
    text = data.decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


class WebApp:
    """The WSGI application: a path and method to what the :class:`Desk` does, and a page."""

    def __init__(self, desk: Desk, *, per_address: Limiter | None = None,
                 per_client: Limiter | None = None) -> None:
        self.desk = desk
        self.look = Look.of(desk.store.series)
        self.per_address = per_address or Limiter(3, 3600)
        self.per_client = per_client or Limiter(10, 3600)

    def __call__(self, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        try:
            answer = self.answer(method, str(environ.get("PATH_INFO") or "/"), environ)
        except TooLarge:
            answer = Answer(413, webpages.plain(self.look, "Too much", "The form sent too much."))
        except MailerError as exc:  # a ledger that cannot be opened now, a bad subscriber file
            self.desk.log(f"could not answer {method} {environ.get('PATH_INFO')}: {exc}")
            answer = Answer(503, webpages.plain(
                self.look, "Not now", "Something on our side is not working. Please try again "
                "later."), (("Retry-After", "300"),))
        body = answer.body.encode("utf-8")
        headers = [*_HEADERS, *answer.headers, ("Content-Length", str(len(body)))]
        if answer.status == 405:
            headers.append(("Allow", "GET, HEAD, POST"))
        start_response(_STATUS[answer.status], headers)
        return [b"" if method == "HEAD" else body]

    def answer(self, method: str, path: str, environ: dict[str, Any]) -> Answer:
        """What ``method`` on ``path`` gives."""
        if method not in ("GET", "HEAD", "POST"):
            return Answer(405, webpages.plain(self.look, "Not here", "Use the form."))
        post = method == "POST"
        if path in ("/", "/subscribe", "/subscribe/"):
            return self.subscribe(_form(environ), environ) if post else\
                Answer(200, webpages.sign_up(self.look))
        found = _TOKEN_PATH.fullmatch(path)
        holder = self.desk.whose(found.group(2)) if found else None
        if found is None or holder is None:
            return Answer(404, webpages.not_here(self.look))
        which = found.group(1)
        form = _form(environ) if post else None
        if which == "u":
            return self.unsubscribe(holder, form)
        if which == "c":
            return self.confirm(holder, post=post)
        return self.preferences(holder, form)

    def unsubscribe(self, holder: Holder, form: dict[str, str] | None) -> Answer:
        """``/u/<token>``: a page with a button; its POST (or a mail client's, RFC 8058)
        unsubscribes at once."""
        if holder.is_list:
            return Answer(200, webpages.list_address(self.look, holder.address))
        if form is None:
            return Answer(200, webpages.leave(self.look, holder.address))
        if form.get("List-Unsubscribe") != "One-Click":
            return Answer(400, webpages.plain(
                self.look, "Not understood", "An unsubscribe sends List-Unsubscribe=One-Click "
                "(RFC 8058); this request did not. Nothing was changed."))
        self.desk.leave(holder)
        return Answer(200, webpages.left(self.look, holder.address))

    def subscribe(self, form: dict[str, str], environ: dict[str, Any]) -> Answer:
        """The sign-up form posted: limited per client and per address."""
        text = form.get("address", "").strip()
        zone = form.get("zone", "").strip() or None
        if zone is not None and zone not in webpages.zone_names():
            zone = None
        client = str(environ.get("REMOTE_ADDR") or "?")
        if not self.per_client.allow(f"client {client}"):
            return self._too_many(self.per_client.wait(f"client {client}"))
        try:
            address = self.desk.sign_up(text, zone) if self.per_address.allow(
                f"address {text.lower()}") else None
        except AddressProblem as why:
            return Answer(400, webpages.sign_up(self.look, address=text, zone=zone,
                                                problem=f"That is not an e-mail address: {why}"))
        if address is None:
            return self._too_many(self.per_address.wait(f"address {text.lower()}"))
        return Answer(200, webpages.asked(self.look, address))

    def _too_many(self, seconds: int) -> Answer:
        minutes = max(1, (seconds + 59) // 60)
        return Answer(429, webpages.plain(
            self.look, "Too many tries", f"Too many sign-ups from here or for this address. "
            f"Please try again in {minutes} minute(s)."), (("Retry-After", str(seconds)),))

    def confirm(self, holder: Holder, *, post: bool) -> Answer:
        """``/c/<token>``: a button that confirms the waiting sign-up."""
        if holder.active:
            return Answer(200, webpages.joined(self.look, holder.address, holder.token))
        if not holder.pending:
            return Answer(200, webpages.nothing_waiting(self.look))
        if not post:
            return Answer(200, webpages.confirm(self.look, holder.address))
        if not self.desk.confirm(holder):
            return Answer(200, webpages.nothing_waiting(self.look))
        return Answer(200, webpages.joined(self.look, holder.address, holder.token))

    def preferences(self, holder: Holder, form: dict[str, str] | None) -> Answer:
        """``/p/<token>``: a subscriber's zone and reminders, shown and set."""
        if not holder.active:
            return Answer(404, webpages.not_here(self.look))
        chosen = holder.preferences
        if form is not None:
            zone = form.get("zone", "").strip() or None
            if zone is not None and zone not in webpages.zone_names():
                return Answer(400, webpages.plain(self.look, "Not understood",
                                                  "That is not a time zone. Nothing was changed."))
            chosen = self.desk.prefer(holder, zone, reminders=form.get("reminders") == "on")
        return Answer(200, webpages.preferences(self.look, holder.address, zone=chosen.zone,
                                                reminders=chosen.reminders, token=holder.token,
                                                saved=form is not None))
