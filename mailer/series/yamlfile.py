"""Line-aware YAML reading: each key's line, typed getters, and problems collected together.

A file is composed to nodes (never constructed blindly): aliases and deep nesting are
refused before anything is built, repeated keys are errors, and text is taken exactly
as written (``title: no`` stays "no", ``time: 16:00`` stays "16:00"). Every problem
reads ``file:line: key: what was expected``. This module knows YAML, not seminars.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

import yaml

from mailer.errors import InputError
from mailer.paths import MAX_FILE_BYTES, decode_text, display_path, read_regular
from mailer.text import character_problem

MAX_DEPTH = 16  # the deepest real structure is series.yaml's mail.smtp (3 levels)
_NULL_TAG = "tag:yaml.org,2002:null"
_FOLDED_BREAK = re.compile("[\x85\u2028\u2029]")  # line breaks to YAML, invisible to people


class YamlProblem(Exception):
    """What :class:`StrictLoader` refuses: an alias, a tag or nesting too deep (``what``), on
    ``line`` of the text it reads."""

    def __init__(self, line: int, message: str, what: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.what = what  # alias | tag | depth


class StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases, tags and deep nesting before building anything."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem(line, f"YAML aliases (*{event.anchor}) are not allowed in these "
                                    "files", "alias")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            raise YamlProblem(line, f"YAML tags ({tag}) are not allowed in these files; write "
                                    "the value as plain text (quote it if it starts with !)",
                              "tag")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlProblem(line, f"nested deeper than {MAX_DEPTH} levels", "depth")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def kind_of(node: yaml.Node) -> str:
    """Describe a node for an error message: a mapping, a list, or its text."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{node.value!r}"


def _comment_after(node: yaml.ScalarNode) -> bool:
    """Whether a comment follows a plain value on its last line (YAML drops it)."""
    mark = node.end_mark
    buffer = getattr(mark, "buffer", None)
    if not isinstance(buffer, str):
        return False
    end = buffer.find("\n", mark.index)
    return buffer[mark.index: end if end >= 0 else len(buffer)].lstrip().startswith("#")


