"""The README's ``python -m selection`` commands work as printed in a fresh clone: they run
the interpreter of the project's ``.venv`` (bare ``python`` lacks its packages) and name only
subcommands and options that exist, with the values they take."""

from __future__ import annotations

import contextlib
import io
import re
import shlex

import pytest

from selection.cli import build_parser
from selection.openalex import mockserver
from tests.conftest import REPO_ROOT

VENV_PYTHON = ".venv/bin/python"
PARSERS = {"selection": build_parser, "selection.openalex.mockserver": mockserver.build_parser}
SHELL_OPERATORS = {"&", "&&", "|", "||", ";", ">", ">>", "<", "2>"}
CODE_BLOCK = re.compile(r"^```[a-z]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`([^`\n]+)`")


def command_lines(readme: str) -> list[str]:
    """The command lines of the README: code block lines (a trailing backslash continues a
    line) and inline code outside the blocks."""
    lines = []
    for block in CODE_BLOCK.findall(readme):
        lines += block.replace("\\\n", " ").splitlines()
    lines += INLINE_CODE.findall(CODE_BLOCK.sub("", readme))
    return lines


def selection_commands(readme: str) -> list[tuple[str, str, list[str]]]:
    """Every ``python -m selection...`` of the README as (interpreter, module, arguments)."""
    commands = []
    for line in command_lines(readme):
        if "-m selection" not in line:
            continue
        tokens = shlex.split(line, comments=True)
        for position, token in enumerate(tokens[:-1]):
            if token == "-m" and tokens[position + 1].split(".")[0] == "selection":
                arguments = []
                for argument in tokens[position + 2:]:
                    if argument in SHELL_OPERATORS:
                        break
                    arguments.append(argument)
                interpreter = tokens[position - 1] if position else ""
                commands.append((interpreter, tokens[position + 1], arguments))
    return commands


@pytest.fixture(scope="module")
def commands():
    return selection_commands((REPO_ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_shows_every_subcommand(commands):
    shown = {arguments[0] for _, module, arguments in commands if module == "selection" and arguments}
    subcommands = next(action for action in build_parser()._actions if action.dest == "command").choices
    assert set(subcommands) <= shown
    assert len(commands) >= 10


def test_every_command_runs_the_venv_interpreter(commands):
    assert [(interpreter, module) for interpreter, module, _ in commands if interpreter != VENV_PYTHON] == []


def test_every_subcommand_and_option_exists_with_the_values_given(commands):
    for _, module, arguments in commands:
        assert module in PARSERS, f"README names a module the test does not know: python -m {module}"
        errors = io.StringIO()
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            try:
                PARSERS[module]().parse_args(arguments)
            except SystemExit as exit_:
                assert exit_.code == 0, f"python -m {module} {shlex.join(arguments)}: {errors.getvalue().strip()}"


def test_the_extraction_sees_continued_lines_comments_and_operators():
    readme = (
        "Text `.venv/bin/python -m selection --help` here.\n\n```bash\n"
        "# python -m selection in a comment is not a command\n"
        "python -m selection rank --works w.parquet \\\n    --out out &\n"
        "```\n"
    )
    assert selection_commands(readme) == [
        ("python", "selection", ["rank", "--works", "w.parquet", "--out", "out"]),
        (".venv/bin/python", "selection", ["--help"]),
    ]
