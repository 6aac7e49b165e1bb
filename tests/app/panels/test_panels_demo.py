"""`flask demo load` brings a selection round and a panel that has run its three rounds of
review and locked its twenty frontier results; loading again adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.panels.demo import ROUND_NAME
from conference_app.panels.models import (
    Candidate,
    ExpertProfile,
    Panel,
    PanelConflict,
    PanelResult,
    Review,
    ReviewRound,
    ReviewStage,
    SelectionRound,
)

MODELS = (SelectionRound, Candidate, ExpertProfile, Panel, PanelConflict, ReviewRound, Review, PanelResult, User,
          AuditEntry)


def load(app) -> str:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in MODELS}


def test_the_demo_panel_has_run_three_rounds_and_locked_twenty_justified_results(app):
    output = load(app)
    assert "Panels: round" in output and "20 results locked" in output
    selection_round = db.session.scalar(select(SelectionRound))
    assert selection_round.name == ROUND_NAME and selection_round.candidate_count > 0
    panel = db.session.scalar(select(Panel))
    assert str(panel.status) == "locked" and panel.locked_at is not None
    assert len(panel.members) == 5 and panel.has_member(panel.chair_user_id)
    assert all(member.user.role == Role.EXPERT for member in panel.members)
    busiest = db.session.execute(select(Candidate.discipline).group_by(Candidate.discipline)
                                 .order_by(func.count().desc())).scalar()
    assert panel.discipline == busiest
    results = db.session.scalars(select(PanelResult).filter_by(panel_id=panel.id)).all()
    assert len(results) == 20 and all(result.justification.strip() for result in results)
    assert len({result.justification for result in results}) == 20
    rounds = {review_round.stage: review_round for review_round in panel.review_rounds}
    assert set(rounds) == set(ReviewStage)
    for review_round in rounds.values():
        assert str(review_round.status) == "closed" and review_round.stats is not None
        assert review_round.unscored_at_close == 0
        reviews = db.session.scalars(select(Review).filter_by(review_round_id=review_round.id)).all()
        done = [r for r in reviews if (r.vote if review_round.stage == ReviewStage.FINAL else r.score) is not None]
        assert reviews and len(done) == len(reviews)
    assert rounds[ReviewStage.TRIAGE].blind and rounds[ReviewStage.TRIAGE].per_item == 3
    assert rounds[ReviewStage.SHORTLIST].blind
    assert db.session.scalar(select(func.count()).select_from(ExpertProfile)) >= 5
    assert db.session.scalar(select(PanelConflict.id).filter_by(panel_id=panel.id, declared_by_expert=True))
    # Everything dated in the past, in the order it happened.
    assert selection_round.created_at < rounds[ReviewStage.TRIAGE].created_at < panel.locked_at


def test_the_demo_panel_loads_once(app):
    first = load(app)
    after_first = counts()
    second = load(app)
    assert counts() == after_first
    assert "Panels:" in first and "Panels:" not in second
    experts = [line for line in second.splitlines() if line.strip().startswith("expert ")]
    assert len(experts) >= 6 and experts == [line for line in first.splitlines() if line.strip().startswith("expert ")]
