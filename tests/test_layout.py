"""The shape of the package: small modules with one job, and infrastructure that stays low.

Infrastructure (addresses, config, ledger, recipients, transport, deliver, pool, relay,
login, paths, errors)
must never import the YAML store or anything above it: a subscriber file or a ledger
does not need to know what a talk record is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support import REPO

PACKAGE = REPO / "mailer"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
INFRASTRUCTURE = {"addresses", "config", "ledger", "recipients", "transport", "deliver",
                  "pool", "relay", "login", "paths", "errors"}
ABOVE_INFRASTRUCTURE = {"yamlrecord", "schema", "store", "schedule", "compose", "sending",
                        "site", "status", "scaffold", "cli", "render", "formats", "calendar",
                        "event", "htmlmail", "message", "model", "usertext", "photos",
                        "importer", "pageimport", "csvimport", "draft"}
MODULES = sorted(PACKAGE.rglob("*.py"))


def imports_of(path: Path) -> set[str]:
    """The announce modules a file imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mailer"):
            found.add(node.module.removeprefix("mailer").lstrip(".") or "__init__")
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names
                         if a.name.startswith("mailer."))
    return found


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_module_and_function_sizes(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, path.name
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{path.name}: {node.name} has {length} lines"


@pytest.mark.parametrize("name", sorted(INFRASTRUCTURE))
def test_infrastructure_never_imports_the_store_or_above(name: str) -> None:
    assert (PACKAGE / f"{name}.py").is_file()
    assert not imports_of(PACKAGE / f"{name}.py") & ABOVE_INFRASTRUCTURE, name


def test_paths_is_a_leaf() -> None:
    assert imports_of(PACKAGE / "paths.py") <= {"errors"}
