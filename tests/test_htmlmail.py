"""The HTML part subscribers see: a designed one-column mail with the speaker's photo inline,
a join button and add-to-calendar links; the text part and the page keep the seed's form."""

from __future__ import annotations

import io
import re
import urllib.parse
from email.message import EmailMessage
from pathlib import Path

import pytest
from htmlcheck import visible
from PIL import Image
from runners import invoke
from seriesfiles import GOLDEN, TALK, add_photo, edit, write
from smtpserver import Server


def sent(series: Path, server: Server, *args: str) -> EmailMessage:
    result = invoke(series, "send", *args, server=server)
    assert result.code == 0, result.both
    return server.received[-1].message


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def link(html: str, host: str) -> dict[str, list[str]]:
    found = re.search(rf'href="(https://{re.escape(host)}[^"]+)"', html)
    assert found, host
    return urllib.parse.parse_qs(urllib.parse.urlsplit(found.group(1).replace("&amp;", "&"))
                                 .query)


def test_the_seed_talk_with_a_big_photo(series: Path, smtp_server: Server) -> None:
    add_photo(series)
    message = sent(series, smtp_server, "2024-02-22", "--today", "2024-02-20")
    html = html_of(message)
    assert re.search(r"<h1[^>]*>Measuring behavior and modeling the brain with machine "
                     r"learning</h1>", html)
    button = re.search(r'<a class="button" href="([^"]+)"[^>]*>Join on Zoom</a>', html)
    assert button and button.group(1) == ("https://rise.zoom.us/j/208117140?pwd="
                                          "RloxWHBrY2ZReWJ2S0xNUzcxbExwUT09")
    assert link(html, "calendar.google.com")["dates"] == ["20240222T140000Z/20240222T150000Z"]
    outlook = link(html, "outlook.office.com")
    assert (outlook["startdt"], outlook["enddt"]) == (["2024-02-22T14:00:00Z"],
                                                      ["2024-02-22T15:00:00Z"])
    assert "@media (prefers-color-scheme: dark)" in html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<html lang="en">' in html
    assert all('role="presentation"' in table for table in re.findall(r"<table[^>]*>", html))
    preheader = re.search(r'<div class="preheader"[^>]*>([^<]+)</div>', html)
    assert preheader and preheader.group(1) == ("Thursday 22 February 2024, 15:00 CET · "
                                                "Alexander Mathis, EPFL")
    img = re.search(r'<img class="photo" src="cid:([^"]+)"[^>]*alt="([^"]+)"', html)
    assert img and img.group(2) == "Alexander Mathis"
    photo = next(p for p in message.walk() if p.get_content_type() == "image/jpeg")
    assert photo["Content-ID"] == f"<{img.group(1)}>"
    with Image.open(io.BytesIO(photo.get_content())) as shown:
        assert shown.size == (240, 240)
    assert len(photo.get_content()) < 40_000


def test_a_6000_character_abstract_stays_under_gmails_clipping(series: Path,
                                                               smtp_server: Server) -> None:
    abstract = " ".join(["Deep networks learn *representations* of data."] * 130)
    assert len(abstract) >= 6000
    write(series / "seminars" / TALK, f"date: 2024-02-22\nspeaker: A\ntitle: T\n"
                                      f"abstract: |\n  {abstract}\nbio: B\n")
    html = html_of(sent(series, smtp_server, "2024-02-22", "--today", "2024-02-20"))
    assert len(html.encode("utf-8")) < 102 * 1024
    shown = " ".join("".join(visible(html).parts).split())
    assert abstract.replace("*", "") in shown


@pytest.mark.parametrize(("args", "heading"), [
    # A talk without a title is named by its speakers and day, never "TBA".
    (["2024-04-04", "--kind", "reminder", "--today", "2024-04-04"],
     "Today at 16:00: Karsten Kreis, Thursday 4 April 2024"),
    (["2024-03-21", "--kind", "cancellation", "--today", "2024-02-20"],
     "Cancelled: Fredrik Gustafsson, Thursday 21 March 2024"),
])
def test_reminder_and_cancellation_get_the_same_look(series: Path, smtp_server: Server,
                                                     args: list[str], heading: str) -> None:
    edit(series / "seminars" / "2024-03-21-gustafsson.yaml",
         ("affiliation: Karolinska Institutet", "affiliation: Karolinska Institutet\n"
                                                "status: cancelled\nnote: The speaker is ill."))
    html = html_of(sent(series, smtp_server, *args))
    assert '<p class="series"' in html and 'class="card"' in html
    assert re.search(rf"<h1[^>]*>{re.escape(heading)}</h1>", html)
    if "cancellation" in args:
        assert "The speaker is ill." in html and "Join on Zoom" not in html


def test_photo_problems_name_the_file_and_line(series: Path) -> None:
    record = series / "seminars" / TALK
    for photo, says in (("photos/none.jpg", "no such file"),
                        ("../outside.jpg", "is not under the series folder"),
                        ("seminars/series.yaml", "is not a JPEG, PNG, WebP image")):
        write(record, f"date: 2024-02-22\nspeaker: A\nphoto: {photo}\n")
        result = invoke(series, "check")
        assert result.code == 2, photo
        assert f"seminars/{TALK}:3: photo: \"{photo}\"" in result.err and says in result.err
    (series / "photos").mkdir()
    (series / "photos" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a JPEG")
    write(record, "date: 2024-02-22\nspeaker: A\nphoto: photos/broken.jpg\n")
    result = invoke(series, "check")
    assert result.code == 2
    assert "photos/broken.jpg: cannot read the photo" in result.err


def test_the_page_shows_the_photo_and_page_all_writes_a_web_copy(series: Path) -> None:
    add_photo(series)
    page = invoke(series, "page", "2024-02-22").out
    assert "**Speaker:** Alexander Mathis, EPFL\n\n![Alexander Mathis](2024-02-22-mathis.jpg)\n"\
        in page
    out = series / "site"
    assert invoke(series, "page", "--all", "--out", str(out)).code == 0
    with Image.open(out / "2024-02-22-mathis.jpg") as copy:
        assert max(copy.size) == 480
    assert (out / "2024-02-22.md").read_text(encoding="utf-8") == page


def test_the_text_part_and_the_page_keep_the_seeds_form(series: Path, tmp_path: Path) -> None:
    out = tmp_path / "p"
    assert invoke(series, "preview", "2024-02-22", "--out", str(out)).code == 0
    assert (out / "message.txt").read_text(encoding="utf-8") == (
        GOLDEN / "2024-02-22-mathis.txt").read_text(encoding="utf-8")


def test_the_classic_look_is_one_template_away(series: Path, tmp_path: Path) -> None:
    classic = invoke(series, "template", "email-classic.html.j2").out
    write(series / "templates" / "email.html.j2", classic)
    out = tmp_path / "p"
    assert invoke(series, "preview", "2024-02-22", "--out", str(out)).code == 0
    html = (out / "message.html").read_text(encoding="utf-8")
    assert 'class="wrapper"' in html and "Title:</strong>" in html
