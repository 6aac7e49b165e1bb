"""The audit log for staff: filter, page, export to Excel."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from conference_app.audit import services
from conference_app.audit.export import audit_workbook
from conference_app.audit.forms import AuditFilterForm
from conference_app.audit.models import AuditEntry
from conference_app.core.db import paginate
from conference_app.core.excel import xlsx_response
from conference_app.core.permissions import requires
from conference_app.extensions import db

blueprint = Blueprint("audit", __name__, url_prefix="/audit")
blueprint.add_app_template_global(services.action_title, "action_title")
blueprint.add_app_template_global(services.actor_title, "actor_title")
blueprint.add_app_template_global(services.object_type_title, "object_type_title")
blueprint.add_app_template_global(services.state_title, "state_title")
blueprint.add_app_template_global(services.field_title, "field_title")
ENTRIES_PER_PAGE = 50
EXPORT_MAX_ROWS = 100_000


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _l("All actions"))] + [
        SelectChoice(code, services.action_title(code)) for code in services.distinct_values(AuditEntry.action)
    ]
    form.object_type.choices = [SelectChoice("", _l("All types"))] + [
        SelectChoice(name, services.object_type_title(name))
        for name in services.distinct_values(AuditEntry.object_type)
    ]
    return form


@blueprint.get("/")
@requires("audit.view")
def index():
    form = _filter_form()
    if not form.validate():
        return render_template("audit/index.html", form=form, page=None), 400
    page = paginate(services.entries_query(**form.criteria()), ENTRIES_PER_PAGE)
    return render_template("audit/index.html", form=form, page=page)


@blueprint.get("/export.xlsx")
@requires("audit.view")
def export():
    form = _filter_form()
    if not form.validate():
        return render_template("audit/index.html", form=form, page=None), 400
    entries = db.session.scalars(services.entries_query(**form.criteria()).limit(EXPORT_MAX_ROWS))
    return xlsx_response(audit_workbook(entries), "audit-log")
