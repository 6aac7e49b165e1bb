"""Rounds of review of an open panel, and the lock of its frontier results.

Three rounds, in order (``ReviewStage``): **triage**, every candidate of the panel's discipline
(both journal groups) scored 1-10 by ``per_item`` members assigned by ``selection.panel.assign``
(conflicts never assigned, loads within one, affinity by subfield and own works); the
**shortlist**, the triage's best ``PANEL_SHORTLIST_SIZE`` by normalised mean, plus the items
flagged for disagreement whose rank interval reaches into them, scored by every member free of
conflict on the rubric (originality, frontier, significance, international influence, 1-10,
a recommendation, a comment; the score is the rubric's mean); the **final vote**, the
shortlist's items, each member voting yes on at most ``PANEL_FINAL_RESULTS``. The statistics
of a round are ``selection.panel.stats.panel_stats`` over its scores, experts by code.

A round closes with unscored assignments only when the chair writes why. The chair locks
exactly ``PANEL_FINAL_RESULTS`` of the final round's items, each with a written justification;
after that nothing changes until staff reopen the results with a reason (``PANEL``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, delete, func, insert, select, type_coerce, update
from sqlalchemy.orm import load_only, selectinload

from conference_app.audit.services import record, register_action_titles, register_object_type_titles
from conference_app.core.db import lock, utcnow
from conference_app.core.permissions import user_can
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text
from conference_app.extensions import db
from conference_app.notifications.services import notify
from conference_app.panels.models import (
    Candidate,
    ExpertProfile,
    JournalGroup,
    Panel,
    PanelConflict,
    PanelResult,
    PanelStatus,
    Recommendation,
    Review,
    ReviewRound,
    ReviewRoundStatus,
    ReviewStage,
)
from conference_app.panels.workflow import PANEL
from selection.errors import SelectionError
from selection.panel.assign import Item, affinities, assign
from selection.panel.experts import Expert
from selection.panel.stats import DEFAULT_MAX_RANK_WIDTH, panel_stats

register_object_type_titles({"ReviewRound": _l("Round of review")})
register_action_titles({
    "review_round.created": _l("Round of review opened"),
    "review_round.closed": _l("Round of review closed"),
})

STAGE_ORDER = (ReviewStage.TRIAGE, ReviewStage.SHORTLIST, ReviewStage.FINAL)
RUBRIC = ("originality", "frontier", "significance", "influence")
RUBRIC_TITLES = {
    "originality": _l("Originality"),
    "frontier": _l("Frontier"),
    "significance": _l("Significance"),
    "influence": _l("International influence"),
}
# What a score means, shown beside every 1-10 field (the anchors of the rubric).
ANCHORS = (
    (9, 10, _l("Outstanding: among the best in the world in its field")),
    (7, 8, _l("Strong: clearly advances the field")),
    (5, 6, _l("Sound: a solid contribution")),
    (3, 4, _l("Limited: incremental")),
    (1, 2, _l("Weak: not a frontier result")),
)
SCORE_MIN, SCORE_MAX = 1, 10
COMMENT_MAX_LENGTH = 4000
JUSTIFICATION_MAX_LENGTH = 2000


def settings() -> dict:
    config = current_app.config
    return {"per_item": config["PANEL_TRIAGE_PER_ITEM"], "shortlist": config["PANEL_SHORTLIST_SIZE"],
            "results": config["PANEL_FINAL_RESULTS"]}


# --- reading -----------------------------------------------------------------------------------


def member_codes(panel: Panel) -> dict[int, str]:
    """Each member's code (E1, E2 … in the order they joined), by user id."""
    return {member.user_id: f"E{number}" for number, member in enumerate(panel.members, start=1)}


def rounds_of(panel: Panel) -> dict[ReviewStage, ReviewRound]:
    return {review_round.stage: review_round for review_round in panel.review_rounds}


def next_stage(panel: Panel) -> ReviewStage | None:
    """The stage whose round the chair may open now, or None."""
    existing = rounds_of(panel)
    for stage in STAGE_ORDER:
        if stage not in existing:
            previous = STAGE_ORDER[STAGE_ORDER.index(stage) - 1] if stage != STAGE_ORDER[0] else None
            if previous is not None and existing[previous].is_open:
                return None
            return stage
    return None


