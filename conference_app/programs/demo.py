"""The demo's 2026 call, replayed through the services at the dates things happened: the call
published in May, about 40 applications submitted in June, formal and expert review, the
approvals, the public notice in July, task agreements, first tranches, the mid-term
evaluation in October and acceptance at the end of November; the projects count the
Academic Month events their societies held, so their indicators are met, unmet or waiting."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import func, select

from conference_app.accounts.models import User
from conference_app.core.db import clock_at
from conference_app.core.permissions import Role
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import Event, EventKind, EventOrganisation, EventStatus, SalonSeries
from conference_app.extensions import db
from conference_app.organisations import services as organisations
from conference_app.organisations.models import Organisation, OrganisationStatus, PastEvent
from conference_app.programs.call_schema import load_call_file
from conference_app.programs.models import Application, Call
from conference_app.programs.services import (
    acceptance,
    agreements,
    applications,
    funds,
    notices,
    performance,
    review,
)
from conference_app.programs.services.calls import load_call, publish_call

CALL_FILE = Path(__file__).resolve().parents[2] / "calls" / "2026-capital-academic.yaml"
# The state each demo application ends in, by category (about 40 in all).
PLAN = (
    ("A", "closed"), ("A", "acceptance"), ("A", "midterm"), ("A", "in_progress"), ("A", "in_progress"),
    ("A", "agreement"), ("A", "not_approved"), ("A", "rejected"), ("A", "submitted"), ("A", "draft"),
    ("B", "closed"), ("B", "acceptance"), ("B", "midterm"), ("B", "midterm"), ("B", "in_progress"),
    ("B", "in_progress"), ("B", "in_notice"), ("B", "not_approved"), ("B", "returned"), ("B", "withdrawn"),
    ("C", "acceptance"), ("C", "midterm"), ("C", "in_progress"), ("C", "in_progress"), ("C", "in_progress"),
    ("C", "agreement"), ("C", "in_notice"), ("C", "approved"), ("C", "expert_review"), ("C", "not_approved"),
    ("C", "returned"), ("C", "draft"),
    ("F", "in_progress"), ("F", "in_progress"), ("F", "midterm"), ("F", "in_notice"), ("F", "approved"),
    ("F", "expert_review"), ("F", "expert_review"), ("F", "rejected"),
)
ORDER = ("draft", "withdrawn", "submitted", "returned", "rejected", "expert_review", "not_approved", "approved",
         "in_notice", "agreement", "in_progress", "midterm", "acceptance", "closed")
THEMES = ("京津冀协同创新与学科交叉", "人工智能赋能基础研究", "绿色低碳与能源转型", "生命健康前沿",
          "新材料与先进制造", "数字经济与算力网络", "城市安全与韧性", "量子科技前沿")


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BEIJING)


@dataclass
class DemoPrograms:
    applications: int = 0
    funded: int = 0
    reviews: int = 0
    released_fen: int = 0


def _people() -> tuple[User, User, list[User]]:
    staff = list(db.session.scalars(select(User).where(User.role == Role.STAFF).order_by(User.id)))
    experts = list(db.session.scalars(select(User).where(User.role == Role.EXPERT).order_by(User.id)))
    return staff[0], staff[-1], experts


def _applicants(count: int) -> list[Organisation]:
    """Approved member organisations; each applies for at most one category here."""
    return list(db.session.scalars(
        select(Organisation).where(Organisation.status == OrganisationStatus.APPROVED,
                                   Organisation.is_bast_member.is_(True)).order_by(Organisation.id).limit(count)))


def _declare_history(organisation: Organisation, year: int) -> None:
    """The events of earlier years the organisation declares (what categories A and B ask)."""
    declared = {(e.year, e.kind) for e in db.session.scalars(
        select(PastEvent).where(PastEvent.organisation_id == organisation.id))}
    for years_ago, kind, title in ((2, "international", "国际学术研讨会"), (1, "regional", "京津冀学术论坛"),
                                   (1, "national", "全国学术年会"), (1, "other", "青年学者沙龙")):
        if (year - years_ago, kind) not in declared:
            organisations.add_past_event(organisation, year=year - years_ago, kind=kind,
                                         title=f"{organisation.name_zh}{title}", role="host")


def _user_of(organisation: Organisation) -> User:
    user = db.session.scalar(select(User).where(User.organisation_id == organisation.id,
                                                User.role == Role.SOCIETY).order_by(User.id))
    if user is None:  # an Academic Month society without a demo login applies through staff's records
        from conference_app.accounts import services as accounts

        user = accounts.create_user(f"office{organisation.id}@society.demo.cn", f"{organisation.name_zh}联络员",
                                    "society", organisation_id=organisation.id, is_org_admin=True,
                                    password="Society-Demo-2026")
    return user


def _events_of(organisation: Organisation) -> list[Event]:
    return list(db.session.scalars(
        select(Event).join(EventOrganisation, EventOrganisation.event_id == Event.id)
        .where(EventOrganisation.organisation_id == organisation.id, Event.status == EventStatus.HELD)
        .order_by(Event.starts_at)))


def _start(organisation, category, owner, rng: random.Random, number: int) -> Application:
    definition = category.definition()
    fields = {"project_name_zh": f"{organisation.name_zh}{rng.choice(THEMES)}{category.code}类项目",
              "theme": rng.choice(THEMES), "district": rng.choice(("haidian", "chaoyang", "dongcheng", "xicheng")),
              "expected_outcomes": "形成专家共识一份、典型案例一项，推动前沿问题研讨。"}
    if definition.forms:
        fields["form_code"] = definition.forms[number % len(definition.forms)].code
    application = applications.start_application(organisation, category, fields, actor=owner)
    kind = {"A": EventKind.INTERNATIONAL, "B": EventKind.REGIONAL, "C": EventKind.ANNUAL_MEETING,
            "F": EventKind.REPORT_SESSION}.get(category.code, EventKind.OTHER)
    applications.add_planned_event(application, {
        "kind": kind, "title": f"{organisation.name_zh}学术交流活动", "starts_on": date(2026, 10, 15),
        "ends_on": date(2026, 10, 16), "venue": "北京科学中心", "district": "haidian", "expected_attendance": 300,
        "filing_status": "pending" if kind == EventKind.INTERNATIONAL else "not_needed"}, actor=owner)
    total = application.requested_fen
    applications.set_budget_lines(application, [
        {"item": "会议场地与会务", "amount": f"{total * 5 // 10 / 100:.2f}"},
        {"item": "专家咨询与劳务", "amount": f"{total * 3 // 10 / 100:.2f}"},
        {"item": "资料印刷与宣传", "amount": f"{(total - total * 5 // 10 - total * 3 // 10) / 100:.2f}"}],
        actor=owner)
    return application


def _reach(application: Application, target: str, owner: User, staff: User, experts: list[User],
           rng: random.Random, world: DemoPrograms) -> None:
    """Take ``application`` from draft to ``target`` on the dates of the demo's year."""
    goal = ORDER.index(target)
    if target == "draft":
        return
    if target == "withdrawn":
        with clock_at(_at(date(2026, 6, 10))):
            applications.withdraw(application, actor=owner, comment="本年度暂不申报")
        return
    with clock_at(_at(date(2026, 6, 12))):
        applications.submit(application, actor=owner)
    if target == "submitted":
        return
    with clock_at(_at(date(2026, 6, 25))):
        for index, rule in enumerate(applications.category_rules(application.category)):
            if rule.kind == "staff_confirmed":
                applications.confirm_rule(application, index, actor=staff, comment="核对近年活动材料，属实")
        if target == "returned":
            review.return_for_correction(application, actor=staff, comment="预算说明不完整，请补充专家咨询费测算依据。")
            return
        if target == "rejected":
            review.reject(application, actor=staff, comment="申报材料缺少上一年度学术活动证明，不符合申报条件。")
            return
        review.pass_formal_review(application, actor=staff, comment="形式审查通过")
    with clock_at(_at(date(2026, 7, 5))):
        scoring = experts[:3] if target != "expert_review" else experts[:3][: rng.randrange(1, 3)]
        for expert in scoring:
            entry = review.assign_reviewer(application, expert, actor=staff)
            base = 6 + rng.random() * 3.5
            scores = {c.code: round(min(c.max_score, base + rng.uniform(-1, 1)), 1) for c in review.rubric(application)}
            review.submit_review(entry, scores, "方案可行，建议关注宣传与成果转化。", actor=expert)
            world.reviews += 1
    if target == "expert_review":
        return
    with clock_at(_at(date(2026, 7, 10))):
        if target == "not_approved":
            review.decline(application, actor=staff, comment="综合评分排名未进入本类别资助范围。")
            return
    if goal >= ORDER.index("agreement"):  # the later ones are approved after the July notice
        _approve(application, date(2026, 7, 10), staff, world)


