"""The journal of a reply being written into its record (:mod:`mailer.inbox.records`), and
what the next run does with one a killed run left.

Record and photo are one unit: the journal names both while they are written, the photo
first, the record replaced last. Every run of the inbox calls :func:`recover` first; it
needs no YAML writer, so a run with no reply to apply loads none.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from mailer.paths import display_path
from mailer.series.store import Store

JOURNAL = "inbox-journal.json"  # in the state folder while a reply is being written


def journal_path(state: Path) -> Path:
    """Where the journal of a reply being written is kept."""
    return state / JOURNAL


def recover(store: Store, state: Path) -> list[str]:
    """Finish what a run killed while writing a reply left: a photo its record does not
    name is removed, a half-written record too (the reply is then applied afresh)."""
    journal = journal_path(state)
    try:
        entry = json.loads(journal.read_text(encoding="utf-8"))
        record = store.root / str(entry["record"])
        photo = store.root / str(entry["photo"]) if entry.get("photo") else None
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)
        return [f"{display_path(journal)} was damaged; removed"]
    staged_path(record).unlink(missing_ok=True)
    lines = []
    if photo is not None and photo.exists():
        try:
            named = (yaml.safe_load(record.read_text(encoding="utf-8")) or {}).get("photo")
        except (OSError, yaml.YAMLError, AttributeError):
            named = None
        if named != str(entry["photo"]):
            photo.unlink()
            lines.append(f"removed {entry['photo']}: a run stopped before its record named it")
    journal.unlink(missing_ok=True)
    return lines


def staged_path(record: Path) -> Path:
    """Where a record is written before it replaces the old one."""
    return record.with_name(f".{record.name}.new")
