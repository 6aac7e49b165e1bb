"""The expert reviews in the JSON API (``/api/v1``, bearer tokens of scope ``review``,
``docs/api.md``): a round's reviews of the token's user, and saving one of them. The token
acts as its user: another expert's review is a 403, a round without the user's reviews a 404,
and a blind round's answers carry no author, institution or journal."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user

from conference_app.accounts.models import TokenScope
from conference_app.accounts.tokens import token_scope
from conference_app.core.errors import json_response
from conference_app.core.permissions import requires
from conference_app.core.services import ServiceError
from conference_app.extensions import csrf, login_manager
from conference_app.panels import review
from conference_app.panels.models import Review, ReviewRound

api_blueprint = Blueprint("panels_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_blueprint)
login_manager.blueprint_login_views[api_blueprint.name] = None


@api_blueprint.before_request
def limit_body_size():
    from conference_app.events.views.api import MAX_BODY_BYTES

    request.max_content_length = MAX_BODY_BYTES


def review_object(item: Review) -> dict:
    """A review and what its round lets the expert see of the candidate."""
    candidate = item.candidate
    shown = {"position": item.position, "title": candidate.title, "publication_year": candidate.publication_year}
    if not item.review_round.blind:
        shown |= {"work_id": candidate.work_id, "doi": candidate.doi, "source_name": candidate.source_name}
    return {
        "id": item.id, "review_round_id": item.review_round_id, "candidate": shown,
        "score": item.score, **{name: getattr(item, name) for name in review.RUBRIC},
        "recommendation": item.recommendation.value if item.recommendation else None, "vote": item.vote,
        "comment": item.comment, "done": review.is_done(item),
    }


@api_blueprint.get("/review-rounds/<id:review_round_id>/reviews")
@requires("panels.view", load=ReviewRound, arg="review_round_id")
@token_scope(TokenScope.REVIEW)
def round_reviews(review_round: ReviewRound):
    reviews = review.expert_reviews(review_round, current_user.id)
    if not reviews:
        raise ServiceError(_("You have no reviews in this round."), 404)
    return json_response({"review_round_id": review_round.id, "stage": review_round.stage.value,
                          "open": review_round.is_open, "blind": review_round.blind,
                          "reviews": [review_object(item) for item in reviews]})


@api_blueprint.patch("/reviews/<id:review_id>")
@requires("panels.review", load=Review, arg="review_id")
@token_scope(TokenScope.REVIEW)
def save_review(**loaded):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError(_("The request body must be a JSON object, for example {\"score\": 8}."))
    saved = review.save_review(loaded["review"], body, current_user._get_current_object())
    return json_response(review_object(saved))
