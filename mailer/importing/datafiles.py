"""A data file of talks (a Jekyll ``_data/*.yml`` list, a ``talks.json``) into drafts.

The file holds a list of talks, each a mapping read with the keys of :mod:`entries`; or a
mapping whose lists of mappings are the talks (``talks:``, or one list a term), its other keys
named in the report. YAML is composed to nodes first: aliases, tags and deep nesting are
refused, and every value is taken as written (``time: 16:00`` stays "16:00"). Every problem
names the file and line; a bad entry stops the whole import.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from mailer.errors import InputError
from mailer.importing.draft import Draft, given, shorten
from mailer.importing.entries import Entry, Value, apply_entry, as_text
from mailer.paths import MAX_FILE_BYTES, decode_text, display_path, read_regular
from mailer.series.model import Status
from mailer.series.yamlfile import MAX_DEPTH, StrictLoader, YamlProblem


def compose(text: str, where: str, first_line: int = 1) -> yaml.Node | None:
    """The YAML document's node; InputError naming the line when it is not YAML."""
    try:
        return StrictLoader(text).get_single_node()
    except YamlProblem as exc:
        why = f"nested deeper than {MAX_DEPTH} levels (line {exc.line})" \
            if exc.what == "depth" else "aliases and tags are not read here; write the value out"
        raise InputError(f"{where}:{exc.line - 1 + first_line}: not readable as YAML "
                         f"({why})") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line if mark else 0) + first_line
        raise InputError(f"{where}:{line}: not readable as YAML "
                         f"({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{where}:{first_line}: not readable as YAML ({exc})") from None


def plain(node: yaml.Node) -> Value:
    """A node as text, lists and mappings, every scalar as written."""
    if isinstance(node, yaml.MappingNode):
        return {str(k.value): plain(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [plain(item) for item in node.value]
    null = node.tag.endswith(":null") and getattr(node, "style", None) is None
    return "" if null else str(node.value)


def entry_of(node: yaml.MappingNode, source: str, first_line: int = 1) -> Entry:
    """A mapping node as an entry: each key's value and line."""
    values: dict[str, tuple[Value, int]] = {}
    for key, value in node.value:
        values[str(key.value)] = (plain(value), key.start_mark.line + first_line)
    return Entry(source, values)


def _yaml_entries(text: str, where: str, left: list[tuple[int, str]]) -> list[Entry]:
    node = compose(text, where)
    lists = [(None, node)] if isinstance(node, yaml.SequenceNode) else []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(value, yaml.SequenceNode) and value.value and\
                    all(isinstance(item, yaml.MappingNode) for item in value.value):
                lists.append((key, value))
            else:
                left.append((key.start_mark.line + 1, f"{key.value}: {as_text(plain(value))}"))
    if not lists:
        raise InputError(f"{where}:1: not a list of talks (a list of mappings with date:, "
                         "speaker:, title:, ...)")
    entries = []
    for _, sequence in lists:
        for item in sequence.value:
            if not isinstance(item, yaml.MappingNode):
                raise InputError(f"{where}:{item.start_mark.line + 1}: a talk must be a mapping "
                                 "of keys (date:, speaker:, title:, ...)")
            entries.append(entry_of(item, "the entry"))
    return entries


def _json_entries(text: str, where: str, left: list[tuple[int, str]]) -> list[Entry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}: not readable as JSON ({exc.msg})") from None
    if isinstance(data, dict):
        for key, value in data.items():
            if not (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
                left.append((1, f"{key}: {json.dumps(value, ensure_ascii=False)}"))
        data = [item for value in data.values() if isinstance(value, list) for item in value]
    if not isinstance(data, list) or not data:
        raise InputError(f"{where}:1: not a list of talks (a list of objects with \"date\", "
                         "\"speaker\", \"title\", ...)")
    entries: list[Entry] = []
    position = text.index("[") if text.lstrip().startswith("[") else 0
    for item in data:
        if not isinstance(item, dict):
            raise InputError(f"{where}:1: a talk must be an object of keys (\"date\", ...)")
        values: dict[str, tuple[Value, int]] = {}
        for key, value in item.items():
            found = text.find(json.dumps(key), position)
            found = found if found >= 0 else text.find(json.dumps(key, ensure_ascii=False),
                                                       position)
            position = max(position, found)
            values[str(key)] = (_json_plain(value), text.count("\n", 0, max(found, 0)) + 1)
        entries.append(Entry("the entry", values))
    return entries


def _json_plain(value: object) -> Value:
    if isinstance(value, dict):
        return {str(k): _json_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_plain(v) for v in value]
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def read_data(path: Path) -> list[Draft]:
    """Every talk of a YAML or JSON data file; every bad entry is reported at once."""
    where = display_path(path)
    data = read_regular(path, "a data file", inside=None, limit=MAX_FILE_BYTES)
    text = decode_text(data, path, "the data file")
    left: list[tuple[int, str]] = []
    is_json = path.suffix.lower() == ".json"
    entries = (_json_entries if is_json else _yaml_entries)(text, where, left)
    drafts: list[Draft] = []
    problems: list[str] = []
    for entry in entries:
        line = min((line for _, line in entry.values.values()), default=1)
        draft = Draft(where=f"{where}:{line}", folder=path.parent)
        try:
            apply_entry(draft, entry)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if draft.day is None:
            problems.append(f"{where}:{line}: a talk without a date (date: 2024-08-30)")
            continue
        if not draft.speakers and not given(draft.title) and draft.status == Status.CONFIRMED:
            draft.status = Status.OPEN
            draft.add_note(line, "no speaker and no title: imported as an open week")
        drafts.append(draft)
    if problems:
        raise InputError("\n".join(problems))
    for line, text_left in left if drafts else []:
        drafts[0].leave(line, text_left)
        drafts[0].add_note(line, f"not a talk, not imported: {shorten(text_left)}")
    return drafts
