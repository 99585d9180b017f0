"""A speaker's answer into their talk's record, edited in place.

ruamel.yaml reads the record as a round trip: its comments, key order, quoting and blank lines
stay as the organiser wrote them, and only the filled keys are added (PyYAML, which reads the
records everywhere else, would drop every comment on writing). A field that has a value is
never overwritten: the difference is reported for the organiser. The new record is read back
by the schema before it replaces the old one, so a reply can never leave a broken record.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from mailer.errors import InputError
from mailer.paths import IMAGE_FORMATS, MAX_IMAGE_BYTES, image_format, write_atomically
from mailer.series.model import Seminar
from mailer.series.schema import load_seminar
from mailer.series.store import Store

FIELDS = ("title", "abstract", "bio")


@dataclass
class Filled:
    """What a reply did to a record."""

    filled: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)  # had a value: kept, the reply's reported


def _round_trip(text: str) -> object:
    """A round-trip reader and writer that writes lists indented as this record has them."""
    import re

    from ruamel.yaml import YAML

    yaml = YAML()  # round trip
    yaml.preserve_quotes = True
    yaml.width = 1 << 16
    if not re.search(r"(?m)^- ", text):  # "speakers:\n  - name:", as announce writes them
        yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _photo(store: Store, seminar: Seminar, photo: tuple[bytes, str]) -> str:
    """Save the reply's image as ``photos/<id>.<ext>``; check it as every photo is checked."""
    data, extension = photo
    if len(data) > MAX_IMAGE_BYTES or image_format(data[:16]) is None:
        raise InputError(f"the photo attached is not a {', '.join(IMAGE_FORMATS)} image "
                         "announce can use")
    relative = f"photos/{seminar.id}.{extension}"
    target = store.root / relative
    if target.exists():
        raise InputError(f"{relative} exists already; the photo attached was not saved")
    write_atomically(target, data)
    return relative


def fill(store: Store, seminar: Seminar, answers: dict[str, str],
         photo: tuple[bytes, str] | None, *, dry_run: bool) -> Filled:
    """Fill the record's missing title, abstract, bio and photo from a reply."""
    from ruamel.yaml.scalarstring import LiteralScalarString

    done = Filled()
    path = store.folder / f"{seminar.id}.yaml"
    text = path.read_text(encoding="utf-8")
    yaml = _round_trip(text)
    data = yaml.load(text)  # type: ignore[attr-defined]
    for key in FIELDS:
        answer = answers.get(key)
        if not answer:
            continue
        if getattr(seminar, key):
            if " ".join(str(getattr(seminar, key)).split()) != " ".join(answer.split()):
                done.differs.append(key)
            continue
        data[key] = LiteralScalarString(answer + "\n") if "\n" in answer or key != "title" \
            else answer
        done.filled.append(key)
    saved = None
    if photo is not None and not seminar.photo:
        if not dry_run:
            saved = _photo(store, seminar, photo)
            data["photo"] = saved
        done.filled.append("photo")
    elif photo is not None:
        done.differs.append("photo")
    if dry_run or not done.filled:
        return done
    out = io.StringIO()
    yaml.dump(data, out)  # type: ignore[attr-defined]
    write_atomically(path, out.getvalue().encode("utf-8"))
    try:
        load_seminar(path, seminar.id, seminar.date, store.series)
    except InputError:
        write_atomically(path, text.encode("utf-8"))
        if saved:
            (store.root / saved).unlink(missing_ok=True)
        raise
    return done
