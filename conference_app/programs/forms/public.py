"""The form of the public notice page: a signed written objection (异议), read by staff only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from conference_app.events.forms.common import optional_id


class ObjectionForm(FlaskForm):
    """Name, how to reach the writer, the objection, and optionally which project it is about;
    ``notices.submit_objection`` checks every value."""

    name = StringField(_l("Your name"), render_kw={"autocomplete": "name"},
                       description=_l("Objections are signed: anonymous ones are not handled."))
    contact = StringField(_l("How to reach you"), render_kw={"autocomplete": "tel"},
                          description=_l("A telephone number or an e-mail address."))
    application_id = SelectField(_l("Project concerned"), validate_choice=False, default="")
    text = TextAreaField(_l("Objection"), render_kw={"rows": 6},
                         description=_l("State the facts and, where you can, how they may be checked."))

    def __init__(self, *args, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.application_id.choices = [SelectChoice("", _l("The notice as a whole"))] + [
            SelectChoice(str(project.id), f"{project.project_name_zh}（{project.organisation.name_zh}）")
            for project in projects]

    def objection_fields(self) -> dict:
        return {"name": self.name.data, "contact": self.contact.data, "text": self.text.data,
                "application_id": optional_id(self.application_id.data)}
