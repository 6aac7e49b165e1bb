"""A ranking of synthetic works imported as a round, an open panel of five with its conflicts
computed, and experts filling in a round of review through the service."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, update

from conference_app.core.db import utcnow
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.panels import review, services
from conference_app.panels.models import (
    Candidate,
    Panel,
    Recommendation,
    Review,
    ReviewRound,
    ReviewStage,
    SelectionRound,
)
from selection.cli import main as selection_main
from selection.synthetic.table import works_table


@pytest.fixture(scope="session")
def review_ranking_output(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("review-ranking")
    # The stand-in topics (a topics file that does not exist), so the world is the same with or
    # without ../shared/data: 163 candidates in its busiest discipline.
    pq.write_table(works_table(9000, seed=3, topics_path=folder / "no-topics.csv"), folder / "works.parquet")
    assert selection_main(["rank", "--works", str(folder / "works.parquet"), "--out", str(folder / "out"),
                           "--per-group", "200"]) == 0
    return folder / "out"


def import_round(app, folder: Path, name: str = "专家评审轮次") -> SelectionRound:
    result = app.test_cli_runner().invoke(args=["selection", "import", "--candidates",
                                                str(folder / "candidates.parquet"), "--round", name])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return db.session.scalar(select(SelectionRound).filter_by(name=name))


def busiest_discipline(selection_round: SelectionRound) -> str:
    return db.session.execute(
        select(Candidate.discipline).where(Candidate.round_id == selection_round.id)
        .group_by(Candidate.discipline).order_by(func.count().desc())).scalar()


def running_panel(selection_round: SelectionRound, staff, members, chair) -> Panel:
    """A panel of ``members`` on the round's busiest discipline, opened, conflicts computed."""
    panel = services.create_panel(selection_round, busiest_discipline(selection_round), None, staff)
    for user in members:
        services.add_member(panel, user, staff)
    services.set_chair(panel, chair, staff)
    services.open_panel(panel, staff)
    services.compute_conflicts(panel, staff)
    db.session.commit()
    return panel


def fill_round(review_round: ReviewRound, seed: int = 0, leave: int = 0) -> None:
    """Every review of the round filled in (but the last ``leave``) in one bulk update, as the
    experts would through ``review.save_review`` (whose checks have tests of their own): scores
    that follow the candidate's number with noise, the rubric and a recommendation, yes votes
    for the best."""
    rng = random.Random(seed)
    reviews = db.session.execute(select(Review.id, Review.user_id, Review.position).where(
        Review.review_round_id == review_round.id).order_by(Review.user_id, Review.position)).all()
    yes: dict[int, int] = {}
    limit = review.settings()["results"]
    rows = []
    for review_id, user_id, position in reviews[:len(reviews) - leave]:
        quality = max(1, min(10, round(10 - position / 12 + rng.gauss(0, 1.2))))
        values = {"id": review_id, "updated_at": utcnow()}
        if review_round.stage == ReviewStage.TRIAGE:
            values["score"] = quality
        elif review_round.stage == ReviewStage.SHORTLIST:
            rubric = {name: max(1, min(10, quality + rng.choice((-1, 0, 1)))) for name in review.RUBRIC}
            values |= rubric | {"score": sum(rubric.values()) / len(rubric), "recommendation": Recommendation(
                "strongly" if quality >= 8 else "recommend" if quality >= 6 else "neutral")}
        else:
            values["vote"] = yes.get(user_id, 0) < limit and position <= limit + 4
            yes[user_id] = yes.get(user_id, 0) + values["vote"]
        rows.append(values)
    if rows:
        db.session.execute(update(Review), rows)
    db.session.commit()
    db.session.expire_all()


@pytest.fixture()
def review_staff(make_user):
    return make_user(Role.STAFF)


@pytest.fixture()
def five_experts(make_user):
    return [make_user(Role.EXPERT) for _ in range(5)]


@pytest.fixture()
def open_panel(app, review_ranking_output, review_staff, five_experts) -> Panel:
    selection_round = import_round(app, review_ranking_output)
    return running_panel(selection_round, review_staff, five_experts, five_experts[0])
