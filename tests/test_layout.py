"""The shape of the package: small modules with one job, each named in the layout table
(docs/explanation/architecture.md).

Which folder may import which is a contract in pyproject.toml, checked by import-linter
(`lint-imports`, run by `make lint`); this file checks what that tool does not.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from seriesfiles import REPO

from mailer.series.kinds import Kind

PACKAGE = REPO / "mailer"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_module_and_function_sizes(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, path.name
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{path.name}: {node.name} has {length} lines"


# The layout table: in the docs, and in the README while it still has one.
LAYOUT_PAGES = [path for path in (REPO / "docs" / "explanation" / "architecture.md",
                                  REPO / "README.md")
                if "# How the code is laid out" in path.read_text(encoding="utf-8")]


@pytest.mark.parametrize("page", LAYOUT_PAGES, ids=[p.name for p in LAYOUT_PAGES])
def test_every_module_is_in_the_layout_table(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    table = text.split("# How the code is laid out", 1)[1].split("\n## ", 1)[0]
    named = set()
    for row in re.findall(r"^\| `([^|]+)` \|([^|]+)\|", table, re.M):
        folder = row[0].strip().strip("`").rstrip("/")
        for module in re.findall(r"`([a-z_]+)(?:\.py)?`", row[1]):
            named.add(f"{folder}/{module}.py" if folder != "mailer" else f"{module}.py")
    modules = {str(p.relative_to(PACKAGE)) for p in MODULES
               if p.name not in ("__init__.py", "__main__.py")}
    assert modules <= named, f"not in the table of {page.name}: {sorted(modules - named)}"
    assert named <= modules, f"named in {page.name} but gone: {sorted(named - modules)}"


def test_the_docs_have_the_layout_table() -> None:
    assert LAYOUT_PAGES[0].name == "architecture.md"


def test_no_two_modules_share_a_file_name() -> None:
    names = [p.name for p in MODULES if p.name not in ("__init__.py", "__main__.py")]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_every_reference_to_the_contract_names_a_section_that_exists() -> None:
    contract = (REPO / "docs" / "reference" / "contract.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (\d+)\. ", contract, re.M))
    cited = {}
    docs = sorted(p for p in (REPO / "docs").rglob("*.md") if "_build" not in p.parts)
    for path in [*MODULES, *sorted((REPO / "tests").glob("*.py")), REPO / "README.md", *docs]:
        for number in re.findall(r"§(\d+)", path.read_text(encoding="utf-8")):
            cited.setdefault(number, path.name)
    assert cited, "the code cites the contract"
    assert {n: p for n, p in cited.items() if n not in sections} == {}
    assert "SPEC " not in "".join(p.read_text(encoding="utf-8") for p in MODULES)


def test_each_kind_of_mail_is_named_in_at_most_four_modules() -> None:
    """A kind is declared once (series/kinds); the rest of the house asks the declaration,
    so a new kind is a declaration, a template and its due rule."""
    for kind in Kind:
        naming = [path.relative_to(REPO).as_posix() for path in MODULES
                  if re.search(rf"\bKind\.{kind.name}\b", path.read_text(encoding="utf-8"))]
        assert "mailer/series/kinds.py" in naming
        assert len(naming) <= 4, f"Kind.{kind.name} is named in {naming}"
