"""Expert panels on an imported round: forming (experts only, a chair), opening (at least
PANEL_MIN_EXPERTS members), the conflicts computed from the members' profiles, overridden by the
chair with a reason, declared by a member; who may see a panel; the page's statements."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.panels import services
from conference_app.panels.models import (
    Candidate,
    ConflictKind,
    ExpertProfile,
    Panel,
    PanelConflict,
    PanelMember,
    SelectionRound,
)
from tests.app.conftest import log_in_session
from tests.app.core.test_query_counts import statements_for


@pytest.fixture()
def ranking_output(review_ranking_output) -> Path:
    """The same synthetic ranking as the review rounds' tests (conftest.py), ranked once a session."""
    return review_ranking_output


@pytest.fixture()
def imported(app, ranking_output) -> SelectionRound:
    result = app.test_cli_runner().invoke(args=["selection", "import", "--candidates",
                                                str(ranking_output / "candidates.parquet"), "--round", "专家组轮次"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return db.session.scalar(select(SelectionRound))


@pytest.fixture()
def staff(make_user):
    return make_user(Role.STAFF)


@pytest.fixture()
def experts(make_user):
    return [make_user(Role.EXPERT) for _ in range(6)]


def busiest_discipline(selection_round: SelectionRound) -> str:
    return db.session.execute(
        select(Candidate.discipline).where(Candidate.round_id == selection_round.id)
        .group_by(Candidate.discipline).order_by(func.count().desc())).scalar()


def make_panel(selection_round, staff, members, chair=None) -> Panel:
    panel = services.create_panel(selection_round, busiest_discipline(selection_round), None, staff)
    for user in members:
        services.add_member(panel, user, staff)
    if chair is not None:
        services.set_chair(panel, chair, staff)
    db.session.commit()
    return panel


def status_of(panel: Panel) -> str:
    db.session.expire_all()
    return str(db.session.get(Panel, panel.id).status)


def test_a_panel_with_4_experts_cannot_open_and_with_5_and_a_chair_it_opens(
        app, client, staff, experts, imported, no_csrf):
    panel = make_panel(imported, staff, experts[:4], chair=experts[0])
    log_in_session(client, staff)
    page = client.get(f"/panels/{panel.id}").get_data(as_text=True)
    assert "专家组只有 4 名专家，至少需要 5 名" in page and 'data-testid="refusal"' in page
    refused = client.post(f"/panels/{panel.id}/open")
    assert refused.status_code == 409
    assert "专家组只有 4 名专家，至少需要 5 名" in refused.get_data(as_text=True)
    assert status_of(panel) == "forming"
    assert db.session.scalar(select(AuditEntry).filter_by(action="panel.opened")) is None

    assert client.post(f"/panels/{panel.id}/members", data={"user_id": experts[4].id}).status_code == 302
    assert client.post(f"/panels/{panel.id}/chair", data={"user_id": experts[4].id}).status_code == 302
    opened = client.post(f"/panels/{panel.id}/open")
    assert opened.status_code == 302, opened.get_data(as_text=True)
    assert status_of(panel) == "open"
    entry = db.session.scalar(select(AuditEntry).filter_by(action="panel.opened"))
    assert entry.from_state == "forming" and entry.to_state == "open"
    assert db.session.get(Panel, panel.id).chair_user_id == experts[4].id
    # Once open, the members no longer change.
    late = client.post(f"/panels/{panel.id}/members", data={"user_id": experts[5].id})
    assert late.status_code == 409 and "组建中" in late.get_data(as_text=True)


def test_the_chair_must_be_a_member_and_min_experts_is_a_setting(app, client, staff, experts, imported, no_csrf):
    app.config["PANEL_MIN_EXPERTS"] = 2
    panel = make_panel(imported, staff, experts[:2])
    log_in_session(client, staff)
    no_chair = client.post(f"/panels/{panel.id}/open")
    assert no_chair.status_code == 409 and "召集人" in no_chair.get_data(as_text=True)
    outsider = client.post(f"/panels/{panel.id}/chair", data={"user_id": experts[3].id})
    assert outsider.status_code == 409
    assert client.post(f"/panels/{panel.id}/chair", data={"user_id": experts[1].id}).status_code == 302
    assert client.post(f"/panels/{panel.id}/open").status_code == 302
    app.config["PANEL_MIN_EXPERTS"] = 5


@pytest.mark.parametrize("role", [Role.STAFF, Role.SOCIETY, Role.ANALYST])
def test_a_non_expert_cannot_be_a_member(app, client, staff, make_user, make_organisation, imported, role, no_csrf):
    panel = make_panel(imported, staff, [])
    other = make_user(role, organisation=make_organisation() if role == Role.SOCIETY else None)
    log_in_session(client, staff)
    response = client.post(f"/panels/{panel.id}/members", data={"user_id": other.id})
    assert response.status_code == 409 and "不是专家账号" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PanelMember)) == 0


