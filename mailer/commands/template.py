"""``template``: the default templates, to copy into the series' ``templates/`` and change."""

from __future__ import annotations

from pathlib import Path

from mailer.commands.output import Line
from mailer.errors import InputError
from mailer.render.templates import PACKAGE_TEMPLATES, TEMPLATE_NAMES, unknown_overrides


def template_lines(root: Path) -> list[Line]:
    """``template``: each template and where it comes from (the series' own or the package's),
    and the series' templates that replace none."""
    lines = []
    for known in TEMPLATE_NAMES:
        own = root / "templates" / known
        lines.append(Line(f"{known:<22} "
                          f"{'templates/' + known if own.is_file() else '(package default)'}"))
    return lines + [Line(f"warning: {warning}", err=True) for warning in unknown_overrides(root)]


def template_text(name: str) -> str:
    """``template NAME``: a default template's text, to copy into the series and change."""
    if name not in TEMPLATE_NAMES:
        raise InputError(f"{name}: no such template; known: {', '.join(TEMPLATE_NAMES)}")
    return (PACKAGE_TEMPLATES / name).read_text(encoding="utf-8")