def active_conflicts(panel: Panel) -> set[tuple[int, int]]:
    """(user id, candidate id) pairs with a conflict nobody has set aside."""
    return set(db.session.execute(
        select(PanelConflict.user_id, PanelConflict.candidate_id)
        .where(PanelConflict.panel_id == panel.id, PanelConflict.overridden_by_id.is_(None))).all())


def expert_reviews(review_round: ReviewRound, user_id: int) -> list[Review]:
    """One expert's reviews of the round, with what the scoring screen shows of each
    candidate; two statements whatever their number."""
    return list(db.session.scalars(
        select(Review).where(Review.review_round_id == review_round.id, Review.user_id == user_id)
        .options(selectinload(Review.candidate).load_only(
            Candidate.id, Candidate.work_id, Candidate.title, Candidate.publication_year, Candidate.journal_group,
            Candidate.source_name, Candidate.cluster_terms, Candidate.rank, Candidate.score, Candidate.work_type,
            Candidate.doi))
        .order_by(Review.position, Review.id)))


# What the scoring screen's rows hold of each review: the fields its stage scores.
SCORED_FIELDS = {ReviewStage.TRIAGE: ("score",), ReviewStage.SHORTLIST: ("score", *RUBRIC, "recommendation"),
                 ReviewStage.FINAL: ("vote",)}


def expert_review_rows(review_round: ReviewRound, user_id: int, blind: bool) -> tuple[tuple[str, ...], list[tuple]]:
    """One expert's reviews of the round for the scoring screen, in the round's order: the names
    of the columns, and one tuple of plain values a review (the id, the number, the fields its
    stage scores, the comment; the candidate's title, year, journal group (its value) and cluster
    terms, and unless ``blind`` its journal and DOI; a blind round's rows never hold these, nor
    does any row hold the authors, their institutions or the work id). One statement whatever
    their number, read as plain rows (no ORM object, no enum member built)."""
    reviews, candidates = Review.__table__.c, Candidate.__table__.c
    columns = {"id": reviews.id, "position": reviews.position}
    columns |= {name: reviews[name] for name in SCORED_FIELDS[review_round.stage]}
    columns |= {"comment": reviews.comment, "title": candidates.title, "year": candidates.publication_year,
                "group": candidates.journal_group, "terms": candidates.cluster_terms}
    if not blind:
        columns |= {"source_name": candidates.source_name, "doi": candidates.doi}
    enums = {"recommendation", "group"}  # read as their stored values
    query = (select(*(type_coerce(column, String) if name in enums else column for name, column in columns.items()))
             .select_from(Review.__table__.join(Candidate.__table__, candidates.id == reviews.candidate_id))
             .where(reviews.review_round_id == review_round.id, reviews.user_id == user_id)
             .order_by(reviews.position, reviews.id))
    return tuple(columns), [tuple(row) for row in db.session.execute(query)]


def expert_review_index(item: Review) -> int:
    """Where ``item`` stands among its expert's reviews of the round (0 for the first), in the
    order of ``expert_review_rows``."""
    return db.session.scalar(select(func.count()).where(
        Review.review_round_id == item.review_round_id, Review.user_id == item.user_id,
        (Review.position < item.position) | ((Review.position == item.position) & (Review.id < item.id))))


def is_done(review: Review) -> bool:
    return review.vote is not None if review.review_round.stage == ReviewStage.FINAL else review.score is not None


def _done_clause(review_round: ReviewRound):
    return Review.vote.is_not(None) if review_round.stage == ReviewStage.FINAL else Review.score.is_not(None)


def progress(review_round: ReviewRound, user_id: int | None = None) -> tuple[int, int]:
    """(done, assigned) of the round, or of one expert."""
    query = select(func.count(), func.count().filter(_done_clause(review_round))).where(
        Review.review_round_id == review_round.id)
    if user_id is not None:
        query = query.where(Review.user_id == user_id)
    total, done = db.session.execute(query).one()
    return done, total


