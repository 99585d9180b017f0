"""The people of a talk as records give them: speakers (with their addresses and time zones),
the host, and the series' ``speakers:`` settings (when speakers are asked and briefed).

An address is checked as every address announce uses (IDNA, one mailbox, nothing that could
become a second header or recipient); a time zone must be an IANA name. Every problem names
the file, the line and the key, like any other.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from mailer.addresses import AddressProblem, parse_mailbox
from mailer.series.model import Speaker, SpeakerMail
from mailer.series.yamlfile import YamlMap, kind_of, line_of

SPEAKER_KEYS = ("name", "affiliation", "email", "timezone")
HOST_KEYS = ("name", "email")
SPEAKER_MAIL_KEYS = ("request_days_before", "chase_every_days", "deadline_days_before",
                     "brief_days_before")


def address(record: YamlMap, key: str) -> str | None:
    """One e-mail address under ``key``, checked; None when absent or wrong (reported)."""
    text = record.text(key, single_line=True)
    if text is None:
        return None
    try:
        box = parse_mailbox(text)
    except AddressProblem as why:
        record.report(key, f"{text!r} {why}")
        return None
    if box.name:
        record.report(key, f"{text!r}: give the address alone (name@example.org); the name "
                           "is the speaker's name")
        return None
    return box.addr


def zone(record: YamlMap, key: str) -> str | None:
    """An IANA time zone name under ``key``; None when absent or unknown (reported)."""
    name = record.text(key, single_line=True)
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        record.report(key, f'"{name}" is not an IANA time zone (such as America/New_York)')
        return None
    return name


def speakers(record: YamlMap) -> tuple[Speaker, ...]:
    """``speaker:`` (with ``affiliation:`` and ``email:``) or ``speakers:``, a list."""
    node = record.nodes.get("speakers")
    if node is not None:
        for key in ("speaker", "affiliation", "email"):
            if key in record.nodes:
                record.report(key, "cannot be used together with speakers:; "
                                   "give each speaker's name, affiliation and email in the list")
        return _speaker_list(record, node)
    name = record.words("speaker", single_line=True)
    affiliation = record.words("affiliation", single_line=True)
    email = address(record, "email")
    if name is None:
        for key, value in (("affiliation", affiliation), ("email", email)):
            if value is not None:
                record.report(key, "is given without a speaker")
        return ()
    return (Speaker(name, affiliation, email),)


def _speaker_list(record: YamlMap, node: yaml.Node) -> tuple[Speaker, ...]:
    if not isinstance(node, yaml.SequenceNode):
        record.report("speakers",
                      f"expected a list of {{name, affiliation}}, found {kind_of(node)}")
        return ()
    found = []
    for index, node_item in enumerate(node.value):
        item = node_item
        if isinstance(item, yaml.ScalarNode):  # "- Ada Lovelace": a name alone
            key = yaml.ScalarNode("tag:yaml.org,2002:str", "name", item.start_mark)
            item = yaml.MappingNode("tag:yaml.org,2002:map", [(key, item)], item.start_mark)
        if not isinstance(item, yaml.MappingNode):
            record.report("speakers", f"expected {{name, affiliation}}, found {kind_of(item)}",
                          line_of(item))
            continue
        entry = record.nested(item, f"speakers[{index}].")
        entry.check_keys(SPEAKER_KEYS)
        name = entry.words("name", required=True, single_line=True)
        if name:
            found.append(Speaker(name, entry.words("affiliation", single_line=True),
                                 address(entry, "email"), zone(entry, "timezone")))
    return tuple(found)


def host(record: YamlMap) -> Speaker | None:
    """``host: {name, email}``: who introduces the speaker."""
    entry = record.sub("host")
    if entry is None:
        return None
    entry.check_keys(HOST_KEYS)
    name = entry.words("name", required=True, single_line=True)
    email = address(entry, "email")
    return Speaker(name, email=email) if name else None


def speaker_mail(record: YamlMap) -> SpeakerMail:
    """``speakers:`` in series.yaml: the days of the request, its repeats and the brief."""
    entry = record.sub("speakers")
    default = SpeakerMail()
    if entry is None:
        return default
    entry.check_keys(SPEAKER_MAIL_KEYS)
    values = {key: entry.integer(key, getattr(default, key), 0 if key != "chase_every_days"
                                 else 1, 366) for key in SPEAKER_MAIL_KEYS}
    return SpeakerMail(**values)
