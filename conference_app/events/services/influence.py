"""The Top-10 influential academic conferences (十佳影响力学术会议, seed 004): staff open a
round for a year, nominate conferences from the recorded events and assign experts; the
experts score each nomination on the round's criteria (academic value, social influence,
attention from scientists, service to economic and social development; weights as data);
the result ranks the nominations by their weighted score, with the spread of the experts.

``rank_nominations`` is the pure statistics; the rest reads and writes the rounds.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from conference_app.accounts.models import User
from conference_app.audit.services import record, register_action_titles
from conference_app.core.db import lock
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text
from conference_app.core.timeutil import day_start
from conference_app.events.models import (
    Event,
    EventKind,
    EventStatus,
    InfluenceNomination,
    InfluenceReviewer,
    InfluenceRound,
    InfluenceScore,
    RoundStatus,
)
from conference_app.events.workflow import INFLUENCE_ROUND
from conference_app.extensions import db

SCORE_MIN, SCORE_MAX = 1, 10
# The criteria of seed 004 and the weights a new round starts with (staff may change them).
DEFAULT_CRITERIA = (
    {"code": "academic_value", "name_zh": "学术价值", "name_en": "Academic value", "weight": 0.30},
    {"code": "social_influence", "name_zh": "社会影响力", "name_en": "Social influence", "weight": 0.25},
    {"code": "scientist_attention", "name_zh": "科技工作者关注度", "name_en": "Attention from scientists", "weight": 0.25},
    {"code": "socioeconomic_service", "name_zh": "服务经济社会发展", "name_en": "Service to economic and social development",
     "weight": 0.20},
)
# What can be nominated: conferences and annual meetings (salons and report sessions are not).
NOMINABLE_KINDS = (EventKind.INTERNATIONAL, EventKind.NATIONAL, EventKind.REGIONAL, EventKind.ANNUAL_MEETING)

register_action_titles({
    "influence_round.created": _l("Top-10 round opened"),
    "influence_round.reviewers_changed": _l("Reviewers of the Top-10 round changed"),
    "influence_nomination.created": _l("Conference nominated"),
    "influence_nomination.removed": _l("Nomination withdrawn"),
    "influence_nomination.scored": _l("Nomination scored"),
})


def criterion_name(criterion: Mapping) -> str:
    """A criterion's name in the reader's language."""
    return criterion["name_zh"] if str(get_locale() or "zh_CN").startswith("zh") else criterion["name_en"]


def check_criteria(criteria: Iterable[Mapping]) -> list[dict]:
    """Validated criteria: distinct codes, names, weights > 0 summing to 1 (within 0.001)."""
    cleaned = []
    for criterion in criteria:
        try:
            weight = float(criterion["weight"])
        except (KeyError, TypeError, ValueError):
            raise ServiceError(_("Each criterion needs a weight.")) from None
        if not 0 < weight <= 1:
            raise ServiceError(_("A weight is a number above 0 and at most 1."))
        cleaned.append({"code": str(criterion["code"]), "name_zh": str(criterion["name_zh"]),
                        "name_en": str(criterion["name_en"]), "weight": round(weight, 4)})
    if not cleaned or len({c["code"] for c in cleaned}) != len(cleaned):
        raise ServiceError(_("The criteria must have distinct codes."))
    if abs(sum(c["weight"] for c in cleaned) - 1) > 0.001:
        raise ServiceError(_("The weights must add up to 1 (now %(total)s).",
                             total=round(sum(c["weight"] for c in cleaned), 4)))
    return cleaned


# --- the statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NominationResult:
    """A nomination's standing: its weighted score (the mean over experts of each expert's
    weighted sum), the mean per criterion, the spread of the experts' totals, its rank."""

    nomination_id: int
    score: float | None
    by_criterion: dict[str, float]
    reviewer_totals: tuple[float, ...]
    lowest: float | None
    highest: float | None
    stdev: float | None
    rank: int | None = None
    selected: bool = False
    missing: int = 0  # experts who have not scored every criterion of it
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def spread(self) -> float | None:
        return None if self.lowest is None else round(self.highest - self.lowest, 2)


