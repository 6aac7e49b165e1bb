"""Beijing time: the platform's calendar (Asia/Shanghai), whatever the server's zone.

Datetimes are stored timezone-aware in UTC (``core.db.UTCDateTime``); dates people type
and read (deadlines, event days, "events held in year Y") are Beijing calendar dates.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conference_app.core.db import utcnow

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_now() -> datetime:
    """The current time in Beijing, timezone-aware."""
    return utcnow().astimezone(BEIJING)


def beijing_today() -> date:
    """Today's date in Beijing."""
    return beijing_now().date()


def day_start(day: date) -> datetime:
    """Midnight at the start of a Beijing calendar day, timezone-aware."""
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The half-open interval [start, end) of a Beijing calendar day, timezone-aware."""
    return day_start(day), day_start(day + timedelta(days=1))


def beijing_date(moment: datetime) -> date:
    """The Beijing calendar day of a timezone-aware moment."""
    return moment.astimezone(BEIJING).date()