def test_a_panel_is_one_per_round_and_discipline(app, client, staff, imported, no_csrf):
    discipline = busiest_discipline(imported)
    log_in_session(client, staff)
    url = f"/panels/rounds/{imported.id}/panels"
    assert client.post(url, data={"discipline": discipline, "name": ""}).status_code == 302
    again = client.post(url, data={"discipline": discipline, "name": "又一个"})
    assert again.status_code == 409 and "已有" in again.get_data(as_text=True)
    assert client.post(url, data={"discipline": "nothing"}).status_code == 400
    page = client.get(url).get_data(as_text=True)
    assert services.discipline_title(discipline) in page and "组建中" in page


def test_the_expert_edits_their_profile_and_bad_ids_are_refused(app, client, experts, no_csrf):
    expert = experts[0]
    log_in_session(client, expert)
    assert client.get("/panels/profile").location.endswith(f"/panels/experts/{expert.id}/profile")
    url = f"/panels/experts/{expert.id}/profile"
    bad = client.post(url, data={"orcid": "1234", "institution_ids": "I1"})
    assert bad.status_code == 400 and "0000-0000-0000-000X" in bad.get_data(as_text=True)
    assert client.post(url, data={"openalex_author_id": "W123"}).status_code == 400
    saved = client.post(url, data={"openalex_author_id": "https://openalex.org/a5023888391",
                                   "orcid": "0000-0002-1825-009x", "institution_ids": "I99065089, I1|I99065089",
                                   "disciplines": ["mathematics"]})
    assert saved.status_code == 302
    profile = db.session.scalar(select(ExpertProfile))
    assert (profile.openalex_author_id, profile.orcid) == ("A5023888391", "0000-0002-1825-009X")
    assert profile.institution_ids == ["I99065089", "I1"] and profile.disciplines == ["mathematics"]
    assert client.post(url, data={"orcid": "0000-0002-1825-0097"}).status_code == 302
    entry = db.session.scalar(select(AuditEntry).filter_by(action="expert_profile.updated"))
    assert entry.details["changes"]["orcid"] == ["0000-0002-1825-009X", "0000-0002-1825-0097"]
    assert client.get(f"/panels/experts/{experts[1].id}/profile").status_code == 403


def _candidate_with_institution(panel: Panel) -> tuple[Candidate, dict]:
    for candidate in services.panel_candidates(panel):
        for authorship in candidate.authorships:
            if authorship.get("institution_ids"):
                return candidate, authorship
    raise AssertionError("no candidate with an institution")