def line_of(node: yaml.Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


# The years a talk's date may have: every date announce reckons from one (a week on, the
# talk's local time in UTC) stays far inside what Python's dates can hold.
FIRST_YEAR, LAST_YEAR = 1900, 2200


def out_of_range(day: date) -> str | None:
    """Why a date is outside the years a talk may have, or None."""
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return f"is not in the years {FIRST_YEAR} to {LAST_YEAR}"


def parse_date(raw: str, report: Callable[[str], None]) -> date | None:
    """Return a ``YYYY-MM-DD`` date in the years 1900 to 2200, or report why it is not one."""
    try:
        digits = raw.replace("-", "")
        if len(raw) == 10 and raw[4] == raw[7] == "-" and digits.isascii() and digits.isdigit():
            day = date.fromisoformat(raw)
            why = out_of_range(day)
            if why is None:
                return day
            report(f'"{raw}" {why}')
            return None
    except ValueError as exc:
        report(f'"{raw}" is not a valid date ({exc})')
        return None
    report(f'"{raw}" is not a date (YYYY-MM-DD)')
    return None


def parse_clock(raw: str) -> time | None:
    """Return a time of day written ``H:MM`` or ``HH:MM``, or None."""
    hours, colon, minutes = raw.strip().partition(":")
    if (colon and raw.isascii() and hours.isdigit() and minutes.isdigit() and len(hours) <= 2
            and len(minutes) == 2 and int(hours) < 24 and int(minutes) < 60):
        return time(int(hours), int(minutes))
    return None


@dataclass
class YamlMap:
    """A YAML mapping with the line of every key; collects the problems found in it."""

    path: Path
    lines: dict[str, int]
    nodes: dict[str, yaml.Node]
    loader: StrictLoader
    prefix: str = ""
    problems: list[str] = field(default_factory=list)
    line: int = 1

    @property
    def where(self) -> str:
        """The file as shown in messages."""
        return display_path(self.path)

    def report(self, key: str, message: str, line: int | None = None) -> None:
        """Note a problem with ``key``."""
        at = self.lines.get(key, self.line) if line is None else line
        self.problems.append(f"{self.where}:{at}: {self.prefix}{key}: {message}")

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        """Report every key that is not in ``allowed``, with a suggestion."""
        for key in self.nodes:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f'; did you mean "{close[0]}"?' if close else (
                    "; known keys: " + ", ".join(allowed))
                node = self.nodes[key]
                if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and\
                        not close:
                    hint = ("; it has no value, so it may be the end of the value before it, "
                            "cut at a comma: inside { } a comma starts a new key, so quote a "
                            'value with a comma in it (email: "dana@uni,test")')
                self.report(key, f"unknown key{hint}")

    def words(self, key: str, *, required: bool = False,
              single_line: bool = False) -> str | None:
        """Return the text of ``key``, a field of the author's words (a title, a name, an
        abstract): refused where YAML would cut it at `` #`` (a comment), so that
        ``title: Why #1 matters`` never goes out as "Why"."""
        node = self.nodes.get(key)
        if isinstance(node, yaml.ScalarNode) and node.style is None and _comment_after(node):
            self.report(key, f'"{node.value} #..." is cut at " #", which YAML reads as the '
                             "start of a comment; put the whole value in quotes "
                             f"({key}: \"...\")")
            return None
        return self.text(key, required=required, single_line=single_line)

    def text(self, key: str, *, required: bool = False, single_line: bool = False) -> str | None:
        """Return the text of ``key`` exactly as written (YAML does not reinterpret it)."""
        node = self.nodes.get(key)
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG
                            and node.style is None):
            if required:
                self.report(key, "is required", self.line if node is None else None)
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.report(key, f"expected text, found {kind_of(node)}")
            return None
        value = str(node.value)
        if node.style in ("|", ">"):
            value = value.rstrip("\n")
        problem = character_problem(value, single_line=single_line)
        if problem is not None:
            self.report(key, f"{ascii(value) if len(value) < 80 else 'the text'} {problem}")
            return None
        if required and not value.strip():
            self.report(key, "is empty")
            return None
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        """Return a whole number in ``low..high``, or ``default`` when absent."""
        raw = self.text(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.report(key, f'"{raw}" is not a whole number')
            return default
        if not low <= value <= high:
            self.report(key, f"{value} is out of range ({low}..{high})")
            return default
        return value

    def clock(self, key: str, *, required: bool = False) -> time | None:
        """Return a time of day written ``HH:MM`` (quoted or not)."""
        raw = self.text(key, required=required)
        if raw is None:
            return None
        value = parse_clock(raw)
        if value is None:
            self.report(key, f'"{raw}" is not a time of day (HH:MM)')
        return value

    def url(self, key: str) -> str | None:
        """Return a web address (http or https) written on one line."""
        value = self.text(key, single_line=True)
        if value is not None and (not value.startswith(("https://", "http://"))
                                  or any(ch.isspace() for ch in value)):
            self.report(key, f'"{value}" is not a web address (https://...)')
            return None
        return value

    def day(self, key: str) -> date | None:
        """Return a date written ``YYYY-MM-DD``."""
        raw = self.text(key, required=True)
        if raw is None:
            return None
        return parse_date(raw.strip(), lambda why: self.report(key, why))

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        """Return one of ``options``."""
        raw = self.text(key)
        if raw is None:
            return default
        if raw not in options:
            close = difflib.get_close_matches(raw, options, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            self.report(key, f'"{raw}" is not one of {", ".join(options)}{hint}')
            return default
        return raw

    def sub(self, key: str) -> YamlMap | None:
        """Return the mapping under ``key`` as a record of its own (problems shared)."""
        node = self.nodes.get(key)
        if node is None:
            return None
        if not isinstance(node, yaml.MappingNode):
            self.report(key, f"expected a mapping, found {kind_of(node)}")
            return None
        return self.nested(node, f"{self.prefix}{key}.")

    def nested(self, node: yaml.MappingNode, prefix: str) -> YamlMap:
        """Return a mapping node inside this file as a record sharing this one's problems."""
        inner = record_from_node(self.path, node, self.loader, prefix)
        self.problems.extend(inner.problems)
        inner.problems = self.problems
        return inner

    def scalars(self, key: str, what: str) -> list[tuple[str, int]]:
        """Return one text or a list of texts under ``key``, each with its line."""
        node = self.nodes.get(key)
        if node is None:
            return []
        if isinstance(node, yaml.ScalarNode):
            return [(str(node.value), line_of(node))]
        if not isinstance(node, yaml.SequenceNode):
            self.report(key, f"expected {what} or a list of them, found {kind_of(node)}")
            return []
        items = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                items.append((str(item.value), line_of(item)))
            else:
                self.report(key, f"expected {what}, found {kind_of(item)}", line_of(item))
        return items

    def value(self, key: str) -> Any:
        """Return the plain YAML value of ``key`` (for free-form mappings such as front matter)."""
        node = self.nodes.get(key)
        if node is None:
            return None
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError) as exc:  # an unquoted 2024-13-45
            mark = getattr(exc, "problem_mark", None)
            self.report(key, f"cannot be read ({getattr(exc, 'problem', None) or exc}); quote "
                             "the value", mark.line + 1 if mark else None)
            return None

    def finish(self) -> None:
        """Raise every problem found, together."""
        if self.problems:
            raise InputError("\n".join(self.problems))


def record_from_node(path: Path, node: yaml.MappingNode, loader: StrictLoader,
                     prefix: str) -> YamlMap:
    """Index a mapping node's keys and lines; repeated and non-text keys are problems."""
    record = YamlMap(path, {}, {}, loader, prefix, line=line_of(node))
    for key_node, value_node in node.value:
        line = line_of(key_node)
        if not isinstance(key_node, yaml.ScalarNode):
            record.problems.append(f"{record.where}:{line}: {prefix}: keys must be plain words")
            continue
        key = str(key_node.value)
        if character_problem(key, single_line=True) is not None:
            record.problems.append(f"{record.where}:{line}: {prefix}{key!a}: a key "
                                   "must be a plain word")
            continue
        if key in record.nodes:
            record.problems.append(f"{record.where}:{line}: {prefix}{key}: given twice")
            continue
        record.lines[key] = line
        record.nodes[key] = value_node
    return record


def _read_text(path: Path, what: str) -> str:
    # Records and the series file live in seminars/, inside the series folder.
    data = read_regular(path, what, inside=path.parent.parent, limit=MAX_FILE_BYTES)
    text = decode_text(data, path, what)
    found = _FOLDED_BREAK.search(text)
    if found:  # YAML would fold it into a space: the text would change without a word
        line = text[: found.start()].count("\n") + 1
        raise InputError(f"{display_path(path)}:{line}: holds the line break "
                         f"U+{ord(found.group()):04X}, which YAML folds into a space; remove it "
                         "(or write it as an escape in a double-quoted string)")
    return text


_KEY_AT = re.compile(r"\s*-?\s*([A-Za-z_][\w-]*):")


def _yaml_problem(text: str, line: int, exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's complaint as a newcomer can act on it: the key, and what to do."""
    problem = str(exc.problem or exc.context)
    source = text.split("\n")[line - 1] if 0 < line <= text.count("\n") + 1 else ""
    found = _KEY_AT.match(source)
    key = f"{found.group(1)}: " if found else ""
    quote = (f"put the whole value in quotes ({found.group(1)}: \"...\")" if found
             else "put the value in quotes")
    if "\t" in problem or "\t" in source[: len(source) - len(source.lstrip())]:
        return f"{key}a tab in the indentation; YAML indents with spaces only"
    if "mapping values are not allowed" in problem:
        return f"{key}the value holds \": \", which YAML reads as a new key; {quote}"
    reserved = re.search(r"character '(.+?)' that cannot start", problem)
    if reserved:
        return f"{key}the value starts with {reserved.group(1)}, which YAML reserves; {quote}"
    if "expected <block end>" in problem and found and "[" in source:
        return f"{key}the value starts with [, which YAML reads as a list; {quote}"
    return f"invalid YAML: {problem}"


def read_record(path: Path, what: str) -> YamlMap:
    """Read one YAML file that must hold a mapping; raise :class:`InputError` otherwise."""
    where = display_path(path)
    text = _read_text(path, what)
    try:
        loader = StrictLoader(text)
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:  # a raw NUL, ESC or BEL, which YAML refuses
        line = text[: exc.position].count("\n") + 1
        raise InputError(f"{where}:{line}: holds the control character U+{exc.character:04X}, "
                         "which YAML does not allow; remove it (or write it as an escape in a "
                         "double-quoted string)") from None
    except YamlProblem as exc:
        raise InputError(f"{where}:{exc.line}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise InputError(f"{where}:{line}: {_yaml_problem(text, line, exc)}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: invalid YAML: {exc}") from None
    if node is None:
        raise InputError(f"{where}:1: the file is empty; expected {what}")
    if not isinstance(node, yaml.MappingNode):
        raise InputError(f"{where}:{line_of(node)}: expected {what} (a mapping of keys), "
                         f"found {kind_of(node)}")
    return record_from_node(path, node, loader, "")
