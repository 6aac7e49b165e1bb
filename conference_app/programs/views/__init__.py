"""The programs domain's pages, one module per audience: applicants (societies), staff,
reviewers (experts), and the public notices."""

from flask import Blueprint

blueprint = Blueprint("programs", __name__)

from conference_app.programs.views import applicant, public, reviewer, staff  # noqa: E402,F401  (their routes)