def progress_by_expert(review_round: ReviewRound) -> dict[int, tuple[int, int]]:
    rows = db.session.execute(
        select(Review.user_id, func.count().filter(_done_clause(review_round)), func.count())
        .where(Review.review_round_id == review_round.id).group_by(Review.user_id))
    return {user_id: (done, total) for user_id, done, total in rows}


def yes_votes(review_round: ReviewRound, user_id: int) -> int:
    return db.session.scalar(select(func.count()).where(
        Review.review_round_id == review_round.id, Review.user_id == user_id, Review.vote.is_(True)))


def scores_frame(review_round: ReviewRound) -> pd.DataFrame:
    """``item_id,expert_id,score`` of the round's done reviews (the final vote as 1 and 0);
    items are candidate ids, experts their codes."""
    codes = member_codes(review_round.panel)
    value = Review.vote if review_round.stage == ReviewStage.FINAL else Review.score
    rows = db.session.execute(select(Review.candidate_id, Review.user_id, value).where(
        Review.review_round_id == review_round.id, value.is_not(None)).order_by(Review.position, Review.user_id))
    return pd.DataFrame([(str(candidate_id), codes.get(user_id, f"U{user_id}"), float(score))
                         for candidate_id, user_id, score in rows], columns=["item_id", "expert_id", "score"])


_LIVE_STATISTICS: OrderedDict[tuple, dict | None] = OrderedDict()
_LIVE_STATISTICS_KEPT = 32
_LIVE_STATISTICS_LOCK = threading.Lock()
_MISSING = object()


def statistics(review_round: ReviewRound) -> dict | None:
    """The round's agreement and aggregation: stored at closing, computed while it runs (and
    kept per process for the same scores: the bootstrap takes a few tenths of a second);
    None before any score."""
    if review_round.stats is not None:
        return review_round.stats
    frame = scores_frame(review_round)
    key = tuple(frame.itertuples(index=False, name=None))
    found = _LIVE_STATISTICS.get(key, _MISSING)
    if found is _MISSING:
        found = _statistics(frame)
        with _LIVE_STATISTICS_LOCK:
            _LIVE_STATISTICS[key] = found
            while len(_LIVE_STATISTICS) > _LIVE_STATISTICS_KEPT:
                _LIVE_STATISTICS.popitem(last=False)
    return found


def _statistics(frame: pd.DataFrame) -> dict | None:
    """``panel_stats``, a rank interval counting as disagreement when it is wider than
    ``PANEL_MAX_RANK_WIDTH_SHARE`` of the round's items (at least the library's default): with
    three scores of 1-10 per item, intervals over hundreds of items are wide for every item."""
    if frame.empty:
        return None
    share = current_app.config["PANEL_MAX_RANK_WIDTH_SHARE"]
    width = max(DEFAULT_MAX_RANK_WIDTH, round(share * frame["item_id"].nunique()))
    try:
        return panel_stats(frame, max_rank_width=width)
    except SelectionError:
        return None


@dataclass(frozen=True)
class Tally:
    """One item of the final round: its yes votes and its shortlist standing."""

    candidate: Candidate
    yes: int
    voted: int
    shortlist_rank: int | None
    shortlist_mean: float | None


def final_tally(panel: Panel) -> list[Tally]:
    """The final round's items, most yes votes first, ties by the shortlist's rank."""
    rounds = rounds_of(panel)
    final = rounds.get(ReviewStage.FINAL)
    if final is None:
        return []
    shortlist_stats = statistics(rounds[ReviewStage.SHORTLIST]) or {"items": []}
    standing = {int(item["item_id"]): item for item in shortlist_stats["items"]}
    rows = db.session.execute(
        select(Review.candidate_id, func.count().filter(Review.vote.is_(True)), func.count(Review.vote))
        .where(Review.review_round_id == final.id).group_by(Review.candidate_id)).all()
    candidates = {candidate.id: candidate for candidate in db.session.scalars(
        select(Candidate).where(Candidate.id.in_([row[0] for row in rows])))}
    tallies = [Tally(candidates[candidate_id], yes, voted, standing.get(candidate_id, {}).get("rank"),
                     standing.get(candidate_id, {}).get("normalised_mean")) for candidate_id, yes, voted in rows]
    return sorted(tallies, key=lambda tally: (-tally.yes, tally.shortlist_rank or 10**9, tally.candidate.id))


