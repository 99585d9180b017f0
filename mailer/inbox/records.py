"""A speaker's answer into their talk's record, edited in place.

ruamel.yaml reads the record as a round trip: its comments, key order, quoting and blank lines
stay as the organiser wrote them, and only the filled keys are added (PyYAML, which reads the
records everywhere else, would drop every comment on writing). A field that has a value is
never overwritten: the difference is reported for the organiser. The new record is read back
by the schema before it replaces the old one, so a reply can never leave a broken record.

YamlMap and photo are one unit: a journal in the state folder names both while they are
written, the photo first, the record replaced last; a run killed in between leaves the
journal, and the next run removes the photo its record does not name
(:func:`mailer.inbox.journal.recover`).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from mailer.errors import InputError
from mailer.inbox.journal import journal_path, staged_path
from mailer.paths import write_atomically
from mailer.series.model import Talk
from mailer.series.schema import load_talk
from mailer.series.store import Store

FIELDS = ("title", "abstract", "bio")


@dataclass
class Filled:
    """What a reply did to a record."""

    filled: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)  # had a value: kept, the reply's reported
    refused: str = ""  # why the photo attached was not used


def _round_trip(text: str) -> object:
    """A round-trip reader and writer that writes lists indented as this record has them."""
    yaml = YAML()  # round trip
    yaml.preserve_quotes = True
    yaml.width = 1 << 16
    if not re.search(r"(?m)^- ", text):  # "speakers:\n  - name:", as announce writes them
        yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _at_placeholders(text: str, values: dict[str, object]) -> tuple[str, set[str]]:
    """Write each value where the record has its commented placeholder (``# title:``, and
    ``# abstract: |`` with its ``#   ...`` lines, as `announce new` writes them)."""
    placed = set()
    for key, value in values.items():
        found = re.search(rf"(?m)^# {key}:[^\n]*\n(?:#   [^\n]*\n)*", text)
        if found is None:
            continue
        yaml = YAML()
        yaml.width = 1 << 16
        out = io.StringIO()
        yaml.dump({key: value}, out)
        text = text[:found.start()] + out.getvalue() + text[found.end():]
        placed.add(key)
    return text, placed


def fill(store: Store, state: Path, talk: Talk, answers: dict[str, str],
         photo: tuple[bytes, str] | None, *, dry_run: bool) -> Filled:
    """Fill the record's missing title, abstract, bio and photo from a reply (the photo
    judged already), as one unit: both old or both new, whatever stops the run."""
    done = Filled()
    path = store.folder / f"{talk.id}.yaml"
    text = path.read_text(encoding="utf-8")
    talk = load_talk(path, talk.id, talk.date, store.series)  # as it is now: a reply before
    # this one in the same run may have filled it
    values: dict[str, object] = {}
    for key in FIELDS:
        answer = answers.get(key)
        if not answer:
            continue
        if getattr(talk, key):
            if " ".join(str(getattr(talk, key)).split()) != " ".join(answer.split()):
                done.differs.append(key)
            continue
        values[key] = LiteralScalarString(answer + "\n") if "\n" in answer or key != "title"\
            else answer
        done.filled.append(key)
    text, placed = _at_placeholders(text, values)
    yaml_rt = _round_trip(text)
    data = yaml_rt.load(text)  # type: ignore[attr-defined]
    for key, value in values.items():
        if key not in placed:
            data[key] = value
    saved = None
    if photo is not None and not talk.photo:
        saved = f"photos/{talk.id}.{photo[1]}"
        if (store.root / saved).exists():
            raise InputError(f"{saved} exists already, and the record does not name it; the "
                             "reply was not applied (move that file away, or name it in the "
                             "record)")
        data["photo"] = saved
        done.filled.append("photo")
    elif photo is not None:
        done.differs.append("photo")
    if dry_run or not done.filled:
        return done
    out = io.StringIO()
    yaml_rt.dump(data, out)  # type: ignore[attr-defined]
    _write_unit(store, state, path, out.getvalue().encode("utf-8"),
                photo=(saved, photo[0]) if saved and photo else None, talk=talk)
    return done


def _write_unit(store: Store, state: Path, path: Path, record: bytes, *,
                photo: tuple[str, bytes] | None, talk: Talk) -> None:
    """Journal, photo, staged record (validated), then the record replaced last."""
    journal = journal_path(state)
    entry = {"record": str(path.relative_to(store.root)), "photo": photo[0] if photo else None}
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(journal, json.dumps(entry).encode())
    staged = staged_path(path)
    try:
        if photo is not None:
            write_atomically(store.root / photo[0], photo[1])
        write_atomically(staged, record)
        load_talk(staged, talk.id, talk.date, store.series)
        staged.replace(path)
    except BaseException:
        staged.unlink(missing_ok=True)
        if photo is not None:
            (store.root / photo[0]).unlink(missing_ok=True)
        raise
    finally:
        journal.unlink(missing_ok=True)