def test_conflicts_are_computed_overridden_and_declared(app, client, staff, experts, imported, no_csrf):
    panel = make_panel(imported, staff, experts[:5], chair=experts[0])
    candidate, authorship = _candidate_with_institution(panel)
    institution = authorship["institution_ids"][0]
    services.save_profile(experts[1], {"institution_ids": [institution]}, experts[1])
    db.session.commit()

    log_in_session(client, experts[0])  # the chair
    assert client.post(f"/panels/{panel.id}/conflicts").status_code == 302
    conflict = db.session.scalar(select(PanelConflict).filter_by(
        panel_id=panel.id, user_id=experts[1].id, candidate_id=candidate.id, kind=ConflictKind.INSTITUTION))
    assert conflict is not None and institution in conflict.detail and "the expert's institution" in conflict.detail
    assert db.session.scalar(select(AuditEntry).filter_by(action="panel.conflicts_computed")).details["conflicts"] > 0
    page = client.get(f"/panels/{panel.id}").get_data(as_text=True)
    assert "同一机构" in page and institution in page and "仅限候选论文之间" in page

    refused = client.post(f"/panels/conflicts/{conflict.id}/override", data={"comment": "  "})
    assert refused.status_code == 400 and "请说明" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PanelConflict, conflict.id).overridden_by_id is None
    done = client.post(f"/panels/conflicts/{conflict.id}/override", data={"comment": "该专家已调离此单位"})
    assert done.status_code == 302
    db.session.expire_all()
    conflict = db.session.get(PanelConflict, conflict.id)
    assert conflict.overridden_by_id == experts[0].id and conflict.override_comment == "该专家已调离此单位"
    entry = db.session.scalar(select(AuditEntry).filter_by(action="panel_conflict.overridden"))
    assert entry.comment == "该专家已调离此单位" and entry.actor_id == experts[0].id

    log_in_session(client, experts[2])  # a member, not the chair
    assert client.post(f"/panels/conflicts/{conflict.id}/override", data={"comment": "x"}).status_code == 403
    other = services.panel_candidates(panel)[-1]
    declared = client.post(f"/panels/{panel.id}/declare", data={"work_id": other.work_id, "reason": "我是该文作者的导师"})
    assert declared.status_code == 302
    row = db.session.scalar(select(PanelConflict).filter_by(user_id=experts[2].id, kind=ConflictKind.DECLARED))
    assert row.candidate_id == other.id and row.declared_by_expert and row.detail == "我是该文作者的导师"
    assert db.session.scalar(select(AuditEntry).filter_by(action="panel_conflict.declared")).actor_id == experts[2].id
    again = client.post(f"/panels/{panel.id}/declare", data={"work_id": other.work_id, "reason": "再次"})
    assert again.status_code == 409
    assert client.post(f"/panels/{panel.id}/declare", data={"work_id": "W1", "reason": "x"}).status_code == 404

    # A new computation keeps the declared conflict and the override of a conflict found again.
    log_in_session(client, staff)
    assert client.post(f"/panels/{panel.id}/conflicts").status_code == 302
    db.session.expire_all()
    kept = db.session.scalar(select(PanelConflict).filter_by(
        user_id=experts[1].id, candidate_id=candidate.id, kind=ConflictKind.INSTITUTION))
    assert kept.override_comment == "该专家已调离此单位"
    declared_row = db.session.scalar(select(PanelConflict).filter_by(user_id=experts[2].id, kind=ConflictKind.DECLARED))
    assert declared_row
    # Staff cannot set aside a conflict the expert declared, even by a direct request.
    assert client.post(f"/panels/conflicts/{declared_row.id}/override", data={"comment": "不必回避"}).status_code == 409
    db.session.expire_all()
    assert db.session.get(PanelConflict, declared_row.id).overridden_by_id is None


def test_only_members_and_staff_see_the_panel(app, client, staff, experts, imported, make_user, no_csrf):
    panel = make_panel(imported, staff, experts[:3])
    log_in_session(client, experts[5])
    assert client.get(f"/panels/{panel.id}").status_code == 403
    assert client.post(f"/panels/{panel.id}/declare").status_code == 403
    assert client.get(f"/panels/rounds/{imported.id}/panels").status_code == 403
    log_in_session(client, experts[1])
    page = client.get(f"/panels/{panel.id}").get_data(as_text=True)
    assert "申报回避" in page and "计算利益冲突" not in page
    assert client.post(f"/panels/{panel.id}/conflicts").status_code == 403
    log_in_session(client, make_user(Role.ANALYST))
    assert client.get(f"/panels/{panel.id}").status_code == 403


def _conflicts(panel: Panel, users, count: int) -> None:
    """``count`` conflicts, one per (candidate, member) pair: however few candidates the
    synthetic ranking seats in the panel's discipline, there are enough pairs."""
    pairs = [(candidate, user) for candidate in services.panel_candidates(panel) for user in users][:count]
    assert len(pairs) == count
    db.session.execute(insert(PanelConflict), [
        {"panel_id": panel.id, "user_id": user.id, "candidate_id": candidate.id,
         "kind": ConflictKind.AUTHOR, "detail": f"detail {n}", "declared_by_expert": False,
         "overridden_by_id": users[0].id if n % 3 == 0 else None, "override_comment": "x" if n % 3 == 0 else None}
        for n, (candidate, user) in enumerate(pairs)])
    db.session.commit()


def test_the_panel_page_issues_the_same_statements_for_10_and_100_conflicts(
        app, client, staff, experts, imported):
    panel = make_panel(imported, staff, experts[:5], chair=experts[0])
    log_in_session(client, experts[0])
    _conflicts(panel, experts[:5], 10)
    few = statements_for(client, f"/panels/{panel.id}")
    assert client.get(f"/panels/{panel.id}").get_data(as_text=True).count('data-testid="conflict"') == 10
    db.session.execute(PanelConflict.__table__.delete())
    db.session.commit()
    _conflicts(panel, experts[:5], 100)
    assert client.get(f"/panels/{panel.id}").get_data(as_text=True).count('data-testid="conflict"') == 100
    assert statements_for(client, f"/panels/{panel.id}") == few