# --- opening a round ------------------------------------------------------------------------------


def _require_running(panel: Panel) -> None:
    lock(f"panels:{panel.id}")
    db.session.refresh(panel, ["status"])
    if panel.status == PanelStatus.FORMING:
        raise ServiceError(_("The panel is still forming: open it first."), 409)
    if panel.status == PanelStatus.LOCKED:
        raise ServiceError(_("The panel's results are locked: nothing changes until staff reopen them."), 409)


def _require_chair(panel: Panel, actor) -> None:
    if not user_can(actor, "panels.chair", panel):
        raise ServiceError(_("You may not do this."), 403)


def create_round(panel: Panel, stage: str, actor, *, blind: bool = True, per_item: int | None = None,
                 size: int | None = None) -> ReviewRound:
    """Open the panel's round of ``stage`` with its assignments (module docstring)."""
    _require_chair(panel, actor)
    _require_running(panel)
    try:
        stage = ReviewStage(stage)
    except ValueError:
        raise ServiceError(_("Unknown round of review."), 404) from None
    if next_stage(panel) != stage:
        raise ServiceError(_("This round cannot be opened now: the rounds run triage, shortlist, final vote, "
                             "each after the previous one has closed."), 409)
    if panel.conflicts_computed_at is None:
        raise ServiceError(_("Compute the conflicts before the first round is assigned."), 409)
    limits = settings()
    conflicts = active_conflicts(panel)
    member_ids = [member.user_id for member in panel.members]
    report: dict = {}
    if stage == ReviewStage.TRIAGE:
        per_item = limits["per_item"] if per_item is None else per_item
        if not 1 <= per_item <= len(member_ids):
            raise ServiceError(_("Experts per candidate must be between 1 and the panel's %(count)d members.",
                                 count=len(member_ids)))
        candidates = _panel_candidates(panel)
        pairs, report = _triage_assignment(panel, candidates, conflicts, per_item)
    else:
        previous = rounds_of(panel)[STAGE_ORDER[STAGE_ORDER.index(stage) - 1]]
        if stage == ReviewStage.SHORTLIST:
            size = limits["shortlist"] if size is None else size
            if not limits["results"] <= size <= 1000:
                raise ServiceError(_("The shortlist holds between %(minimum)d and 1000 candidates.",
                                     minimum=limits["results"]))
            candidates = _shortlist(previous, size)
        else:
            candidates = _ranked_items(previous)
        if len(candidates) < limits["results"]:
            raise ServiceError(_("The previous round ranks only %(count)d candidates; %(needed)d are needed.",
                                 count=len(candidates), needed=limits["results"]))
        pairs = [(candidate, user_id) for candidate in candidates for user_id in member_ids
                 if (user_id, candidate.id) not in conflicts]
        covered = {candidate.id for candidate, _user in pairs}
        report = {"unfilled": [{"candidate_id": c.id, "work_id": c.work_id, "available": 0}
                               for c in candidates if c.id not in covered]}
    review_round = ReviewRound(panel=panel, stage=stage, status=ReviewRoundStatus.OPEN, blind=bool(blind),
                               per_item=per_item if stage == ReviewStage.TRIAGE else None,
                               item_count=len(candidates), assignment_report=report,
                               created_by_id=getattr(actor, "id", None))
    db.session.add(review_round)
    flush({"panel_id": _("This round has already been opened.")})
    positions = {candidate.id: number for number, candidate in enumerate(candidates, start=1)}
    db.session.execute(insert(Review), [
        {"review_round_id": review_round.id, "candidate_id": candidate.id, "user_id": user_id,
         "position": positions[candidate.id]} for candidate, user_id in pairs])
    loads: dict[int, int] = {}
    for _candidate, user_id in pairs:
        loads[user_id] = loads.get(user_id, 0) + 1
    record("review_round.created", review_round, actor=actor, details={
        "stage": str(stage), "blind": review_round.blind, "candidates": len(candidates), "reviews": len(pairs),
        "per_item": review_round.per_item, "unfilled": len(report.get("unfilled") or []),
        "loads": {member_codes(panel)[user_id]: load for user_id, load in sorted(loads.items())},
    })
    flush()
    members = [member.user for member in panel.members if member.user_id in loads]
    notify(members, _l("A round of review is open"),
           _l("The round of review of your expert panel is open; your assigned candidates are waiting for your "
              "scores."), endpoint="panels.score", review_round_id=review_round.id)
    return review_round