def rank_nominations(
    scores: Iterable[tuple[int, int, str, int]], criteria: list[Mapping], nomination_ids: Iterable[int],
    reviewer_ids: Iterable[int], winners: int,
) -> list[NominationResult]:
    """Rank nominations from ``scores`` rows (nomination, reviewer, criterion, score).

    An expert's total for a nomination is the weighted sum of the criteria they scored, and
    counts only when they scored every criterion; the nomination's score is the mean of
    the complete totals. Ties share the better rank; the first ``winners`` ranks are
    selected (more when a tie straddles the last place).
    """
    weights = {c["code"]: float(c["weight"]) for c in criteria}
    reviewers = list(reviewer_ids)
    table: dict[int, dict[int, dict[str, int]]] = {n: {} for n in nomination_ids}
    for nomination_id, reviewer_id, criterion, score in scores:
        if nomination_id in table and criterion in weights:
            table[nomination_id].setdefault(reviewer_id, {})[criterion] = score
    unranked = []
    for nomination_id, by_reviewer in table.items():
        totals = tuple(round(sum(weights[c] * given[c] for c in weights), 4)
                       for given in by_reviewer.values() if set(given) == set(weights))
        per_criterion = {c: round(statistics.fmean(given[c] for given in by_reviewer.values() if c in given), 2)
                         for c in weights if any(c in given for given in by_reviewer.values())}
        missing = sum(1 for reviewer in reviewers if set(by_reviewer.get(reviewer, {})) != set(weights))
        unranked.append(NominationResult(
            nomination_id=nomination_id,
            score=round(statistics.fmean(totals), 2) if totals else None,
            by_criterion=per_criterion,
            reviewer_totals=totals,
            lowest=min(totals) if totals else None,
            highest=max(totals) if totals else None,
            stdev=round(statistics.stdev(totals), 2) if len(totals) > 1 else None,
            missing=missing,
        ))
    scored = sorted((r for r in unranked if r.score is not None), key=lambda r: (-r.score, r.nomination_id))
    ranked, previous, rank = [], None, 0
    for position, result in enumerate(scored, start=1):
        if result.score != previous:
            rank, previous = position, result.score
        ranked.append(NominationResult(**{**result.__dict__, "rank": rank, "selected": rank <= winners}))
    return ranked + sorted((r for r in unranked if r.score is None), key=lambda r: r.nomination_id)


# --- rounds ----------------------------------------------------------------------------------------


def open_round(year: int, *, criteria: Iterable[Mapping] | None = None, winners: int = 10) -> InfluenceRound:
    """Staff open a year's round (nominating), with its criteria and weights."""
    if not 2000 <= (year or 0) <= 2100:
        raise ServiceError(_("Enter a year between 2000 and 2100."))
    if not 1 <= (winners or 0) <= 50:
        raise ServiceError(_("The number of conferences selected is from 1 to 50."))
    if db.session.scalar(select(InfluenceRound.id).where(InfluenceRound.year == year)) is not None:
        raise ServiceError(_("The %(year)d round exists already.", year=year))
    influence_round = InfluenceRound(year=year, criteria=check_criteria(criteria or DEFAULT_CRITERIA),
                                     winners=winners, status=RoundStatus.NOMINATING)
    db.session.add(influence_round)
    flush({"year": _l("This round exists already.")})
    record("influence_round.created", influence_round, to_state=influence_round.status,
           details={"criteria": influence_round.criteria, "winners": winners})
    return influence_round


def nominable_events(influence_round: InfluenceRound) -> list[Event]:
    """Conferences and annual meetings held in the round's year (Beijing dates), not yet nominated."""
    nominated = select(InfluenceNomination.event_id).where(InfluenceNomination.round_id == influence_round.id)
    query = (
        select(Event)
        .where(Event.kind.in_(NOMINABLE_KINDS), Event.status.in_([EventStatus.HELD, EventStatus.PUBLISHED]),
               Event.starts_at >= day_start(date(influence_round.year, 1, 1)),
               Event.starts_at < day_start(date(influence_round.year + 1, 1, 1)),
               Event.id.not_in(nominated))
        .order_by(Event.starts_at, Event.id)
    )
    return list(db.session.scalars(query))


def nominate(influence_round: InfluenceRound, event: Event, reason: str | None) -> InfluenceNomination:
    """Nominate a recorded conference of the round's year while the round takes nominations."""
    if influence_round.status != RoundStatus.NOMINATING:
        raise ServiceError(_("Nominations are closed in this round."), 409)
    if event not in nominable_events(influence_round):
        raise ServiceError(_("Only conferences and annual meetings held in %(year)d can be nominated, once each.",
                             year=influence_round.year))
    nomination = InfluenceNomination(round=influence_round, event=event,
                                     reason=clean_text(reason, _("Why it is nominated"), max_length=2000))
    db.session.add(nomination)
    flush({"event_id": _l("This conference is nominated already.")})
    record("influence_nomination.created", nomination, details={"round_id": influence_round.id, "event_id": event.id})
    return nomination


def withdraw_nomination(nomination: InfluenceNomination) -> None:
    if nomination.round.status != RoundStatus.NOMINATING:
        raise ServiceError(_("Nominations are closed in this round."), 409)
    record("influence_nomination.removed", nomination, details={"round_id": nomination.round_id,
                                                               "event_id": nomination.event_id})
    nomination.round.nominations.remove(nomination)
    flush()


