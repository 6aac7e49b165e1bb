"""``selection`` is a plain library: importing every module of it loads no Flask, and its
parts import only the layers docs/architecture.md names ("The selection library")."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys

import selection
from tests.conftest import REPO_ROOT


def test_no_selection_module_imports_flask():
    modules = sorted(
        info.name for info in pkgutil.walk_packages(selection.__path__, "selection.") if info.name != "selection.__main__"
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'flask' or m.startswith(('flask.', 'flask_'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert len(modules) > 10
    assert result.stdout.strip() == "[]"


# The top-level part of selection -> the parts it may import (itself always).
ALLOWED_IMPORTS = {
    "errors": set(),
    "files": {"errors"},
    "schema": {"errors"},
    "disciplines": {"errors"},
    "journal_groups": {"errors"},
    "journal_lists": {"errors", "files", "journal_groups"},
    "beijing_places": {"errors"},
    "institutions": {"errors", "files", "schema", "openalex"},
    "openalex": {"errors", "synthetic"},  # the mock server's command line serves a synthetic world
    "harvest": {"errors", "files", "schema", "disciplines", "journal_groups", "institutions", "openalex",
                "beijing_places"},
    # ranking/cli.py reads an enrichment folder (selection.enrich.folder) when --enrichment is given
    "ranking": {"errors", "files", "schema", "disciplines", "journal_lists", "enrich"},
    "enrich": {"errors", "files", "schema", "openalex", "harvest"},
    "imports": {"errors", "files", "schema", "disciplines", "journal_groups", "beijing_places"},
    "panel": {"errors", "files", "schema", "openalex"},  # expert-works fetches through the OpenAlex client
    "synthetic": {"errors", "files", "schema", "disciplines", "journal_groups"},
    "cli": {"errors"},
    "__main__": {"cli"},
}


def imported_parts(path) -> set[str]:
    """The top-level parts of selection a module imports (``selection.harvest.run`` -> harvest)."""
    parts = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] if node.module != "selection" else [f"selection.{a.name}" for a in node.names]
        parts |= {name.split(".")[1] for name in names if name.startswith("selection.")}
    return parts


def test_each_part_imports_only_the_layers_below_it():
    root = REPO_ROOT / "selection"
    checked = set()
    for path in sorted(root.rglob("*.py")):
        part = path.relative_to(root).parts[0].removesuffix(".py")
        if part == "__init__":
            continue
        checked.add(part)
        assert imported_parts(path) - {part} <= ALLOWED_IMPORTS[part], path.relative_to(REPO_ROOT)
    assert checked == set(ALLOWED_IMPORTS)
