"""The audit log for staff: filter, page, export to Excel."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from conference_app.audit import export as exports
from conference_app.audit import services
from conference_app.audit.forms import AuditFilterForm, StartExportForm
from conference_app.audit.models import AuditEntry
from conference_app.core.db import paginate
from conference_app.core.excel import xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import requires

blueprint = Blueprint("audit", __name__, url_prefix="/audit")
blueprint.add_app_template_global(services.action_title, "action_title")
blueprint.add_app_template_global(services.actor_title, "actor_title")
blueprint.add_app_template_global(services.object_type_title, "object_type_title")
blueprint.add_app_template_global(services.state_title, "state_title")
blueprint.add_app_template_global(services.field_title, "field_title")
ENTRIES_PER_PAGE = 50


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
    """The workbook at once; above AUDIT_EXPORT_INLINE_MAX_ROWS entries, the page offering the job."""
    form = _filter_form()
    if not form.validate():
        return render_template("audit/index.html", form=form, page=None), 400
    if exports.runs_as_job(form.criteria()):
        return _export_job_page(form, StartExportForm())
    return xlsx_response(exports.audit_workbook(exports.inline_entries(form.criteria())), "audit-log")


@blueprint.post("/export")
@requires("audit.view")
def start_export():
    """Start the ``audit_export`` job of the filters in the URL; its page offers the workbook."""
    form, start_form, started = _filter_form(), StartExportForm(), []
    if not form.validate():
        return render_template("audit/index.html", form=form, page=None), 400
    if not submit(start_form, lambda: started.append(exports.start_export_job(form.criteria(), current_user))):
        return _export_job_page(form, start_form), form_status(start_form)
    flash(_("The export is being prepared in the background: download it here when it has finished."), "success")
    return redirect(url_for("jobs.detail", job_id=started[0].id))


def _export_job_page(form: AuditFilterForm, start_form: StartExportForm):
    limit = int(current_app.config.get("AUDIT_EXPORT_INLINE_MAX_ROWS", exports.INLINE_MAX_ROWS))
    return render_template("audit/export_job.html", form=form, start_form=start_form, limit=limit)
