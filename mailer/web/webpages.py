"""The web part's pages (contract §9), styled like the series' mail: its name, the colours of
the designed HTML part (``templates/email.html.j2``: the card, the purple button, the dark
look) and the series' own colours (``images:`` in series.yaml) in the band at the top.

Each page is one column that fits a phone (a viewport of 375 px scrolls only downwards), has
``lang``, a label for every field, and no script. Every value from outside (an address, a zone,
the series' name) is escaped here. Links between pages are relative, so the application
works under any path a proxy gives it (``/seminar/u/...``).
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from zoneinfo import available_timezones

from mailer.series.model import RGB, Series

_CSS = """
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; background: #eef0f4; color: #1f2933;
  font: 16px/1.55 Helvetica, Arial, sans-serif; }
header { background: %(band)s; color: %(band_text)s; padding: 14px 18px; font-size: 13px;
  font-weight: bold; letter-spacing: 1px; text-transform: uppercase; overflow-wrap: anywhere; }
main { max-width: 600px; margin: 20px auto; padding: 0 10px; }
.card { background: #ffffff; border-radius: 10px; padding: 28px 32px; }
h1 { font-size: 25px; line-height: 1.25; color: #102a43; margin: 0 0 16px 0; }
p { margin: 0 0 12px 0; }
a { color: #4c2a85; }
label { display: block; font-weight: bold; margin: 18px 0 6px 0; }
input[type=email], select { display: block; width: 100%%; max-width: 100%%; font: inherit;
  padding: 10px 12px; border: 1px solid #7b8794; border-radius: 6px; background: #ffffff;
  color: inherit; }
.check { display: flex; gap: 10px; align-items: flex-start; margin: 18px 0 0 0; }
.check label { margin: 0; font-weight: normal; }
.check input { width: 22px; height: 22px; margin: 2px 0 0 0; flex: none; }
button { margin: 22px 0 6px 0; background: #4c2a85; color: #ffffff; font: inherit;
  font-weight: bold; border: 0; border-radius: 6px; padding: 12px 22px; min-height: 44px;
  cursor: pointer; }
a:focus-visible, input:focus-visible, select:focus-visible, button:focus-visible {
  outline: 3px solid %(accent)s; outline-offset: 2px; }
.mute { color: #52606d; font-size: 14px; }
select + .mute { margin-top: 6px; }
.problem { color: #9b1c1c; font-weight: bold; }
.who { overflow-wrap: anywhere; font-weight: bold; }
footer { font-size: 12px; color: #616e7c; text-align: center; padding: 8px 18px 24px 18px;
  overflow-wrap: anywhere; }
footer a { color: #616e7c; }
@media (max-width: 620px) {
  main { margin: 12px auto; }
  .card { padding: 22px 18px; }
  h1 { font-size: 22px; }
}
@media (prefers-color-scheme: dark) {
  body { background: #0b1220; color: #e4e7eb; }
  .card { background: #1a2332; }
  h1 { color: #ffffff; }
  a { color: #c7b6f2; }
  .mute, footer, footer a { color: #9aa5b1; }
  .problem { color: #ffb4b4; }
  input[type=email], select { background: #0b1220; color: #e4e7eb; border-color: #7b8794; }
  button { background: #7c5cc4; }
}
"""


def _hex(colour: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


@dataclass(frozen=True)
class Look:
    """What every page shares: the series' name, zone, website and colours."""

    name: str
    zone: str  # the series' time zone
    website: str | None
    band: str
    band_text: str
    accent: str

    @classmethod
    def of(cls, series: Series) -> Look:
        return cls(series.name, series.timezone, series.website, _hex(series.images.background),
                   _hex(series.images.text), _hex(series.images.accent))


def esc(text: str) -> str:
    """``text`` as HTML text or an attribute value."""
    return html.escape(text, quote=True)


def page(look: Look, title: str, body: str) -> str:
    """A whole page: ``body`` (HTML made here) in the series' card."""
    css = _CSS % {"band": look.band, "band_text": look.band_text, "accent": look.accent}
    site = (f'<footer><a href="{esc(look.website)}">{esc(look.website)}</a></footer>'
            if look.website else "")
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="color-scheme" content="light dark">\n'
            '<meta name="robots" content="noindex, nofollow">\n'
            f"<title>{esc(title)} · {esc(look.name)}</title>\n<style>{css}</style>\n"
            f"</head>\n<body>\n<header>{esc(look.name)}</header>\n<main>\n"
            f'<div class="card">\n<h1>{esc(title)}</h1>\n{body}\n</div>\n</main>\n{site}\n'
            "</body>\n</html>\n")


@functools.cache
def zone_names() -> tuple[str, ...]:
    """The time zones a reader may choose: every ``Area/City`` of the zone database, and UTC."""
    skip = ("Etc/", "SystemV/", "posix/", "right/", "US/", "Canada/", "Brazil/", "Mexico/",
            "Chile/")
    return ("UTC", *sorted(z for z in available_timezones()
                           if "/" in z and not z.startswith(skip)))


def _zones(look: Look, chosen: str | None) -> str:
    options = [f'<option value="">The seminar&#x27;s: {esc(look.zone)}</option>']
    options += [f'<option value="{esc(z)}"{" selected" if z == chosen else ""}>'
                f"{esc(z.replace('_', ' '))}</option>" for z in zone_names()]
    return (f'<select id="zone" name="zone" aria-describedby="zone-hint">{"".join(options)}'
            "</select>\n<p class=\"mute\" id=\"zone-hint\">The mail then shows each talk's time "
            "in your zone too, beside the seminar's.</p>")


def _problem(text: str | None) -> str:
    return f'<p class="problem" role="alert" id="problem">{esc(text)}</p>\n' if text else ""


def sign_up(look: Look, *, address: str = "", zone: str | None = None,
            problem: str | None = None) -> str:
    """The sign-up form: an address and, if they like, a time zone."""
    invalid = ' aria-invalid="true" aria-describedby="problem"' if problem else ""
    return page(look, "Join the mailing list", (
        f"<p>The {esc(look.name)} seminar's announcements, reminders and changes, by mail.</p>\n"
        f"{_problem(problem)}<form method=\"post\">\n"
        '<label for="address">Your e-mail address</label>\n'
        f'<input id="address" name="address" type="email" autocomplete="email" required '
        f'maxlength="254" value="{esc(address)}"{invalid}>\n'
        '<label for="zone">Your time zone (if you like)</label>\n'
        f"{_zones(look, zone)}\n"
        '<button type="submit">Sign up</button>\n</form>\n'
        '<p class="mute">You get one mail asking you to confirm; nothing happens until you do. '
        "Every mail says how to leave.</p>"))


def asked(look: Look, address: str) -> str:
    """After the sign-up form: look for the mail (said the same whoever the address is)."""
    return page(look, "Check your mail", (
        f'<p>If <span class="who">{esc(address)}</span> can join, a mail asking to confirm is '
        "on its way (one a day at most). Open the link in it, or answer it, and you are on "
        "the list.</p>\n<p class=\"mute\">Nothing changes until you confirm.</p>"))


def leave(look: Look, address: str) -> str:
    """``GET /u/<token>``: a button, so that a link scanner unsubscribes nobody."""
    return page(look, "Leave the mailing list?", (
        f'<p><span class="who">{esc(address)}</span> will get no more mail from the '
        f"{esc(look.name)} seminar.</p>\n<form method=\"post\">\n"
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">\n'
        '<button type="submit">Unsubscribe</button>\n</form>'))


def left(look: Look, address: str) -> str:
    """After an unsubscribe: done, and how to come back."""
    return page(look, "You are unsubscribed", (
        f'<p>No more mail from the {esc(look.name)} seminar will reach '
        f'<span class="who">{esc(address)}</span>.</p>\n'
        '<p>Changed your mind? <a href="../subscribe">Sign up again</a>.</p>'))


def list_address(look: Look, address: str) -> str:
    """A token of the series' own list address: its members leave at the list itself."""
    return page(look, "This is the list's own address", (
        f'<p><span class="who">{esc(address)}</span> is a mailing list: each of its members '
        "leaves at the list itself. Nothing was changed here.</p>"))


def confirm(look: Look, address: str) -> str:
    """``GET /c/<token>``: confirm a sign-up with a button."""
    return page(look, "Confirm your sign-up", (
        f'<p>Add <span class="who">{esc(address)}</span> to the mailing list of the '
        f"{esc(look.name)} seminar?</p>\n<form method=\"post\">\n"
        '<button type="submit">Yes, add me</button>\n</form>\n'
        '<p class="mute">If you did not ask for this, close this page: nothing changes.</p>'))


def joined(look: Look, address: str, token: str) -> str:
    """After a confirmation, or for who is on the list already."""
    return page(look, "You are on the list", (
        f'<p><span class="who">{esc(address)}</span> gets the {esc(look.name)} seminar\'s '
        "announcements, reminders and changes.</p>\n"
        f'<p><a href="../p/{esc(token)}">Choose your time zone and reminders</a>.</p>'))


def nothing_waiting(look: Look) -> str:
    """A confirmation link whose sign-up is gone (left, erased) or was never made."""
    return page(look, "No sign-up waits for this link", (
        '<p>Nothing waits for a confirmation here. <a href="../subscribe">Sign up</a> to '
        "get a new link.</p>"))


def preferences(look: Look, address: str, *, zone: str | None, reminders: bool,
                token: str, saved: bool = False) -> str:
    """``GET|POST /p/<token>``: the subscriber's zone and reminders."""
    done = '<p role="status"><strong>Saved.</strong></p>\n' if saved else ""
    checked = " checked" if reminders else ""
    chosen = None if zone == look.zone else zone
    return page(look, "Your preferences", (
        f'{done}<p>For <span class="who">{esc(address)}</span>.</p>\n'
        '<form method="post">\n<input type="hidden" name="form" value="preferences">\n'
        '<label for="zone">Your time zone</label>\n'
        f"{_zones(look, chosen)}\n"
        f'<div class="check"><input type="checkbox" id="reminders" name="reminders" '
        f'value="on"{checked}>\n<label for="reminders">A reminder on the day of each talk'
        "</label></div>\n"
        '<button type="submit">Save</button>\n</form>\n'
        f'<p class="mute"><a href="../u/{esc(token)}">Leave the mailing list</a></p>'))


def not_here(look: Look) -> str:
    """A wrong or unknown token, or a path this application does not have."""
    return page(look, "Nothing here", (
        "<p>This link is not known here. If it came in a mail from the seminar, copy it "
        "whole.</p>"))


def plain(look: Look, title: str, text: str) -> str:
    """A page that says one thing (a limit reached, a bad request, a fault)."""
    return page(look, title, f"<p>{esc(text)}</p>")
