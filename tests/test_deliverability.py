"""Proven by real mail software: SpamAssassin, tidy, mblaze and Chromium read our message.

These tools come from Debian's packages, installed by .ci/run. Locally each test skips with
the reason when its tool is absent; under CI a missing tool is a failure.
"""

from __future__ import annotations

import html as html_module
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from outside import require_tool
from PIL import Image
from runners import invoke
from seriesfiles import REPO, add_photo, edit, use_subscriber_file, write
from smtpserver import Server

ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture
def preview(series: Path, tmp_path: Path) -> Path:
    """The bundled example's announcement with a big speaker photo, as `preview --out` writes
    it (the HTML's cid: image is written beside it, so a browser shows it)."""
    add_photo(series)
    out = tmp_path / "preview"
    result = invoke(series, "preview", "2024-02-22", "--out", str(out))
    assert result.code == 0, result.both
    return out


def test_preview_eml_is_what_send_hands_over(series: Path, tmp_path: Path,
                                             smtp_server: Server) -> None:
    out = tmp_path / "p"
    assert invoke(series, "preview", "2024-02-22", "--out", str(out)).code == 0
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    preview = (out / "message.eml").read_bytes()
    sent = smtp_server.received[0].data
    assert preview.startswith(b"To: lm-seminar-list@example.org\r\nMessage-ID: <")
    # The same bytes but for the headers that name the moment: Message-ID, Date, the
    # calendar's DTSTAMP, and the MIME boundaries the email package draws at random.
    moment = re.compile(rb"(Message-ID: <[^>]+>|Date: [^\r]+|DTSTAMP:\w+|={15}\d+==)")
    assert moment.sub(b"", preview) == moment.sub(b"", sent)


