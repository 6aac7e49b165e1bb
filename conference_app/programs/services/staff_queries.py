"""Read-only queries and exports of the staff and reviewer pages: the calls with their
counts, the applications list and its workbook, a category's quota and budget used so far,
the indicators table's workbook, a call's notices with their objections, an expert's
reviews. Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from conference_app.core.db import contains_text
from conference_app.core.excel import Column, workbook_bytes
from conference_app.extensions import db
from conference_app.organisations.models import Organisation
from conference_app.programs.models import (
    FUNDED_STATES,
    Application,
    ApplicationReview,
    Call,
    CallCategory,
    Notice,
    Objection,
)
from conference_app.programs.services import performance
from conference_app.programs.services.funds import yuan

EXPORT_MAX_ROWS = 100_000

INDICATOR_STATUS_TITLES = {
    "met": _l("Met"),
    "not_met": _l("Not met"),
    "waiting": _l("Waiting"),
    "not_applicable": _l("Not applicable"),
    "needs_review": _l("Needs review"),
}
INDICATOR_STATUS_BADGES = {"met": "success", "not_met": "danger", "waiting": "warning", "not_applicable": "secondary",
                           "needs_review": "info"}


def indicator_status_title(status: str) -> str:
    return str(INDICATOR_STATUS_TITLES.get(status, status))


# --- calls ------------------------------------------------------------------------------------

def calls_with_counts() -> list[tuple[Call, int]]:
    """Every call (newest year first) with its categories loaded and its number of applications."""
    calls = list(db.session.scalars(select(Call).options(selectinload(Call.categories))
                                    .order_by(Call.year.desc(), Call.code)))
    counts = dict(db.session.execute(select(Application.call_id, func.count()).group_by(Application.call_id)).all())
    return [(call, counts.get(call.id, 0)) for call in calls]


def call_by_code(code: str) -> Call | None:
    return db.session.scalar(select(Call).where(Call.code == code))


def category_counts(call: Call) -> dict[int, dict[str, int]]:
    """Per category of ``call``: its applications by status, and "total" and "funded"."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"total": 0, "funded": 0})
    rows = db.session.execute(select(Application.category_id, Application.status, func.count())
                              .where(Application.call_id == call.id)
                              .group_by(Application.category_id, Application.status))
    for category_id, status, count in rows:
        line = counts[category_id]
        line[str(status)] = count
        line["total"] += count
        if status in FUNDED_STATES:
            line["funded"] += count
    return counts


def category_choices() -> list[tuple[int, str]]:
    """Every category of every call as (id, "call code · category code name")."""
    rows = db.session.execute(select(CallCategory.id, Call.code, CallCategory.code, CallCategory.name_zh)
                              .join(Call, Call.id == CallCategory.call_id)
                              .order_by(Call.year.desc(), Call.code, CallCategory.position))
    return [(row[0], f"{row[1]} · {row[2]} {row[3]}") for row in rows]


def call_choices() -> list[tuple[int, str]]:
    return [(row[0], f"{row[1]} {row[2]}") for row in db.session.execute(
        select(Call.id, Call.code, Call.title_zh).order_by(Call.year.desc(), Call.code))]


# --- applications -----------------------------------------------------------------------------

def applications_list_query(*, call_id: int | None = None, category_id: int | None = None,
                            status: str | None = None, search: str | None = None):
    """The staff list of applications, filtered; the search looks in the project's names and
    the organisation's names. Organisation, call and category come loaded with each page."""
    query = (select(Application).join(Organisation, Organisation.id == Application.organisation_id)
             .options(selectinload(Application.organisation), selectinload(Application.call),
                      selectinload(Application.category))
             .order_by(Application.call_id.desc(), Application.category_id, Application.id))
    if call_id:
        query = query.where(Application.call_id == call_id)
    if category_id:
        query = query.where(Application.category_id == category_id)
    if status:
        query = query.where(Application.status == status)
    if search:
        query = query.where(or_(contains_text(Application.project_name_zh, search),
                                contains_text(Application.project_name_en, search),
                                contains_text(Organisation.name_zh, search),
                                contains_text(Organisation.name_en, search)))
    return query


