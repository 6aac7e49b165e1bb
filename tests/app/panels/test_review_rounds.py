"""Rounds of review through the services: triage assigned by the library, the shortlist and
the final vote, closing with unscored assignments only with a reason, locking exactly 20, and
staff's logged reopening."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.panels import review
from conference_app.panels.models import PanelConflict, PanelResult, Review, ReviewStage
from tests.app.panels.conftest import fill_round


def test_three_rounds_from_triage_to_twenty_locked_results(app, open_panel, five_experts, review_staff):
    chair = five_experts[0]
    triage = review.create_round(open_panel, "triage", chair)
    db.session.commit()
    reviews = list(db.session.scalars(select(Review).filter_by(review_round_id=triage.id)))
    assert len(reviews) == triage.item_count * 3 - sum(
        3 - entry["assigned"] for entry in triage.assignment_report["unfilled"])
    conflicted = {(c.user_id, c.candidate_id) for c in db.session.scalars(select(PanelConflict))}
    assert not conflicted & {(r.user_id, r.candidate_id) for r in reviews}
    loads = review.progress_by_expert(triage)
    assert max(t for _d, t in loads.values()) - min(t for _d, t in loads.values()) <= 1
    fill_round(triage)
    review.close_round(triage, None, chair)
    shortlist = review.create_round(open_panel, "shortlist", chair)
    db.session.commit()
    assert shortlist.item_count >= 60
    fill_round(shortlist, seed=1)
    review.close_round(shortlist, None, chair)
    final = review.create_round(open_panel, "final", chair)
    db.session.commit()
    fill_round(final, seed=2)
    review.close_round(final, None, chair)
    db.session.commit()
    tallies = review.final_tally(open_panel)
    with pytest.raises(ServiceError, match="20"):
        review.lock_results(open_panel, [(t.candidate.id, "理由") for t in tallies[:19]], chair)
    db.session.rollback()
    review.lock_results(open_panel, [(t.candidate.id, f"理由 {t.candidate.work_id}") for t in tallies[:20]], chair)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(PanelResult)) == 20
    assert str(open_panel.status) == "locked"
    assert db.session.scalar(select(AuditEntry).filter_by(action="panel.locked")) is not None
