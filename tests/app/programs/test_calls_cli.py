"""``flask calls check`` and ``flask calls load``: every shipped call passes and loads; a broken
copy fails with exit 2 and one FILE:LINE: field: message line per problem; a call with
applications keeps its rules."""

from __future__ import annotations

import pytest

from conference_app.extensions import db
from conference_app.programs.models import Call
from tests.app.programs.helpers import CALL_2026, CALLS, category, draft, eligible_organisation, open_call

SHIPPED = sorted(CALLS.glob("*.yaml"))


def test_four_calls_are_shipped():
    assert [path.name for path in SHIPPED] == ["2021-demonstration.yaml", "2025-popular-science.yaml",
                                               "2025-xinjiang.yaml", "2026-capital-academic.yaml"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_every_shipped_call_checks_and_loads(app, path):
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["calls", "check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "is valid" in checked.output
    loaded = runner.invoke(args=["calls", "load", str(path)])
    assert loaded.exit_code == 0, loaded.output
    call = db.session.scalar(db.select(Call))
    assert call.source_name == path.name and call.categories
    again = runner.invoke(args=["calls", "load", str(path)])
    assert "unchanged" in again.output


def _broken_copy(tmp_path, old: str, new: str):
    text = CALL_2026.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = text[:text.index(old)].count("\n") + 1
    return broken, line


@pytest.mark.parametrize("old, new, field", [
    ("      - kind: attendance\n        code: A5", "      - kind: head_count\n        code: A5",
     "categories[0].indicators[4].kind"),
    ("    amount_cny: 200000", "    amount_cny: -200000", "categories[0].amount_cny"),
    ("      - {percent: 100, when: on_approval}\n    eligibility:\n      - kind: staff_confirmed",
     "      - {percent: 90, when: on_approval}\n    eligibility:\n      - kind: staff_confirmed",
     "categories[0].tranches"),
], ids=["unknown-indicator-kind", "negative-amount", "tranches-sum-to-90"])
def test_a_broken_copy_fails_with_exit_2_naming_file_line_and_field(app, tmp_path, old, new, field):
    broken, line = _broken_copy(tmp_path, old, new)
    result = app.test_cli_runner().invoke(args=["calls", "check", str(broken)])
    assert result.exit_code == 2, result.output
    lines = [text for text in result.output.splitlines() if text.strip()]
    assert len(lines) == 1, lines
    filename, number, path, _message = lines[0].split(":", 3)
    assert (filename, path.strip()) == (str(broken), field)
    # The tranche error is reported on the list it sums; the others on the value itself.
    assert int(number) in (line, line - 1), (lines[0], line)
    assert db.session.scalar(db.select(db.func.count()).select_from(Call)) == 0
    loaded = app.test_cli_runner().invoke(args=["calls", "load", str(broken)])
    assert loaded.exit_code == 2 and db.session.scalar(db.select(db.func.count()).select_from(Call)) == 0


def test_a_call_with_applications_keeps_its_rules(app, tmp_path, make_user, make_organisation):
    call = open_call()
    organisation = eligible_organisation(make_organisation)
    draft(organisation, category(call, "B"), make_user("society", organisation=organisation))
    changed = tmp_path / CALL_2026.name
    changed.write_text(CALL_2026.read_text(encoding="utf-8").replace("min_person_times: 400",
                                                                     "min_person_times: 300"), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["calls", "load", str(changed)])
    assert result.exit_code == 1
    assert "1" in result.output and call.code in result.output
    db.session.expire_all()
    assert "min_person_times\": 300" not in str(db.session.get(Call, call.id).definition).replace("'", "\"")
