"""``selection`` is a plain library: importing every module of it loads no Flask."""

from __future__ import annotations

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