def _panel_candidates(panel: Panel) -> list[Candidate]:
    """The discipline's candidates of both journal groups, international first, best first."""
    group_order = {JournalGroup.INTERNATIONAL: 0, JournalGroup.DOMESTIC: 1}
    candidates = db.session.scalars(select(Candidate).where(
        Candidate.round_id == panel.round_id, Candidate.discipline == panel.discipline)
        .options(load_only(Candidate.id, Candidate.work_id, Candidate.journal_group, Candidate.rank,
                           Candidate.subfield_id, Candidate.topic_id, Candidate.authorships)))
    return sorted(candidates, key=lambda c: (group_order.get(c.journal_group, 2), c.rank, c.id))


def _triage_assignment(panel: Panel, candidates: list[Candidate], conflicts: set[tuple[int, int]],
                       per_item: int) -> tuple[list[tuple[Candidate, int]], dict]:
    profiles = {profile.user_id: profile for profile in db.session.scalars(
        select(ExpertProfile).where(ExpertProfile.user_id.in_([m.user_id for m in panel.members])))}
    experts = [Expert(expert_id=str(member.user_id), name=member.user.name,
                      author_id=getattr(profiles.get(member.user_id), "openalex_author_id", None),
                      institution_ids=tuple(getattr(profiles.get(member.user_id), "institution_ids", None) or ()))
               for member in panel.members]
    items = [Item(work_id=str(candidate.id), subfield_id=candidate.subfield_id, topic_id=candidate.topic_id,
                  author_ids=tuple(_author_ids(candidate))) for candidate in candidates]
    pairs_off = {(str(candidate_id), str(user_id)) for user_id, candidate_id in conflicts}
    try:
        result = assign(items, experts, pairs_off, per_item, affinities(items, experts), seed=panel.id)
    except SelectionError as error:
        raise ServiceError(_("The assignment failed: %(reason)s.", reason=str(error)), 409) from None
    by_id = {str(candidate.id): candidate for candidate in candidates}
    pairs = [(by_id[item_id], int(user_id)) for item_id, user_id in result.pairs]
    report = {"solver": result.solver, "affinity_total": result.affinity_total, "conflict_pairs": result.conflict_pairs,
              "unfilled": [{"candidate_id": int(entry.work_id), "work_id": by_id[entry.work_id].work_id,
                            "available": entry.available, "assigned": entry.assigned} for entry in result.unfilled]}
    return pairs, report


def _author_ids(candidate: Candidate) -> list[str]:
    return [authorship["author_id"] for authorship in candidate.authorships or [] if authorship.get("author_id")]


def _ranked_items(review_round: ReviewRound) -> list[Candidate]:
    """The round's scored items, best first by its statistics."""
    stats = statistics(review_round) or {"items": []}
    order = [int(item["item_id"]) for item in stats["items"]]
    candidates = {c.id: c for c in db.session.scalars(select(Candidate).where(Candidate.id.in_(order)))}
    return [candidates[candidate_id] for candidate_id in order if candidate_id in candidates]


def _shortlist(triage: ReviewRound, size: int) -> list[Candidate]:
    """The triage's best ``size``, and every item flagged for disagreement whose rank interval
    reaches into them (sent to discussion rather than dropped)."""
    stats = statistics(triage) or {"items": []}
    chosen = [int(item["item_id"]) for item in stats["items"]
              if item["rank"] <= size or (item["disagreement"] and (item["rank_low"] or item["rank"]) <= size)]
    candidates = {c.id: c for c in db.session.scalars(select(Candidate).where(Candidate.id.in_(chosen)))}
    return [candidates[candidate_id] for candidate_id in chosen if candidate_id in candidates]


# --- scoring --------------------------------------------------------------------------------------


def _whole_score(value, label) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number != int(number) or not SCORE_MIN <= number <= SCORE_MAX:
        raise ServiceError(_("%(field)s is a whole number from 1 to 10.", field=label))
    return int(number)


