"""No N+1 on the management pages: the event lists, their exports, an event's registrations
and the organisation page's events issue the same statements for 3 and 30 rows."""

from __future__ import annotations

import pytest

from conference_app.core.permissions import Role
from conference_app.events.models import CheckInMethod
from conference_app.events.services import checkins, events, registrations
from conference_app.extensions import db
from tests.app.conftest import log_in_session
from tests.app.core.test_query_counts import FEW, MANY, statements_for


@pytest.fixture()
def world(client, make_user, make_organisation, make_event):
    """A society user logged in; ``grow(n)`` adds n events of its organisation (each with a
    co-host, a speaker, registrations and a check-in) and n registrations of its first event."""
    ours, partner = make_organisation(), make_organisation()
    user = make_user(Role.SOCIETY, organisation=ours)
    first = make_event(organisations=[(ours, "host"), (partner, "co_host")], capacity=10_000)
    phones = iter(range(13_800_000_000, 13_900_000_000))

    def grow(count: int) -> None:
        for _ in range(count):
            event = make_event(organisations=[(ours, "host"), (partner, "co_host")])
            events.add_person(event, {"role": "speaker", "name": "报告人"})
            registration = registrations.register(event, {"name": "参会者", "phone": str(next(phones))})
            checkins.check_in(registration, actor=user, method=CheckInMethod.SEARCH)
            registration = registrations.register(first, {"name": "参会者", "phone": str(next(phones)),
                                                          "email": f"p{next(phones)}@example.cn"})
            checkins.check_in(registration, actor=user, method=CheckInMethod.SCAN)
        db.session.commit()

    return {"user": user, "ours": ours, "first": first, "grow": grow}


SOCIETY_PAGES = {
    "our events": "/manage/our-events",
    "our events export": "/manage/our-events/export.xlsx",
    "registrations": "/manage/events/{first}/registrations",
    "registrations export": "/manage/events/{first}/registrations/export.xlsx",
    "organisation page": "/organisations/{ours}",
}
STAFF_PAGES = {"events": "/manage/events", "events export": "/manage/events/export.xlsx",
               "events searched": "/manage/events?q=测试&status=published"}


@pytest.mark.parametrize("page", list(SOCIETY_PAGES) + list(STAFF_PAGES))
def test_management_lists_issue_the_same_statements_for_few_and_many_rows(client, make_user, world, page):
    url = (SOCIETY_PAGES | STAFF_PAGES)[page].format(first=world["first"].id, ours=world["ours"].id)
    log_in_session(client, make_user(Role.STAFF) if page in STAFF_PAGES else world["user"])
    world["grow"](FEW)
    few = statements_for(client, url)
    world["grow"](MANY - FEW)
    many = statements_for(client, url)
    assert many == few, f"{url}: {few} statements with {FEW} rows, {many} with {MANY}"