def set_reviewers(influence_round: InfluenceRound, user_ids: Iterable[int]) -> None:
    """The experts who score the round (experts only; not once scoring has closed)."""
    if influence_round.status == RoundStatus.CLOSED:
        raise ServiceError(_("The round is closed."), 409)
    users = list(db.session.scalars(select(User).where(User.id.in_(list(user_ids)))))
    if any(user.role != Role.EXPERT for user in users):
        raise ServiceError(_("Only experts can score conferences."))
    before = sorted(r.user_id for r in influence_round.reviewers)
    influence_round.reviewers = [InfluenceReviewer(user=user) for user in users]
    flush()
    after = sorted(user.id for user in users)
    if before != after:
        record("influence_round.reviewers_changed", influence_round,
               details={"changes": {"reviewers": [before, after]}})


def change_round(influence_round: InfluenceRound, transition: str, *, actor, comment: str | None = None) -> None:
    """Start scoring, close, or reopen a round (the INFLUENCE_ROUND table)."""
    INFLUENCE_ROUND.apply(influence_round, transition, actor=actor, comment=comment)


def save_scores(nomination: InfluenceNomination, reviewer: User, scores: Mapping[str, int | None],
                comment: str | None = None) -> None:
    """An expert's scores of one nomination (1 to 10 per criterion), saved as a whole;
    scoring again replaces them while the round is scoring."""
    influence_round = nomination.round
    if influence_round.status != RoundStatus.SCORING:
        raise ServiceError(_("The round is not open for scoring."), 409)
    if all(r.user_id != reviewer.id for r in influence_round.reviewers):
        raise ServiceError(_("You are not a reviewer of this round."), 403)
    codes = [c["code"] for c in influence_round.criteria]
    if set(scores) - set(codes):
        raise ValueError("unknown criteria")
    for code in codes:
        value = scores.get(code)
        if not isinstance(value, int) or not SCORE_MIN <= value <= SCORE_MAX:
            raise ServiceError(_("Give every criterion a score from %(low)d to %(high)d.", low=SCORE_MIN,
                                 high=SCORE_MAX))
    comment = clean_text(comment, _("Comment"), max_length=2000)
    lock(f"influence-scores:{nomination.id}:{reviewer.id}")
    existing = {s.criterion: s for s in db.session.scalars(select(InfluenceScore).where(
        InfluenceScore.nomination_id == nomination.id, InfluenceScore.reviewer_id == reviewer.id))}
    for code in codes:
        row = existing.get(code) or InfluenceScore(nomination=nomination, reviewer_id=reviewer.id, criterion=code)
        row.score, row.comment = scores[code], comment
        db.session.add(row)
    flush()
    record("influence_nomination.scored", nomination, actor=reviewer,
           details={"scores": {code: scores[code] for code in codes}})


def round_with_everything(round_id: int) -> InfluenceRound | None:
    """A round with its nominations, their events and organisations, and its reviewers, in a
    fixed number of queries."""
    return db.session.scalar(
        select(InfluenceRound).where(InfluenceRound.id == round_id).options(
            selectinload(InfluenceRound.nominations).selectinload(InfluenceNomination.event)
            .selectinload(Event.organisations),
            selectinload(InfluenceRound.reviewers).selectinload(InfluenceReviewer.user),
        )
    )


def results(influence_round: InfluenceRound) -> list[tuple[InfluenceNomination, NominationResult]]:
    """The ranked nominations of a round, each with its nomination."""
    rows = db.session.execute(
        select(InfluenceScore.nomination_id, InfluenceScore.reviewer_id, InfluenceScore.criterion, InfluenceScore.score)
        .join(InfluenceNomination, InfluenceNomination.id == InfluenceScore.nomination_id)
        .where(InfluenceNomination.round_id == influence_round.id)
    ).all()
    by_id = {n.id: n for n in influence_round.nominations}
    ranked = rank_nominations(rows, influence_round.criteria, by_id, [r.user_id for r in influence_round.reviewers],
                              influence_round.winners)
    return [(by_id[result.nomination_id], result) for result in ranked]


def my_scores(influence_round: InfluenceRound, reviewer: User) -> dict[int, dict[str, int]]:
    """{nomination id: {criterion: score}} of one expert in a round."""
    rows = db.session.execute(
        select(InfluenceScore.nomination_id, InfluenceScore.criterion, InfluenceScore.score)
        .join(InfluenceNomination, InfluenceNomination.id == InfluenceScore.nomination_id)
        .where(InfluenceNomination.round_id == influence_round.id, InfluenceScore.reviewer_id == reviewer.id)
    ).all()
    found: dict[int, dict[str, int]] = {}
    for nomination_id, criterion, score in rows:
        found.setdefault(nomination_id, {})[criterion] = score
    return found


def rounds_to_score(reviewer: User) -> list[InfluenceRound]:
    """The rounds an expert reviews that are open for scoring (their home page)."""
    return list(db.session.scalars(
        select(InfluenceRound).join(InfluenceReviewer).where(InfluenceReviewer.user_id == reviewer.id,
                                                              InfluenceRound.status == RoundStatus.SCORING)
        .order_by(InfluenceRound.year.desc())
    ))