def _approve(application: Application, day: date, staff: User, world: DemoPrograms) -> None:
    with clock_at(_at(day)):
        review.approve(application, actor=staff)
    world.funded += 1


def _after_notice(application: Application, target: str, owner: User, staff: User, signer: User,
                  rng: random.Random, world: DemoPrograms) -> None:
    goal = ORDER.index(target)
    if goal <= ORDER.index("agreement"):
        return
    with clock_at(_at(date(2026, 7, 25))):
        agreements.record_signing(application, date(2026, 7, 24), actor=signer)
    with clock_at(_at(date(2026, 7, 28))):
        funds.release(application.tranches[0], date(2026, 7, 28), actor=signer)
        world.released_fen += application.tranches[0].amount_fen
    events = _events_of(application.organisation)
    series = db.session.scalar(select(SalonSeries).where(SalonSeries.organisation_id == application.organisation_id))
    with clock_at(_at(date(2026, 11, 30))):
        if application.form_code == "salon_series" and series is not None:
            application.series_id = series.id
        for event in events[: rng.randrange(1, 4)]:
            performance.link_event(application, event, actor=owner)
        for kind, subkind, title in (("outcome", "expert_consensus", "专家共识"), ("typical_case", None, "典型案例"),
                                     ("publicity", None, "活动宣传报道"))[: rng.randrange(0, 4)]:
            performance.add_record(application, {"kind": kind, "subkind": subkind, "title": f"{title}：{application.theme}",
                                                 "link": "https://www.bast.net.cn/", "recorded_on": date(2026, 11, 20)},
                                   actor=owner)
    if goal >= ORDER.index("midterm"):
        with clock_at(_at(date(2026, 10, 10))):
            acceptance.open_midterm(application, actor=signer, comment="中期评估：进展符合任务书要求")
    if goal >= ORDER.index("acceptance"):
        with clock_at(_at(date(2026, 11, 25))):
            acceptance.open_acceptance(application, actor=signer)
    if target == "closed":
        with clock_at(_at(date(2026, 11, 30))):
            proposals = acceptance.propose(application)
            decisions = {p.result.code: p.proposed or "met" for p in proposals}
            acceptance.conclude(application, decisions, {}, actor=signer,
                                conclusion="验收完成：部分指标未达到，按规则处理。")


