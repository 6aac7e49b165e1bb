"""Reviewer pages of the programs domain: an expert's assigned reviews, and the review
form of one application (a score per criterion of the call's rubric and a comment). An
expert sees only his own reviews; the application's page is open to its reviewers."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import requires
from conference_app.programs.forms.reviewer import review_form, scores_of
from conference_app.programs.models import ApplicationReview
from conference_app.programs.services import review as review_services
from conference_app.programs.services import staff_queries
from conference_app.programs.views import blueprint


@blueprint.get("/programs/reviews/")
@requires("programs.score")
def my_reviews():
    """The applications assigned to the expert: those waiting for a score, then those scored."""
    return render_template("programs/reviewer/reviews.html", reviews=staff_queries.reviews_of(current_user))


@blueprint.route("/programs/reviews/<id:review_id>", methods=["GET", "POST"])
@requires("programs.score", load=ApplicationReview, arg="review_id")
def review_form_page(application_review: ApplicationReview):
    """One assigned application and the expert's scores; final once submitted."""
    application = application_review.application
    criteria = review_services.rubric(application)
    form = review_form(criteria, formdata=request.form if request.method == "POST" else None)
    if submit(form, lambda: review_services.submit_review(application_review, scores_of(form, criteria),
                                                          form.comment.data, actor=current_user)):
        flash(_("Your review of %(project)s is submitted.", project=application.project_name_zh), "success")
        return redirect(url_for(".my_reviews"))
    return render_template("programs/reviewer/review.html", review=application_review, application=application,
                           criteria=criteria, form=form), form_status(form)