def _vote(value) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "true", "1", "on"):
        return True
    if text in ("no", "false", "0", "off"):
        return False
    raise ServiceError(_("The vote is yes or no."))


def save_review(review: Review, values: dict, actor) -> Review:
    """Save what the expert changed of their review; only the keys present in ``values`` change.

    Refused: another's review (403), a closed round or locked results (409), a conflict found
    after the assignment (409), a score outside 1-10, more yes votes than the results (409)."""
    if actor is None or review.user_id != getattr(actor, "id", None):
        raise ServiceError(_("This is not your review."), 403)
    review_round = review.review_round
    lock(f"panel-review:{review_round.id}:{review.user_id}")
    db.session.refresh(review_round, ["status"])
    db.session.refresh(review_round.panel, ["status"])
    if not review_round.is_open or review_round.panel.status != PanelStatus.OPEN:
        raise ServiceError(_("This round of review is closed: its scores no longer change."), 409)
    if (review.user_id, review.candidate_id) in active_conflicts(review_round.panel):
        raise ServiceError(_("You have a conflict of interest with this candidate: it is not yours to score."), 409)
    db.session.refresh(review)
    stage = review_round.stage
    allowed = {ReviewStage.TRIAGE: {"score", "comment"},
               ReviewStage.SHORTLIST: {*RUBRIC, "recommendation", "comment"},
               ReviewStage.FINAL: {"vote", "comment"}}[stage]
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ServiceError(_("This round does not score %(fields)s.", fields=", ".join(unknown)))
    if "score" in values:
        review.score = _whole_score(values["score"], _("Score"))
    for name in RUBRIC:
        if name in values:
            setattr(review, name, _whole_score(values[name], RUBRIC_TITLES[name]))
    if stage == ReviewStage.SHORTLIST:
        rubric = [getattr(review, name) for name in RUBRIC]
        review.score = round(sum(rubric) / len(rubric), 4) if all(value is not None for value in rubric) else None
    if "recommendation" in values:
        choice = values["recommendation"] or None
        if choice is not None and choice not in Recommendation.titles():
            raise ServiceError(_("Unknown recommendation."))
        review.recommendation = Recommendation(choice) if choice else None
    if "vote" in values:
        vote = _vote(values["vote"])
        limit = settings()["results"]
        if vote and not review.vote and yes_votes(review_round, review.user_id) >= limit:
            raise ServiceError(_("You have already voted yes for %(limit)d candidates: take one back first.",
                                 limit=limit), 409)
        review.vote = vote
    if "comment" in values:
        review.comment = clean_text(values["comment"], _("Comment"), max_length=COMMENT_MAX_LENGTH)
    review.updated_at = utcnow()
    flush()
    return review


def vote_rest_no(review_round: ReviewRound, actor) -> int:
    """The expert's final-round items without a vote become no; how many."""
    if review_round.stage != ReviewStage.FINAL:
        raise ServiceError(_("Only the final vote has yes and no."), 409)
    lock(f"panel-review:{review_round.id}:{actor.id}")
    db.session.refresh(review_round, ["status"])
    if not review_round.is_open:
        raise ServiceError(_("This round of review is closed: its scores no longer change."), 409)
    conflicted = [candidate_id for user_id, candidate_id in active_conflicts(review_round.panel) if user_id == actor.id]
    result = db.session.execute(update(Review).where(
        Review.review_round_id == review_round.id, Review.user_id == actor.id, Review.vote.is_(None),
        Review.candidate_id.not_in(conflicted)).values(vote=False, updated_at=utcnow()))
    flush()
    return result.rowcount


# --- closing, locking, reopening ------------------------------------------------------------------


