"""The expert's pages: the reviews assigned to him, and the review form of one application
(a score per criterion from 0 to its maximum, a comment; final once submitted). An expert
sees only his own reviews."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.programs.services import review
from tests.app.conftest import log_in_session
from tests.app.programs.helpers import category, open_call
from tests.app.programs.staff_helpers import experts, in_expert_review, post, score_form, submitted, text


@pytest.fixture()
def assigned(app, make_user, make_organisation):
    """An application in expert review with two experts assigned: (application, [review, review])."""
    staff = make_user(Role.STAFF)
    call = open_call()
    application, _user = submitted(make_organisation, make_user, category(call, "A"), name_zh="北京力学学会")
    in_expert_review(application, staff)
    reviews = [review.assign_reviewer(application, expert, actor=staff) for expert in experts(make_user, 2)]
    db.session.commit()
    return application, reviews


def test_an_expert_sees_his_assigned_reviews_and_scores_one(client, assigned):
    application, (mine, _theirs) = assigned
    log_in_session(client, mine.reviewer)
    listing = text(client.get("/programs/reviews/"))
    assert application.project_name_zh in listing and f"/programs/reviews/{mine.id}" in listing
    assert f"/programs/reviews/{_theirs.id}" not in listing

    page = client.get(f"/programs/reviews/{mine.id}")
    assert page.status_code == 200
    criteria = review.rubric(application)
    for criterion in criteria:
        assert f'name="score_{criterion.code}"' in text(page) and criterion.name_zh in text(page)
    assert "北京力学学会" in text(page) and "国际学术会议" in text(page)  # the application's content
    assert f"/programs/applications/{application.id}" in text(page)

    # A score past a criterion's maximum is refused and nothing is kept.
    refused = post(client, f"/programs/reviews/{mine.id}", score_form(application, 11))
    assert refused.status_code == 400 and mine.submitted_at is None
    missing = score_form(application, 8)
    missing.pop(f"score_{criteria[0].code}")
    assert post(client, f"/programs/reviews/{mine.id}", missing).status_code == 400

    done = post(client, f"/programs/reviews/{mine.id}", score_form(application, "8.5", comment="主题前瞻"))
    assert done.status_code == 302 and done.headers["Location"].endswith("/programs/reviews/")
    assert mine.submitted_at is not None and mine.total == 85.0 and mine.comment == "主题前瞻"
    assert mine.scores == {criterion.code: 8.5 for criterion in criteria}
    assert "application.scored" in db.session.scalars(select(AuditEntry.action)).all()

    # Final once submitted: the page shows the scores, a second submission is refused.
    page = text(client.get(f"/programs/reviews/{mine.id}"))
    assert 'data-testid="review-submitted"' in page and 'data-testid="review-form"' not in page
    again = post(client, f"/programs/reviews/{mine.id}", score_form(application, 2))
    assert again.status_code == 409 and mine.total == 85.0


def test_an_expert_reading_another_experts_review_gets_403(client, assigned):
    application, (mine, theirs) = assigned
    log_in_session(client, mine.reviewer)
    assert client.get(f"/programs/reviews/{theirs.id}").status_code == 403
    assert post(client, f"/programs/reviews/{theirs.id}", score_form(application, 9)).status_code == 403
    assert theirs.submitted_at is None
    assert client.get("/programs/reviews/987654").status_code == 404


def test_the_review_pages_are_the_experts_only(client, assigned, make_user):
    _application, (mine, _theirs) = assigned
    for role in (Role.STAFF, Role.SOCIETY, Role.ANALYST):
        log_in_session(client, make_user(role))
        assert client.get("/programs/reviews/").status_code == 403, role
        assert client.get(f"/programs/reviews/{mine.id}").status_code == 403, role


def test_the_application_page_shows_the_reviewer_his_own_review(client, assigned):
    application, (mine, _theirs) = assigned
    log_in_session(client, mine.reviewer)
    page = client.get(f"/programs/applications/{application.id}")
    assert page.status_code == 200
    assert 'data-testid="score-link"' in text(page) and f"/programs/reviews/{mine.id}" in text(page)
    assert 'data-testid="staff-panel"' not in text(page)


def test_an_expert_without_assignments_sees_an_empty_list(client, make_user):
    log_in_session(client, make_user(Role.EXPERT))
    response = client.get("/programs/reviews/")
    assert response.status_code == 200 and 'data-testid="my-reviews"' in text(response)