def load_programs() -> DemoPrograms:
    """Add the demo's 2026 call and its applications (flushed, not committed); nothing when present."""
    world = DemoPrograms()
    if db.session.scalar(select(func.count()).select_from(Call)):
        return world
    staff, signer, experts = _people()
    rng = random.Random(2026)
    with clock_at(_at(date(2026, 5, 10))):
        result = load_call(load_call_file(CALL_FILE), source_name=CALL_FILE.name, source=CALL_FILE.read_bytes(),
                           actor=staff)
        publish_call(result.call, actor=staff)
    call = result.call
    categories = {category.code: category for category in call.categories}
    applicants = _applicants(len(PLAN))
    started = []
    for number, ((code, target), organisation) in enumerate(zip(PLAN, applicants)):
        owner = _user_of(organisation)
        with clock_at(_at(date(2026, 5, 25))):
            _declare_history(organisation, call.year)
        with clock_at(_at(date(2026, 6, 1 + number % 10))):
            application = _start(organisation, categories[code], owner, rng, number)
        started.append((application, target, owner))
        world.applications += 1
    for application, target, owner in started:
        _reach(application, target, owner, staff, experts, rng, world)
    with clock_at(_at(date(2026, 7, 11))):
        notice = notices.publish_notice(call, {"title": "2026年度首都学术培优项目立项公示",
                                               "body": "公示期内如有异议，请以书面形式实名反映。",
                                               "starts_on": date(2026, 7, 12), "ends_on": date(2026, 7, 18)},
                                        actor=staff)
    with clock_at(_at(date(2026, 7, 20))):
        notices.conclude_notice(notice, actor=staff)
    for application in (a for a, target, _o in started if target == "in_notice"):
        _approve(application, date(2026, 11, 20), staff, world)
    with clock_at(_at(date(2026, 11, 28))):
        notices.publish_notice(call, {"title": "2026年度首都学术培优项目（第二批）立项公示",
                                      "body": "公示期内如有异议，请以书面形式实名反映。",
                                      "starts_on": date(2026, 11, 28), "ends_on": date(2026, 12, 4)}, actor=staff)
    for application in (a for a, target, _o in started if target == "approved"):  # after the second notice
        _approve(application, date(2026, 11, 29), staff, world)
    for application, target, owner in started:
        _after_notice(application, target, owner, staff, signer, rng, world)
    db.session.flush()
    return world
