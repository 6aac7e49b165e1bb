"""The life of an expert panel, as one transition table: forming (staff add the experts and
name the chair) → open (at least ``PANEL_MIN_EXPERTS`` members, the chair among them)."""

from flask_babel import lazy_gettext as _l

from conference_app.panels import permissions as _permissions  # noqa: F401  (the table names them)
from conference_app.panels.models import Panel, PanelStatus
from conference_app.workflow import Transition, Workflow


def _may_open(panel: Panel) -> str | None:
    from conference_app.panels.services import opening_refusal

    return opening_refusal(panel)


PANEL = Workflow(
    Panel,
    PanelStatus,
    [
        Transition("open", _l("Open the panel"), {PanelStatus.FORMING}, PanelStatus.OPEN, "panels.manage",
                   done="opened", done_title=_l("Panel opened"), guard=_may_open,
                   wrong_state=_l("The panel is already open.")),
    ],
    action_prefix="panel",
    object_title=_l("Expert panel"),
)
