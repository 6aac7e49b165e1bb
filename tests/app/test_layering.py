"""The layering of docs/architecture.md, enforced on every import of ``conference_app``.

The document states the order once, on its line starting ``Layers:``; a package imports
only from its own layer and the layers to its left. Imports inside functions count too.
``conference_app.extensions`` belongs to ``core``; the application itself (the factory,
``conference_app.cli``, ``conference_app.demo``) may import everything and nothing imports it.
"""

from __future__ import annotations

import ast

import pytest

from conference_app import DOMAINS
from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "conference_app"
APPLICATION_MODULES = {"conference_app", "conference_app.cli", "conference_app.demo"}


def documented_layers() -> list[set[str]]:
    """The layers from docs/architecture.md, left (lowest) to right: [{"core"}, ..., {"accounts", "organisations"}, ...]."""
    text = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    (line,) = [line for line in text.splitlines() if line.startswith("Layers:")]
    chain = line.removeprefix("Layers:").strip().strip("`")
    return [{name.strip() for name in part.split("⇄")} for part in chain.split("←")]


def layer_of(module: str, layers: list[set[str]]) -> int | None:
    """The layer index of an imported module; None for what the rule does not cover (flask ...)."""
    parts = module.split(".")
    if parts[0] == "selection":
        names = {"selection"}
    elif parts[0] != "conference_app":
        return None
    elif module in APPLICATION_MODULES or len(parts) == 1:
        return len(layers)  # the application: right of every layer
    elif parts[1] == "extensions":
        names = {"core"}
    else:
        names = {parts[1]}
    for index, layer in enumerate(layers):
        if names & layer:
            return index
    return len(layers)  # a name of the application package itself (create_app, DOMAINS ...)


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """(line, module) for every import in ``source`` (relative ones resolved against ``module``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            if name == "conference_app":  # "from conference_app import organisations": the package organisations
                found += [(node.lineno, f"conference_app.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, name))
    return found


def violations(sources: dict[str, str], layers: list[set[str]]) -> list[str]:
    """Imports that reach to the right of their own layer; ``sources`` maps paths below the
    repository (``conference_app/core/views.py``) to their text."""
    found = []
    for path, source in sorted(sources.items()):
        module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        own = layer_of(module, layers)
        if own is None or own == len(layers):
            continue  # the application may import every layer
        for line, target in imported_modules(source, module):
            target_layer = layer_of(target, layers)
            if target_layer is not None and target_layer > own:
                found.append(f"{path}:{line} imports {target}")
    return found


def package_sources() -> dict[str, str]:
    return {
        path.relative_to(REPO_ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in PACKAGE.rglob("*.py")
    }


def test_the_documented_layers_are_the_factory_domains_in_order():
    layers = documented_layers()
    documented = [name for layer in layers for name in sorted(layer) if name != "selection"]
    assert sorted(documented) == sorted(DOMAINS)
    positions = {name: index for index, layer in enumerate(layers) for name in layer}
    assert [positions[domain] for domain in DOMAINS] == sorted(positions[domain] for domain in DOMAINS)
    assert {"core"} == layers[0]


def test_every_import_respects_the_layers():
    assert violations(package_sources(), documented_layers()) == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("conference_app/core/views.py", "from conference_app.organisations.models import Organisation\n"),
        ("conference_app/core/layout.py", "def f():\n    from conference_app import accounts\n"),
        ("conference_app/core/mail.py", "from ..audit import services\n"),
        ("conference_app/audit/services.py", "import conference_app.workflow\n"),
        ("conference_app/organisations/services.py", "from selection.disciplines import load_disciplines\n"),
        ("conference_app/accounts/cli.py", "from conference_app.cli import fail\n"),
    ],
)
def test_an_import_against_the_layers_is_found(path, source):
    """Shown: core importing a domain (at the top, in a function, relatively) fails the test."""
    sources = package_sources() | {path: source}
    assert len(violations(sources, documented_layers())) == 1


def test_the_allowed_pair_and_imports_to_the_left_pass():
    sources = {
        "conference_app/accounts/services.py": "from conference_app.organisations.models import Organisation\n",
        "conference_app/organisations/services.py": "from conference_app.accounts import services\n",
        "conference_app/workbench/services.py": "from selection.errors import SelectionError\n",
        "conference_app/workflow/__init__.py": "from conference_app.audit.services import record\n",
    }
    assert violations(sources, documented_layers()) == []
