"""The life of an expert panel, as one transition table: forming (staff add the experts and
name the chair) → open (at least ``PANEL_MIN_EXPERTS`` members, the chair among them; its
rounds of review run) → locked (the chair fixes the frontier results with a justification
each) → open again only by staff, with the reason written down."""

from flask_babel import lazy_gettext as _l

from conference_app.panels import permissions as _permissions  # noqa: F401  (the table names them)
from conference_app.panels.models import Panel, PanelStatus
from conference_app.workflow import Transition, Workflow


def _may_open(panel: Panel) -> str | None:
    from conference_app.panels.services import opening_refusal

    return opening_refusal(panel)


def _may_lock(panel: Panel) -> str | None:
    from conference_app.panels.review import locking_refusal

    return locking_refusal(panel)


PANEL = Workflow(
    Panel,
    PanelStatus,
    [
        Transition("open", _l("Open the panel"), {PanelStatus.FORMING}, PanelStatus.OPEN, "panels.manage",
                   done="opened", done_title=_l("Panel opened"), guard=_may_open,
                   wrong_state=_l("The panel is already open.")),
        Transition("lock", _l("Lock the frontier results"), {PanelStatus.OPEN}, PanelStatus.LOCKED, "panels.chair",
                   done="locked", done_title=_l("Frontier results locked"), guard=_may_lock,
                   wrong_state=_l("Only an open panel locks its results.")),
        Transition("reopen", _l("Reopen the results"), {PanelStatus.LOCKED}, PanelStatus.OPEN, "panels.reopen",
                   done="reopened", done_title=_l("Frontier results reopened"), comment="required",
                   wrong_state=_l("Only locked results are reopened."),
                   comment_missing=_l("Please write why the locked results are reopened.")),
    ],
    action_prefix="panel",
    object_title=_l("Expert panel"),
)
