"""The panels' part of the JSON API (``/api/v1``, ``docs/api.md``; declared for the OpenAPI
document through ``core.api``).

Expert reviews (bearer tokens of scope ``review``): a round's reviews of the token's user, and
saving one of them. The token acts as its user: another expert's review is a 403, a round
without the user's reviews a 404, and a blind round's answers carry no author, institution or
journal.

Selection rounds (scope ``selection``, analysts and staff, ``panels.rounds``): the rounds, one
round with its lists, and a round's candidates, read-only.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from conference_app.accounts.models import TokenScope
from conference_app.accounts.tokens import token_scope
from conference_app.core.api import (
    BeijingDateTime,
    ErrorBody,
    Text,
    api_operation,
    choice_argument,
    model_response,
    page_argument,
    text_argument,
)
from conference_app.core.api import api_blueprint as new_api_blueprint
from conference_app.core.db import MAX_PAGE, column_length
from conference_app.core.permissions import requires
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.panels import review, services
from conference_app.panels.models import (
    Candidate,
    JournalGroup,
    Recommendation,
    Review,
    ReviewRound,
    ReviewStage,
    SelectionRound,
    Stability,
)

api_blueprint = new_api_blueprint("panels_api", __name__)

ROUNDS_PER_PAGE = 50
CANDIDATES_PER_PAGE = 100
Score = Annotated[int, Field(ge=review.SCORE_MIN, le=review.SCORE_MAX)]


# --- reviews -------------------------------------------------------------------------------------


class ReviewCandidate(BaseModel):
    """The candidate as a blind round shows it."""

    position: int = Field(description="The candidate's number in the round.")
    title: str | None
    publication_year: int | None


class OpenReviewCandidate(ReviewCandidate):
    """The candidate as a round that is not blind shows it."""

    work_id: str
    doi: str | None
    source_name: str | None


class ReviewObject(BaseModel):
    id: int
    review_round_id: int
    candidate: OpenReviewCandidate | ReviewCandidate
    score: float | None = Field(description="1-10; in the shortlist the mean of the four rubric scores.")
    originality: int | None
    frontier: int | None
    significance: int | None
    influence: int | None
    recommendation: Recommendation | None
    vote: bool | None
    comment: str | None
    done: bool


class RoundReviews(BaseModel):
    review_round_id: int
    stage: ReviewStage
    open: bool
    blind: bool
    reviews: list[ReviewObject]


class ReviewChanges(BaseModel):
    """The members to change; null clears one. A round takes only its own: triage `score` and
    `comment`; shortlist the four rubric scores, `recommendation` and `comment`; final `vote` and
    `comment` (any other member is a 400 naming it)."""

    score: Score | None = None
    originality: Score | None = None
    frontier: Score | None = None
    significance: Score | None = None
    influence: Score | None = None
    recommendation: Recommendation | None = None
    vote: bool | None = None
    comment: Text | None = Field(None, json_schema_extra={"maxLength": review.COMMENT_MAX_LENGTH})


def _member_refusal(name: str) -> str:
    """The service's own message for a member of the wrong kind."""
    if name == "score":
        return _("%(field)s is a whole number from 1 to 10.", field=_("Score"))
    if name in review.RUBRIC:
        return _("%(field)s is a whole number from 1 to 10.", field=review.RUBRIC_TITLES[name])
    if name == "recommendation":
        return _("Unknown recommendation.")
    if name == "vote":
        return _("The vote is yes or no.")
    return _("The field %(field)s must be text.", field=name)


def review_object(item: Review) -> ReviewObject:
    """A review and what its round lets the expert see of the candidate."""
    candidate = item.candidate
    shown = {"position": item.position, "title": candidate.title, "publication_year": candidate.publication_year}
    if item.review_round.blind:
        seen = ReviewCandidate(**shown)
    else:
        seen = OpenReviewCandidate(**shown, work_id=candidate.work_id, doi=candidate.doi,
                                   source_name=candidate.source_name)
    return ReviewObject(
        id=item.id, review_round_id=item.review_round_id, candidate=seen, score=item.score,
        **{name: getattr(item, name) for name in review.RUBRIC}, recommendation=item.recommendation,
        vote=item.vote, comment=item.comment, done=review.is_done(item),
    )


