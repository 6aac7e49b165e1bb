"""The organiser's pages of report sessions."""

from flask import Blueprint

blueprint = Blueprint("report_sessions", __name__, url_prefix="/manage/report-sessions")
