"""The workbench's forms: a new harvest, an institution list refresh, a row of an institution list,
a ranking's settings, a ranking imported as a selection round."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, EmailField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from conference_app.workbench import services

REQUIRED = _l("This field is required.")
TOO_LONG = _l("At most %(max)d characters.")
WHOLE_NUMBER = _l("Please enter a whole number.")
NUMBER = _l("Please enter a number.")

AUTHOR_RULE_TITLES = {
    "first_or_corresponding": _l("A Beijing first or corresponding author"),
    "first": _l("A Beijing first author"),
    "corresponding": _l("A Beijing corresponding author"),
    "any": _l("Any Beijing author"),
}


class ServerForm(FlaskForm):
    """The server a job asks: its address, the contact address sent along, the rate."""

    base_url = StringField(_l("OpenAlex API or mirror"), validators=[
        InputRequired(REQUIRED), Length(max=300, message=TOO_LONG),
        Regexp(r"^https?://[^\s/]+", message=_l("Give an address starting with http:// or https://."))])
    mailto = EmailField(_l("Contact e-mail sent with every request"), validators=[
        Optional(), Email(_l("Please enter a valid e-mail address.")), Length(max=254, message=TOO_LONG)])
    rate = DecimalField(_l("Requests per second"), places=None, validators=[
        InputRequired(NUMBER), NumberRange(0.1, 1000, _l("Give a rate between %(min)s and %(max)s."))],
        render_kw={"inputmode": "decimal"})


class HarvestForm(ServerForm):
    from_year = IntegerField(_l("First publication year"), validators=[
        InputRequired(REQUIRED), NumberRange(1900, 2200, _l("Give a year between %(min)s and %(max)s."))],
        render_kw={"inputmode": "numeric"})
    to_year = IntegerField(_l("Last publication year"), validators=[
        InputRequired(REQUIRED), NumberRange(1900, 2200, _l("Give a year between %(min)s and %(max)s."))],
        description=_l("A window of 3 to 5 years, not reaching into the future."),
        render_kw={"inputmode": "numeric"})
    disciplines = SelectMultipleField(_l("Disciplines"), choices=[], validate_choice=True,
                                      description=_l("None chosen: every work, whatever its discipline."))
    institutions = SelectField(_l("Beijing institution list"), choices=[], default="",
                               description=_l("Built from the server: every institution it places in Beijing, "
                                              "plus the hand-added rows of the packaged list."))
    api_key = PasswordField(_l("OpenAlex API key"), validators=[Length(max=200, message=TOO_LONG)],
                            description=_l("Kept as a secret of this harvest (and its resumption); never shown "
                                           "again. Leave empty for a mirror that needs none."),
                            render_kw={"autocomplete": "off"})

    def __init__(self, *args, discipline_choices=(), list_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disciplines.choices = [SelectChoice(key, title) for key, title in discipline_choices]
        self.institutions.choices = [SelectChoice("", _l("Build the list from the server"))] + [
            SelectChoice(str(job_id), title) for job_id, title in list_choices]

    def validate_to_year(self, field) -> None:
        if self.from_year.data is None or field.data is None:
            return
        problem = services.window_problem(self.from_year.data, field.data)
        if problem:
            raise ValidationError(problem)


class InstitutionsRefreshForm(ServerForm):
    """A refresh of the Beijing institution list from a server, keeping a list's hand-added rows."""

    current_list = SelectField(_l("Keep the hand-added rows of"), choices=[], default="",
                               description=_l("The refreshed list holds every institution the server places in "
                                              "Beijing, plus the rows added by hand to this list."))
    api_key = PasswordField(_l("OpenAlex API key"), validators=[Length(max=200, message=TOO_LONG)],
                            description=_l("Kept as a secret of this refresh; never shown again. Leave empty for "
                                           "a mirror that needs none."),
                            render_kw={"autocomplete": "off"})

    def __init__(self, *args, list_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.current_list.choices = [SelectChoice("", _l("The packaged list"))] + [
            SelectChoice(str(job_id), title) for job_id, title in list_choices]


class InstitutionRowForm(FlaskForm):
    institution_id = StringField(_l("OpenAlex institution id"), validators=[
        InputRequired(REQUIRED), Length(max=60, message=TOO_LONG)],
        description=_l("For example I99065089 or https://openalex.org/I99065089."))
    display_name = StringField(_l("Institution name"), validators=[InputRequired(REQUIRED), Length(max=200, message=TOO_LONG)])


def _share_field(label, description=None) -> DecimalField:
    return DecimalField(label, places=None, description=description, validators=[
        InputRequired(NUMBER), NumberRange(0, 1, _l("Give a share between 0 and 1, for example 0.10."))],
        render_kw={"inputmode": "decimal", "step": "0.01"})


def _weight_field(label) -> DecimalField:
    return DecimalField(label, places=None, validators=[
        InputRequired(NUMBER), NumberRange(0, 100, _l("A weight is a number from 0 to 100."))],
        render_kw={"inputmode": "decimal", "step": "0.05"})


class RankForm(FlaskForm):
    """A ranking of one harvest; the values are checked again by the selection library's own
    settings check (``services.rank_settings_problem``), whose refusal lands on its field."""

    harvest = SelectField(_l("Harvest"), choices=[], validators=[InputRequired(REQUIRED)])
    weight_influence = _weight_field(_l("Weight of international influence"))
    weight_hot = _weight_field(_l("Weight of hotness"))
    weight_frontier = _weight_field(_l("Weight of frontier"))
    weight_originality = _weight_field(_l("Weight of originality"))
    per_group = IntegerField(_l("Quota per list"), validators=[InputRequired(WHOLE_NUMBER)],
                             description=_l("Candidates per discipline and journal group, 200 to 500."),
                             render_kw={"inputmode": "numeric"})
    topic_cap_share = _share_field(_l("Topic cap"), _l("No topic takes more than this share of a list's seats "
                                                      "while other eligible work remains."))
    review_seat_share = _share_field(_l("Review seats"), _l("Reviews take at most this share of a list's seats "
                                                          "while articles remain."))
    eligibility_top_share = _share_field(_l("Eligibility gate"), _l(
        "A work is eligible when it is in this top share of its stratum in influence, hotness or frontier."))
    author_rule = SelectField(_l("Which Beijing authors count"), choices=[
        SelectChoice(value, title) for value, title in AUTHOR_RULE_TITLES.items()])

    def __init__(self, *args, harvest_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.harvest.choices = [SelectChoice(str(job_id), title) for job_id, title in harvest_choices]

    def settings_values(self) -> dict:
        """The form's values in the shape of ``services.rank_settings_toml``."""
        return {
            "weights": {name: float(getattr(self, f"weight_{name}").data) for name in services.INDICATORS},
            "per_group": self.per_group.data,
            "topic_cap_share": float(self.topic_cap_share.data),
            "review_seat_share": float(self.review_seat_share.data),
            "eligibility_top_share": float(self.eligibility_top_share.data),
            "author_rule": self.author_rule.data,
        }

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        problem = services.rank_settings_problem(self.settings_values())
        if problem is None:
            return True
        field_name, message = problem
        if field_name and field_name in self._fields:
            self[field_name].errors.append(message)
        else:
            self.form_errors.append(message)
        return False


class ImportRoundForm(FlaskForm):
    name = StringField(_l("Round name"), validators=[InputRequired(_l("Please give the round a name.")),
                                                     Length(max=120, message=TOO_LONG)])