@api_blueprint.get("/review-rounds/<id:review_round_id>/reviews")
@api_operation(summary="The token user's reviews in a round of review", responses={200: RoundReviews},
               tags=["reviews"], description="A round of a panel the expert does not sit on is a 403; a round "
                                             "where the expert has no reviews is a 404.")
@requires("panels.view", load=ReviewRound, arg="review_round_id")
@token_scope(TokenScope.REVIEW)
def round_reviews(review_round: ReviewRound):
    reviews = review.expert_reviews(review_round, current_user.id)
    if not reviews:
        raise ServiceError(_("You have no reviews in this round."), 404)
    return model_response(RoundReviews(review_round_id=review_round.id, stage=review_round.stage,
                                       open=review_round.is_open, blind=review_round.blind,
                                       reviews=[review_object(item) for item in reviews]))


@api_blueprint.patch("/reviews/<id:review_id>")
@api_operation(summary="Save members of one of the token user's reviews", request=ReviewChanges,
               responses={200: ReviewObject, 409: ErrorBody}, tags=["reviews"],
               description="Another expert's review is a 403. 409: the round is closed, the results are "
                           "locked, a conflict of interest was found after the assignment, or more yes votes "
                           "than the panel's results.")
@requires("panels.review", load=Review, arg="review_id")
@token_scope(TokenScope.REVIEW)
def save_review(**loaded):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError(_("The request body must be a JSON object, for example {\"score\": 8}."))
    try:
        ReviewChanges.model_validate(body)
    except ValidationError as error:
        raise ServiceError(_member_refusal(error.errors()[0]["loc"][0])) from None
    saved = review.save_review(loaded["review"], body, current_user._get_current_object())
    return model_response(review_object(saved))


# --- selection rounds ----------------------------------------------------------------------------


class RoundListQuery(BaseModel):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="The page, 50 rounds a page; one past the last has none.")


class SelectionRoundSummary(BaseModel):
    id: int
    name: str
    created_at: BeijingDateTime = Field(description="When it was imported.")
    source_folder: str = Field(description="The name of the ranking's output folder (or zip).")
    candidates_sha256: str = Field(description="The SHA-256 of its candidates.parquet: the import's identity.")
    candidate_count: int


class RoundPage(BaseModel):
    selection_rounds: list[SelectionRoundSummary]
    page: int
    per_page: int
    total: int


class CandidateList(BaseModel):
    """One list of the round (a discipline and a journal group) as the ranking's summary.json counts it."""

    discipline: str
    discipline_title: str = Field(description="The discipline's name in the reader's language.")
    journal_group: str
    pool: int | None = None
    eligible: int | None = None
    selected: int | None = None
    quota: int | None = None
    shortfall: int | None = None
    imported: int = Field(description="The list's candidates imported into the platform.")


class SelectionRoundObject(SelectionRoundSummary):
    as_of: str | None = Field(description="The ranking's reference date (ISO 8601).")
    window: list[int] | None = Field(description="The first and last publication year ranked.")
    author_rule: str | None
    funnel: dict[str, int] = Field(description="How many works passed each step of the ranking.")
    settings: dict[str, Any] = Field(description="The ranking's settings.")
    lists: list[CandidateList]


class CandidateQuery(BaseModel):
    discipline: str | None = Field(None, max_length=column_length(Candidate, "discipline"),
                                   description="A discipline key (`physics`); absent: every discipline.")
    journal_group: JournalGroup | None = Field(None, description="Absent: both groups.")
    page: int = Field(1, ge=1, le=MAX_PAGE, description="The page, 100 candidates a page.")


class ScorePart(BaseModel):
    """One indicator's share of the score (``selection.ranking.explain.IndicatorPart``)."""

    indicator: str
    weight: float | None = None
    value: float | None = None
    has_value: bool | None = None
    percentile: float | None = None
    top_share: float | None = None
    valued_works: int | None = None
    contribution: float | None = None
    baseline: str | None = None


