"""The report sessions' pages: the organiser's (``organiser_views``) and the public's
(``public_views``: the list, a programme, its ICS, Excel and PDF, and an invitee's answer page)."""

from conference_app.report_sessions.organiser_views import blueprint
from conference_app.report_sessions.public_views import blueprint as public_blueprint

blueprints = [blueprint, public_blueprint]