def review_counts(application_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(submitted, assigned) reviews per application, in one query."""
    if not application_ids:
        return {}
    rows = db.session.execute(
        select(ApplicationReview.application_id, func.count(ApplicationReview.submitted_at), func.count())
        .where(ApplicationReview.application_id.in_(application_ids)).group_by(ApplicationReview.application_id))
    return {row[0]: (row[1], row[2]) for row in rows}


APPLICATION_EXPORT_COLUMNS = [
    Column(_l("Number"), lambda a: a.id, 8),
    Column(_l("Call"), lambda a: a.call.code, 24),
    Column(_l("Category"), lambda a: f"{a.category.code} {a.category.name_zh}", 32),
    Column(_l("Project"), lambda a: a.project_name_zh, 40),
    Column(_l("Organisation"), lambda a: a.organisation.name_zh, 30),
    Column(_l("Status"), lambda a: a.status.title, 16),
    Column(_l("Requested (yuan)"), lambda a: yuan(a.requested_fen), 14),
    Column(_l("Matching funds (yuan)"), lambda a: yuan(a.matching_funds_fen), 14),
    Column(_l("District"), lambda a: a.district.title if a.district else "", 12),
    Column(_l("Submitted"), lambda a: a.submitted_at, 18),
    Column(_l("Decided"), lambda a: a.decided_at, 18),
    Column(_l("Agreement number"), lambda a: a.agreement_number or "", 16),
]


def applications_workbook(query) -> bytes:
    return workbook_bytes(_l("Applications"), APPLICATION_EXPORT_COLUMNS,
                          db.session.scalars(query.limit(EXPORT_MAX_ROWS)))


# --- the decision ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryUsage:
    """How much of a category's quota and budget the funded projects take."""

    approved: int
    approved_fen: int
    quota: int | None
    budget_fen: int | None

    @property
    def places_left(self) -> int | None:
        return None if self.quota is None else max(self.quota - self.approved, 0)

    @property
    def budget_left_fen(self) -> int | None:
        return None if self.budget_fen is None else self.budget_fen - self.approved_fen


def category_usage(category: CallCategory) -> CategoryUsage:
    approved, approved_fen = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Application.requested_fen), 0))
        .where(Application.category_id == category.id,
               Application.status.in_([str(s) for s in FUNDED_STATES]))).one()
    return CategoryUsage(approved, approved_fen, category.quota, category.budget_fen)


# --- performance indicators -------------------------------------------------------------------

def result_of(row, code: str):
    """The result of indicator ``code`` in a row of ``performance.category_table``, or None."""
    return next((result for result in row.results if result.code == code), None)


def _result_status(row, code: str) -> str:
    result = result_of(row, code)
    return indicator_status_title(result.status) if result is not None else ""


def indicators_workbook(category: CallCategory) -> bytes:
    """The category's funded projects, a status and an explanation column per indicator."""
    indicators, rows = performance.category_table(category)
    columns = [
        Column(_l("Project"), lambda row: row.application.project_name_zh, 36),
        Column(_l("Organisation"), lambda row: row.application.organisation.name_zh, 28),
        Column(_l("Status"), lambda row: row.application.status.title, 14),
    ]
    for indicator in indicators:
        columns.append(Column(indicator.code, lambda row, code=indicator.code: _result_status(row, code), 10))
        columns.append(Column(_l("%(code)s explanation", code=indicator.code),
                              lambda row, code=indicator.code: getattr(result_of(row, code), "explanation", ""), 40))
    title = _("Indicators %(category)s", category=category.code)
    return workbook_bytes(title, columns, rows)


# --- notices ----------------------------------------------------------------------------------

def call_notices(call: Call) -> list[Notice]:
    """The call's notices, newest first, with their objections."""
    return list(db.session.scalars(select(Notice).where(Notice.call_id == call.id)
                                   .options(selectinload(Notice.objections).selectinload(Objection.application))
                                   .order_by(Notice.id.desc())))


def applications_by_id(ids) -> dict[int, Application]:
    ids = sorted({int(i) for i in ids})
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(
        select(Application).where(Application.id.in_(ids))
        .options(selectinload(Application.organisation), selectinload(Application.category)))}


def approved_waiting_notice(call: Call) -> int:
    from conference_app.programs.models import ApplicationStatus

    return db.session.scalar(select(func.count()).select_from(Application).where(
        Application.call_id == call.id, Application.status == ApplicationStatus.APPROVED))


# --- reviewers --------------------------------------------------------------------------------

def reviews_of(user) -> list[ApplicationReview]:
    """The reviews assigned to ``user``, waiting ones first, with their applications."""
    reviews = db.session.scalars(
        select(ApplicationReview).where(ApplicationReview.reviewer_id == user.id)
        .options(selectinload(ApplicationReview.application).selectinload(Application.organisation),
                 selectinload(ApplicationReview.application).selectinload(Application.call),
                 selectinload(ApplicationReview.application).selectinload(Application.category))
        .order_by(ApplicationReview.id.desc()))
    return sorted(reviews, key=lambda review: review.submitted_at is not None)