class CandidateObject(BaseModel):
    id: int
    round_id: int
    work_id: str = Field(description="The OpenAlex work id (W...).")
    discipline: str
    journal_group: JournalGroup
    rank: int = Field(description="The rank in its list (discipline and journal group).")
    score: float
    stratum_works: int
    over_topic_cap: bool
    stability: Stability | None
    rank_interval_low: int | None
    rank_interval_high: int | None
    publication_year: int | None
    work_type: str | None
    doi: str | None
    title: str | None
    source_name: str | None
    issn_l: str | None
    cluster: int | None
    cluster_terms: str | None
    topic_id: str | None
    beijing_first: bool
    beijing_corresponding: bool
    author_rule: str | None
    score_parts: list[ScorePart]
    authorships: list[dict[str, Any]]


class CandidatePage(BaseModel):
    round_id: int
    candidates: list[CandidateObject]
    page: int
    per_page: int
    total: int


def _round_summary(selection_round: SelectionRound) -> dict[str, Any]:
    return {name: getattr(selection_round, name) for name in SelectionRoundSummary.model_fields}


def _candidate_object(candidate: Candidate) -> CandidateObject:
    return CandidateObject.model_validate(
        {name: getattr(candidate, name) for name in CandidateObject.model_fields if name != "score_parts"}
        | {"score_parts": [ScorePart.model_validate(part) for part in candidate.score_parts]})


@api_blueprint.get("/selection-rounds")
@api_operation(summary="The selection rounds, newest first", query=RoundListQuery, responses={200: RoundPage},
               tags=["selection"])
@requires("panels.rounds")
@token_scope(TokenScope.SELECTION)
def selection_rounds():
    page_number = RoundListQuery(page=page_argument()).page
    page = db.paginate(services.rounds_query(), page=page_number, per_page=ROUNDS_PER_PAGE, error_out=False)
    return model_response(RoundPage(selection_rounds=[_round_summary(item) for item in page.items],
                                    page=page_number, per_page=ROUNDS_PER_PAGE, total=page.total))


@api_blueprint.get("/selection-rounds/<id:round_id>")
@api_operation(summary="One selection round with its lists", responses={200: SelectionRoundObject},
               tags=["selection"])
@requires("panels.rounds", load=SelectionRound, arg="round_id")
@token_scope(TokenScope.SELECTION)
def selection_round(selection_round: SelectionRound):
    summary = selection_round.summary
    lists = [CandidateList.model_validate(entry) for entry in services.round_lists(selection_round)]
    return model_response(SelectionRoundObject(
        **_round_summary(selection_round), as_of=summary.get("as_of"), window=summary.get("window"),
        author_rule=summary.get("author_rule"), funnel=summary.get("funnel") or {},
        settings=selection_round.settings, lists=lists))


@api_blueprint.get("/selection-rounds/<id:round_id>/candidates")
@api_operation(summary="A selection round's candidates", query=CandidateQuery, responses={200: CandidatePage},
               tags=["selection"], description="By discipline, journal group and rank, 100 a page; a discipline "
                                               "the round does not have has no candidates.")
@requires("panels.rounds", load=SelectionRound, arg="round_id")
@token_scope(TokenScope.SELECTION)
def selection_round_candidates(selection_round: SelectionRound):
    arguments = CandidateQuery(
        discipline=text_argument("discipline", column_length(Candidate, "discipline")),
        journal_group=choice_argument("journal_group", JournalGroup.titles()), page=page_argument())
    query = (select(Candidate).where(Candidate.round_id == selection_round.id)
             .order_by(Candidate.discipline, Candidate.journal_group, Candidate.rank, Candidate.id))
    if arguments.discipline is not None:
        query = query.where(Candidate.discipline == arguments.discipline)
    if arguments.journal_group is not None:
        query = query.where(Candidate.journal_group == arguments.journal_group)
    page = db.paginate(query, page=arguments.page, per_page=CANDIDATES_PER_PAGE, error_out=False)
    return model_response(CandidatePage(round_id=selection_round.id,
                                        candidates=[_candidate_object(item) for item in page.items],
                                        page=arguments.page, per_page=CANDIDATES_PER_PAGE, total=page.total))
