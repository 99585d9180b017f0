"""The pictures in the docs are made here, by headless Chromium, from the bundled example.

- ``docs/_static/mail.png``: the announcement of 2024-02-22 (``preview``'s HTML part) in a
  desktop window 800 CSS pixels wide, the top of it;
- ``docs/_static/page.png``: the web part's sign-up page (``announce serve``'s ``/subscribe``)
  on a phone 375 CSS pixels wide, at twice its pixels, as a phone shows it.

Each run renders both and compares each render with the committed picture: the same size, and,
scaled down to a quarter, the same look within a small tolerance (anti-aliasing may differ by a
shade; a word or a line moved does not pass). A change to the mail or the page fails here until
the pictures are made anew with ``ANNOUNCE_UPDATE_SCREENSHOTS=1``, which writes the renders over
the committed ones. They are made on the machine CI runs on (Debian's Chromium and fonts); a
machine with other fonts renders other pictures, and says so here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from browser import Chromium
from outside import require_tool
from PIL import Image, ImageChops, ImageStat
from runners import invoke
from seriesfiles import REPO
from smtpserver import Server
from webserver import serving

STATIC = REPO / "docs" / "_static"
MAIL = (800, 1000)  # CSS pixels, at one device pixel each
PAGE = (375, 740)  # CSS pixels, at two device pixels each
# The mean difference of two renders, scaled down to a quarter, on a 0-255 grey scale: a
# render of the same page stays under it; a title left out (about 2) or a layout moved does not.
TOLERANCE = 0.5


def _keep(render: Path, name: str) -> None:
    """Write the render into the docs (when asked to), or check the committed one is it."""
    committed = STATIC / name
    if os.environ.get("ANNOUNCE_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(render, committed)
        return
    assert committed.is_file(), (f"{committed.relative_to(REPO)} is missing: make it with "
                                 "ANNOUNCE_UPDATE_SCREENSHOTS=1")
    with Image.open(render) as made, Image.open(committed) as kept:
        assert kept.format == "PNG"
        assert kept.size == made.size, f"{name}: {kept.size}, but the test renders {made.size}"
        small = (made.width // 4, made.height // 4)
        a = made.convert("L").resize(small)
        b = kept.convert("L").resize(small)
        difference = ImageStat.Stat(ImageChops.difference(a, b)).mean[0]
    assert difference < TOLERANCE, (
        f"{name} is not what the test renders (mean difference {difference:.1f}); if the change "
        "is meant, make the pictures anew with ANNOUNCE_UPDATE_SCREENSHOTS=1")


def _drawn(path: Path, size: tuple[int, int]) -> None:
    """A picture of the expected size with something on it."""
    with Image.open(path) as image:
        assert image.size == size
        colours = image.convert("RGB").getcolors(image.width * image.height) or []
    assert len(colours) > 50, "a blank picture"


@pytest.mark.integration
def test_the_mail_picture_is_the_bundled_examples_announcement(series: Path,
                                                              tmp_path: Path) -> None:
    tool = require_tool("chromium")
    out = tmp_path / "preview"
    result = invoke(series, "preview", "2024-02-22", "--out", str(out))
    assert result.code == 0, result.both
    render = tmp_path / "mail.png"
    with Chromium(tool, tmp_path / "profile") as browser:
        tab = browser.tab(MAIL[0], MAIL[1], scale=1, mobile=False)
        browser.send("Emulation.setScrollbarsHidden", {"hidden": True}, tab.session)
        tab.open((out / "message.html").as_uri())
        assert "Measuring behavior" in tab.value("document.body.textContent")
        tab.screenshot(render)
    _drawn(render, MAIL)
    _keep(render, "mail.png")


@pytest.mark.integration
def test_the_page_picture_is_the_sign_up_page_on_a_phone(series: Path, smtp_server: Server,
                                                        tmp_path: Path) -> None:
    tool = require_tool("chromium")
    render = tmp_path / "page.png"
    with serving(series, smtp_server) as web, Chromium(tool, tmp_path / "profile") as browser:
        tab = browser.tab(PAGE[0], PAGE[1])
        tab.open(f"{web.base}/subscribe")
        assert tab.value("document.querySelector('h1').textContent") == "Join the mailing list"
        tab.screenshot(render)
    _drawn(render, (PAGE[0] * 2, PAGE[1] * 2))
    _keep(render, "page.png")


def test_the_docs_show_both_pictures() -> None:
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    assert "_static/mail.png" in index and "_static/page.png" in index
