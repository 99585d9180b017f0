"""The talk's images (social card, meeting backdrop, video thumbnail), S-T-A-B-P, open weeks."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageStat
from runners import invoke
from seriesfiles import TALK, add_photo, edit, make_photo, write
from smtpserver import Server

SIZES = {"social-media": (1200, 630), "meeting-backdrop": (1920, 1080),
         "youtube-thumbnail": (1280, 720)}


def make(series: Path, out: Path, which: str = "2024-02-22") -> dict[str, bytes]:
    result = invoke(series, "images", which, "--out", str(out))
    assert result.code == 0, result.both
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_three_images_of_the_right_sizes_the_same_bytes_each_time(series: Path,
                                                                  tmp_path: Path) -> None:
    add_photo(series)
    first = make(series, tmp_path / "one")
    assert sorted(first) == [f"2024-02-22-{kind}-alexander-mathis.jpg" for kind in
                             ("meeting-backdrop", "social-media", "youtube-thumbnail")]
    for name, data in first.items():
        kind = name.removeprefix("2024-02-22-").removesuffix("-alexander-mathis.jpg")
        path = tmp_path / "one" / name
        with Image.open(path) as image:
            assert image.size == SIZES[kind]
            assert max(ImageStat.Stat(image.convert("L")).stddev) > 20, "the image is blank"
        assert data.startswith(b"\xff\xd8\xff")
    assert make(series, tmp_path / "two") == first


def test_all_three_change_with_the_photo_and_with_the_title(series: Path,
                                                            tmp_path: Path) -> None:
    photo = add_photo(series)
    before = make(series, tmp_path / "before")
    make_photo(photo, shade=60)
    other_photo = make(series, tmp_path / "photo")
    edit(series / "seminars" / TALK, ("title: Measuring", "title: Now measuring"))
    other_title = make(series, tmp_path / "title")
    for name, data in before.items():
        assert other_photo[name] != data, name
        assert other_title[name] != data, name


def test_no_photo_a_300_character_title_and_a_chinese_name(series: Path,
                                                           tmp_path: Path) -> None:
    write(series / "seminars" / TALK,
          "date: 2024-02-22\nspeakers:\n  - {name: 李小龙, affiliation: 北京大学}\n"
          "  - {name: Jonas Åström, affiliation: KTH}\n"
          f"title: \"Ögon, öron och {'maskininlärning ' * 20}\"\n")
    made = make(series, tmp_path / "out")
    assert len(made) == 3
    assert all(name.endswith("-li-xiao-long.jpg") for name in made)
    for name in made:
        with Image.open(tmp_path / "out" / name) as image:
            assert max(ImageStat.Stat(image.convert("L")).stddev) > 20


def test_colours_and_a_logo_from_the_series(series: Path, tmp_path: Path) -> None:
    plain = make(series, tmp_path / "plain")
    logo = make_photo(series / "logo.png", size=300)
    with open(series / "seminars" / "series.yaml", "a", encoding="utf-8") as settings:
        settings.write(f"images:\n  background: \"#003366\"\n  accent: \"#ffcc00\"\n"
                       f"  logo: {logo.name}\n")
    styled = make(series, tmp_path / "styled")
    assert styled.keys() == plain.keys()
    name = next(n for n in styled if "social-media" in n)
    with Image.open(tmp_path / "styled" / name) as image:
        assert image.getpixel((600, 600))[:3] == pytest.approx((0, 51, 102), abs=8)
    assert styled[name] != plain[name]


def test_a_bad_colour_names_the_line(series: Path) -> None:
    with open(series / "seminars" / "series.yaml", "a", encoding="utf-8") as settings:
        settings.write("images:\n  accent: yellowish\n")
    result = invoke(series, "check")
    assert result.code == 2
    assert 'images.accent: "yellowish" is not a colour; write it as #RRGGBB' in result.err


def test_an_open_week_is_listed_and_never_announced(series: Path, smtp_server: Server) -> None:
    record = (series / "seminars" / "2024-03-07-up-for-grabs.yaml").read_text()
    assert "status: open" in record
    assert invoke(series, "check").code == 0
    listed = next(line for line in invoke(series, "list", "--all").out.splitlines()
                  if "up-for-grabs" in line)
    assert "OPEN: Up for grabs" in listed
    assert "**Open**: Up for grabs" in invoke(series, "program").out
    named = invoke(series, "send", "2024-03-07", "--today", "2024-02-20", server=smtp_server)
    assert named.code == 2
    assert "is an open week (no speaker yet); no announcement goes out for it" in named.err
    # The week of 2024-03-07 has only the open one: nothing to announce, the next is named.
    week = invoke(series, "send", "--today", "2024-03-01", server=smtp_server)
    assert "No seminar to announce between 2024-03-01 and 2024-03-07" in week.out
    due = invoke(series, "send", "--due", "--now", "2024-03-06T09:00", server=smtp_server)
    assert due.code == 0 and smtp_server.received == []
    assert invoke(series, "page", "2024-03-07").code == 2
    assert "up-for-grabs" not in invoke(series, "ics").out
    assert invoke(series, "images", "2024-03-07").code == 2


def test_check_names_coming_talks_that_miss_parts(series: Path) -> None:
    write(series / "seminars" / "2099-01-01-future.yaml",
          "date: 2099-01-01\nspeaker: Ada\ntitle: Engines\n")
    result = invoke(series, "check")
    assert result.code == 0, result.both
    assert result.out.splitlines()[1:] == [
        "  2099-01-01-future: still missing abstract, bio, photo; its speakers cannot be asked "
        "(no email: address)"]  # past talks are not named