def close_round(review_round: ReviewRound, reason: str | None, actor) -> ReviewRound:
    """Close the round; with unscored assignments only when ``reason`` says why."""
    panel = review_round.panel
    _require_chair(panel, actor)
    _require_running(panel)
    db.session.refresh(review_round, ["status"])
    if not review_round.is_open:
        raise ServiceError(_("This round of review is already closed."), 409)
    reason = clean_text(reason, _("Reason"), max_length=COMMENT_MAX_LENGTH)
    done, total = progress(review_round)
    unscored = total - done
    if unscored and not reason:
        raise ServiceError(_("%(count)d of %(total)d assignments are not scored yet: write why the round closes "
                             "without them, or wait for them.", count=unscored, total=total), 409)
    review_round.stats = _statistics(scores_frame(review_round))
    if review_round.stats is None:
        raise ServiceError(_("Nothing has been scored in this round: it cannot close."), 409)
    review_round.status = ReviewRoundStatus.CLOSED
    review_round.closed_at = utcnow()
    review_round.closed_by_id = actor.id
    review_round.close_reason = reason if unscored else None
    review_round.unscored_at_close = unscored
    stats = review_round.stats
    record("review_round.closed", review_round, actor=actor, comment=review_round.close_reason, details={
        "stage": str(review_round.stage), "scored": done, "assigned": total, "unscored": unscored,
        "kendalls_w": stats.get("kendalls_w"), "icc2_1": stats.get("icc2_1"), "icc2_k": stats.get("icc2_k"),
        "krippendorff_alpha_interval": stats.get("krippendorff_alpha_interval"),
        "disagreements": sum(item["disagreement"] for item in stats["items"]),
    })
    flush()
    return review_round


def locking_refusal(panel: Panel) -> str | None:
    """Why the results may not be locked now (the PANEL guard): the final round must be
    closed and exactly ``PANEL_FINAL_RESULTS`` results written, each justified."""
    final = db.session.scalar(select(ReviewRound).filter_by(panel_id=panel.id, stage=ReviewStage.FINAL))
    if final is None or final.is_open:
        return _("The final vote has to be closed before the results are locked.")
    needed = settings()["results"]
    count = db.session.scalar(select(func.count()).select_from(PanelResult).filter_by(panel_id=panel.id))
    if count != needed:
        return _("Exactly %(needed)d results are locked, not %(count)d.", needed=needed, count=count)
    return None


def lock_results(panel: Panel, entries: list[tuple[int, str | None]], actor) -> list[PanelResult]:
    """Lock ``entries`` (candidate id, justification) as the panel's frontier results, in order."""
    _require_chair(panel, actor)
    _require_running(panel)
    needed = settings()["results"]
    tallies = {tally.candidate.id: tally for tally in final_tally(panel)}
    chosen = [candidate_id for candidate_id, _text in entries]
    if len(chosen) != needed or len(set(chosen)) != len(chosen):
        raise ServiceError(_("Choose exactly %(needed)d different candidates; %(count)d are chosen.",
                             needed=needed, count=len(set(chosen))), 409)
    outside = [candidate_id for candidate_id in chosen if candidate_id not in tallies]
    if outside:
        raise ServiceError(_("Only candidates of the final vote can be frontier results."), 409)
    justified = []
    for position, (candidate_id, text) in enumerate(entries, start=1):
        work = tallies[candidate_id].candidate.work_id
        justification = clean_text(text, _("Justification"), max_length=JUSTIFICATION_MAX_LENGTH)
        if not justification:
            raise ServiceError(_("Please write the panel's justification for %(work)s.", work=work))
        justified.append({"panel_id": panel.id, "candidate_id": candidate_id, "position": position,
                          "justification": justification, "votes": tallies[candidate_id].yes})
    db.session.execute(delete(PanelResult).where(PanelResult.panel_id == panel.id))
    db.session.execute(insert(PanelResult), justified)
    PANEL.apply(panel, "lock", actor=actor, details={"results": [
        {"position": row["position"], "work_id": tallies[row["candidate_id"]].candidate.work_id,
         "votes": row["votes"], "justification": row["justification"]} for row in justified]})
    panel.locked_at = utcnow()
    panel.locked_by_id = actor.id
    flush()
    db.session.expire(panel, ["results"])
    return list(panel.results)


def reopen_results(panel: Panel, comment: str | None, actor) -> None:
    """Staff reopen locked results; the reason is required and logged."""
    PANEL.apply(panel, "reopen", actor=actor, comment=comment,
                details={"results": [result.candidate_id for result in panel.results]})
    panel.locked_at = None
    panel.locked_by_id = None
    flush()