@pytest.mark.integration
def test_spamassassin_local_rules_score_at_most_0_1(preview: Path, tmp_path: Path) -> None:
    spamassassin = require_tool("spamassassin")
    home = tmp_path / "sa-home"
    home.mkdir()
    done = subprocess.run(
        [spamassassin, "-t", "-L", "--cf=use_bayes 0", "--cf=bayes_auto_learn 0",
         "--cf=use_auto_whitelist 0", "-p", str(home / "prefs")],
        input=(preview / "message.eml").read_bytes(), capture_output=True, timeout=120,
        check=False, env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    report = done.stdout.decode("utf-8", "replace")
    match = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", report, re.MULTILINE)
    assert match, report[-2000:] + done.stderr.decode()
    details = report.split("Content analysis details:", 1)[-1].split("\n\n", 2)
    print("SpamAssassin rules that fired:", details[1] if len(details) > 1 else report[-800:])
    assert float(match[1]) <= 0.1


@pytest.mark.integration
def test_tidy_finds_no_html_errors(preview: Path) -> None:
    tidy = require_tool("tidy")
    done = subprocess.run([tidy, "-e", "-q", str(preview / "message.html")],
                          capture_output=True, text=True, timeout=60, check=False)
    print(done.stderr)
    assert done.returncode in (0, 1), done.stderr  # 2 means errors; 1 only warnings
    assert "Error:" not in done.stderr


@pytest.mark.integration
def test_mblaze_sees_text_html_and_calendar(preview: Path) -> None:
    mshow = require_tool("mshow")
    done = subprocess.run([mshow, "-t", str(preview / "message.eml")], capture_output=True,
                          text=True, timeout=60, check=True)
    tree = done.stdout
    for part in ("multipart/alternative", "text/plain", "text/html", "text/calendar"):
        assert part in tree, tree


CHECK = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  window.parent.document.body.setAttribute("data-check", JSON.stringify({
    scroll: document.documentElement.scrollWidth, width: window.innerWidth,
    images: images.length,
    loaded: images.every(function (i) { return i.complete && i.naturalWidth > 0; })}));
});
</script>"""


def chromium(tool: str, page: Path, width: int, profile: Path, *extra: str) -> str:
    done = subprocess.run(
        [tool, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
         f"--window-size={width},1600", "--virtual-time-budget=5000", *extra,
         page.resolve().as_uri()], capture_output=True, text=True, timeout=120, check=False)
    return done.stdout


def measured_at(tool: str, html: str, width: int, folder: Path) -> dict[str, Any]:
    """Lay ``html`` out in an iframe exactly ``width`` CSS pixels wide and measure it there.

    Headless Chromium will not make a window narrower than 500 px, so a phone's width is
    the iframe's; the frame is ``srcdoc`` (same origin), so it can report to the page.
    """
    inner = html.replace("</body>", CHECK + "</body>")
    host = folder / f"host-{width}.html"
    host.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe style="width:{width}px;height:1600px;border:0" '
        f'srcdoc="{html_module.escape(inner, quote=True)}"></iframe></body></html>',
        encoding="utf-8")
    dom = chromium(tool, host, 1000, folder / "profile", "--dump-dom")
    found = re.search(r'data-check="([^"]+)"', dom)
    assert found, dom[-2000:]
    check: dict[str, Any] = json.loads(html_module.unescape(found.group(1)))
    assert check["width"] == width, f"measured at {check['width']} px, not {width}"
    return check


@pytest.mark.integration
@pytest.mark.parametrize("width", [320, 375, 800])
def test_chromium_no_sideways_scroll_at_phone_and_desktop_width(
        preview: Path, tmp_path: Path, width: int) -> None:
    tool = require_tool("chromium")
    html = (preview / "message.html").read_text(encoding="utf-8")
    photo = next(preview.glob("photo.*"))  # the srcdoc frame finds files by absolute URL
    html = html.replace(f'src="{photo.name}"', f'src="{photo.resolve().as_uri()}"')
    check = measured_at(tool, html, width, tmp_path)
    assert check["scroll"] <= check["width"], f"scrolls sideways at {width} px: {check}"
    assert check["images"] == 1 and check["loaded"], check


@pytest.mark.integration
def test_the_width_check_sees_a_block_too_wide_for_a_phone(tmp_path: Path) -> None:
    tool = require_tool("chromium")
    html = '<html><body style="margin:0"><div style="width:450px">wide</div></body></html>'
    check = measured_at(tool, html, 375, tmp_path)
    assert check["scroll"] > check["width"]


# The page's and the card's backgrounds in each look (templates/email.html.j2: the light rules,
# and those under @media (prefers-color-scheme: dark)).
BACKGROUNDS = {"light": {(0xEE, 0xF0, 0xF4), (0xFF, 0xFF, 0xFF)},
               "dark": {(0x0B, 0x12, 0x20), (0x1A, 0x23, 0x32)}}


@pytest.mark.integration
def test_chromium_screenshots_light_and_dark_at_800_px(preview: Path, tmp_path: Path) -> None:
    tool = require_tool("chromium")
    html = (preview / "message.html").read_text(encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    dark = preview / "dark.html"
    dark.write_text(html.replace("@media (prefers-color-scheme: dark)", "@media all"),
                    encoding="utf-8")
    for look, page in (("light", preview / "message.html"), ("dark", dark)):
        shot = ARTIFACTS / f"2024-02-22-mathis-800px-{look}.png"
        shot.unlink(missing_ok=True)
        chromium(tool, page, 800, tmp_path / "profile", f"--screenshot={shot}")
        assert shot.is_file(), "Chromium wrote no screenshot"
        with Image.open(shot) as image:
            assert image.width == 800
            pixels = image.width * image.height
            colours = {colour: count for count, colour in image.convert("RGB").getcolors(pixels)}
            histogram = image.convert("L").histogram()
        # Most of the shot is the look's own page and card: in light mode no dark rule
        # applies, and in dark mode every background is the dark one.
        own = sum(colours.get(colour, 0) for colour in BACKGROUNDS[look]) / pixels
        assert own > 0.75, (look, own, sorted(colours.items(), key=lambda c: -c[1])[:5])
        # The text is drawn in contrast to it: dark letters on light, light ones on dark.
        contrast = sum(histogram[:128] if look == "light" else histogram[128:]) / pixels
        assert 0.005 < contrast < 0.2, (look, contrast)


def test_a_shared_https_unsubscribe_gets_no_one_click_post(series: Path, tmp_path: Path) -> None:
    """RFC 8058 allows List-Unsubscribe-Post only with a URI that names its recipient; one URL
    for everyone would let any click take anyone off."""
    edit(series / "seminars" / "series.yaml",
         ("mailto:lm-seminar-list-leave@example.org", "https://lists.example.org/leave?l=lm"))
    out = tmp_path / "p"
    assert invoke(series, "preview", "2024-02-22", "--out", str(out)).code == 0
    eml = (out / "message.eml").read_text()
    assert "List-Unsubscribe: <https://lists.example.org/leave?l=lm>" in eml
    assert "List-Unsubscribe-Post" not in eml
    assert "Unsubscribe: https://lists.example.org/leave?l=lm" in (out / "message.txt").read_text()


def test_no_unsubscribe_no_header_no_line(series: Path, tmp_path: Path) -> None:
    edit(series / "seminars" / "series.yaml",
         ("  unsubscribe: mailto:lm-seminar-list-leave@example.org\n", ""))
    out = tmp_path / "p"
    assert invoke(series, "preview", "2024-02-22", "--out", str(out)).code == 0
    eml = (out / "message.eml").read_text()
    assert "List-Unsubscribe" not in eml
    assert "Unsubscribe" not in (out / "message.txt").read_text()


def test_precedence_bulk_only_when_we_expand_the_list(series: Path, tmp_path: Path) -> None:
    out = tmp_path / "p"
    assert invoke(series, "preview", "2024-02-22", "--out", str(out)).code == 0
    assert "Precedence:" not in (out / "message.eml").read_text()
    write(series / "subscribers.txt", "a@example.org\n")
    use_subscriber_file(series, "subscribers.txt")
    assert invoke(series, "preview", "2024-02-22", "--out", str(out)).code == 0
    eml = (out / "message.eml").read_text()
    assert "Precedence: bulk" in eml
    assert "Auto-Submitted" not in eml


def test_every_line_within_78_even_with_long_fields(series: Path, tmp_path: Path) -> None:
    write(series / "seminars" / "2024-02-22-mathis.yaml",
          "date: 2024-02-22\nspeaker: " + "Maximilian " * 12 + "\ntitle: " + "Lång " * 40
          + "\nabstract: " + "word " * 400 + "\n")
    out = tmp_path / "p"
    assert invoke(series, "preview", "2024-02-22", "--out", str(out)).code == 0
    lines = (out / "message.eml").read_bytes().split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
