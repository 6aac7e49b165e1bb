"""A believable demo world: organisations of every kind, their past events, users of every role.

``flask --app conference_app demo load`` calls ``load_demo``; running it again adds nothing
(records are found by credit code, e-mail, or year and title) and prints the same logins.
Everything goes through the services, so the audit log reads as if people had done it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import click
from flask import current_app
from sqlalchemy import select

from conference_app.accounts import services as accounts
from conference_app.accounts.models import User
from conference_app.core.permissions import Role
from conference_app.core.timeutil import beijing_today
from conference_app.events.demo import load_academic_month, load_large_world
from conference_app.extensions import db
from conference_app.organisations import services as organisations
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation, OrganisationStatus, PastEvent
from conference_app.panels.demo import load_panels
from conference_app.programs.demo import load_programs
from conference_app.report_sessions.demo import load_report_sessions

PASSWORDS = {
    Role.STAFF: "Staff-Demo-2026",
    Role.ANALYST: "Analyst-Demo-2026",
    Role.EXPERT: "Expert-Demo-2026",
    Role.SOCIETY: "Society-Demo-2026",
}


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name_zh: str
    name_en: str
    org_type: str
    code17: str  # the credit code without its check character
    status: str = OrganisationStatus.APPROVED.value
    member_since: date | None = None  # a BAST group member since then
    in_journal_excellence_plan: bool = False
    publishes_journal: bool = False
    contact_name: str | None = None


ORGANISATIONS = (
    DemoOrganisation("mechanics", "北京力学会", "Beijing Society of Theoretical and Applied Mechanics", "society",
                     "51110000500100001", member_since=date(1998, 3, 1), publishes_journal=True, contact_name="韩秘书长"),
    DemoOrganisation("computer", "北京计算机学会", "China Computer Federation Beijing", "society",
                     "51110000500100002", member_since=date(2003, 6, 1), contact_name="吴秘书长"),
    DemoOrganisation("chemistry", "北京化学会", "Beijing Chemical Society", "society", "51110000500100003",
                     member_since=date(1995, 9, 1), in_journal_excellence_plan=True, publishes_journal=True,
                     contact_name="郑主任"),
    DemoOrganisation("geology", "北京地质学会", "Geological Society of Beijing", "society", "51110000500100004",
                     contact_name="冯秘书"),
    DemoOrganisation("iop", "中国科学院物理研究所科协", "S&T Association of the Institute of Physics, CAS",
                     "grassroots", "12100000400100005", member_since=date(2012, 5, 1), contact_name="褚老师"),
    DemoOrganisation("tsinghua", "清华大学科协", "Tsinghua University S&T Association", "university_association",
                     "12100000400100006", member_since=date(2010, 10, 1), contact_name="卫老师"),
    DemoOrganisation("buaa", "北京航空航天大学科协", "Beihang University S&T Association", "university_association",
                     "12100000400100007", member_since=date(2014, 4, 1)),
    DemoOrganisation("boe", "京东方科技集团科协", "BOE Technology Group S&T Association", "enterprise_association",
                     "91110000600100008", member_since=date(2018, 7, 1)),
    DemoOrganisation("zgc", "中关村科技园区科协", "Zhongguancun Science Park S&T Association", "park_association",
                     "12110000400100009", member_since=date(2016, 1, 1), contact_name="蒋主任"),
    DemoOrganisation("journal", "《中国科学》杂志社", "Science China Press", "journal_publisher",
                     "91110000700100010", in_journal_excellence_plan=True, publishes_journal=True,
                     contact_name="沈编辑"),
    DemoOrganisation("acoustics", "北京声学学会", "Acoustical Society of Beijing", "society", "51110000500100011",
                     status=OrganisationStatus.PENDING.value, contact_name="周会长"),
    DemoOrganisation("ai", "北京人工智能学会", "Beijing Society of Artificial Intelligence", "society",
                     "51110000500100012", status=OrganisationStatus.PENDING.value, contact_name="钱博士"),
    DemoOrganisation("promotion", "北京未来科技促进会", "Beijing Future Technology Promotion Association", "other",
                     "51110000500100013", status=OrganisationStatus.REJECTED.value, contact_name="孙先生"),
)
REJECTION_COMMENT = "统一社会信用代码与登记证书不符，且非市科协团体会员，请核实后重新注册。"

# (organisation, years before this year, kind, title, role)
PAST_EVENTS = (
    ("mechanics", 2, "international", "第十届国际非线性力学会议", "host"),
    ("mechanics", 1, "regional", "京津冀力学前沿论坛", "host"),
    ("mechanics", 1, "national", "全国固体力学学术年会", "co_host"),
    ("mechanics", 1, "other", "力学青年学者沙龙", "host"),
    ("computer", 3, "international", "国际人工智能与计算前沿研讨会", "main_organiser"),
    ("computer", 1, "other", "大模型安全学术沙龙", "host"),
    ("computer", 1, "regional", "京津冀算力网络论坛", "co_host"),
    ("chemistry", 1, "international", "国际绿色化学大会", "co_host"),
    ("chemistry", 1, "national", "北京化学会学术年会", "host"),
    ("iop", 1, "other", "凝聚态物理前沿报告会", "host"),
    ("tsinghua", 2, "international", "国际集成电路学术会议", "main_organiser"),
    ("tsinghua", 1, "regional", "京津冀高校科协学术交流会", "host"),
    ("zgc", 1, "regional", "中关村京津冀科技成果转化论坛", "host"),
    ("journal", 1, "national", "全国科技期刊发展论坛", "co_host"),
)

# (role, e-mail, name, organisation key or None, administers the organisation)
USERS = (
    (Role.STAFF, "staff@bast.demo.cn", "王学会", None, False),
    (Role.STAFF, "staff2@bast.demo.cn", "李审核", None, False),
    (Role.ANALYST, "analyst@bast.demo.cn", "陈分析", None, False),
    (Role.EXPERT, "expert1@bast.demo.cn", "张院士", None, False),
    (Role.EXPERT, "expert2@bast.demo.cn", "刘教授", None, False),
    (Role.EXPERT, "expert3@bast.demo.cn", "赵研究员", None, False),
    (Role.SOCIETY, "admin@mechanics.demo.cn", "韩秘书长", "mechanics", True),
    (Role.SOCIETY, "member@mechanics.demo.cn", "杨干事", "mechanics", False),
    (Role.SOCIETY, "admin@computer.demo.cn", "吴秘书长", "computer", True),
    (Role.SOCIETY, "member@computer.demo.cn", "许干事", "computer", False),
    (Role.SOCIETY, "admin@chemistry.demo.cn", "郑主任", "chemistry", True),
    (Role.SOCIETY, "admin@iop.demo.cn", "褚老师", "iop", True),
    (Role.SOCIETY, "admin@tsinghua.demo.cn", "卫老师", "tsinghua", True),
    (Role.SOCIETY, "admin@zgc.demo.cn", "蒋主任", "zgc", True),
    (Role.SOCIETY, "admin@journal.demo.cn", "沈编辑", "journal", True),
)


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str
    password: str
    name: str
    organisation: str | None


def _fields(spec: DemoOrganisation) -> dict:
    return {
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "org_type": spec.org_type,
        "credit_code": make_credit_code(spec.code17),
        "publishes_journal": spec.publishes_journal,
        "contact_name": spec.contact_name,
        "contact_email": f"office@{spec.key}.demo.cn",
    }


def _organisation(spec: DemoOrganisation, reviewer: User) -> Organisation:
    """The demo organisation, created the way it would be in real life when missing."""
    code = make_credit_code(spec.code17)
    existing = db.session.scalar(select(Organisation).where(Organisation.credit_code == code))
    if existing is not None:
        return existing
    if spec.status == OrganisationStatus.APPROVED:
        return organisations.create_organisation(
            _fields(spec)
            | {
                "is_bast_member": spec.member_since is not None,
                "bast_member_since": spec.member_since,
                "in_journal_excellence_plan": spec.in_journal_excellence_plan,
            }
        )
    applicant = organisations.register_society(
        _fields(spec),
        user_name=spec.contact_name,
        email=f"applicant@{spec.key}.demo.cn",
        password=PASSWORDS[Role.SOCIETY],
    )
    if spec.status == OrganisationStatus.REJECTED:
        organisations.reject_organisation(applicant.organisation, reviewer, REJECTION_COMMENT)
    return applicant.organisation


def _user(role: Role, email: str, name: str, organisation: Organisation | None, is_org_admin: bool) -> User:
    return accounts.find_user(email) or accounts.create_user(
        email,
        name,
        role.value,
        organisation_id=organisation.id if organisation else None,
        is_org_admin=is_org_admin,
        password=PASSWORDS[role],
    )


def _past_event(organisation: Organisation, year: int, kind: str, title: str, role: str) -> None:
    exists = db.session.scalar(
        select(PastEvent.id).where(
            PastEvent.organisation_id == organisation.id, PastEvent.year == year, PastEvent.title == title
        )
    )
    if exists is None:
        organisations.add_past_event(organisation, year=year, kind=kind, title=title, role=role)


def load_demo(echo=click.echo, scale: str = "small") -> list[DemoLogin]:
    """Create what is missing of the demo world (flushed, not committed) and print the logins.

    ``scale="large"`` also writes the benchmark's world (300 organisations, 2,000 events,
    50,000 registrations)."""
    reviewer = _user(*USERS[0])  # the first staff member reviews the demo registrations
    by_key = {spec.key: _organisation(spec, reviewer) for spec in ORGANISATIONS}
    this_year = beijing_today().year
    for key, years_ago, kind, title, role in PAST_EVENTS:
        _past_event(by_key[key], this_year - years_ago, kind, title, role)
    logins = []
    for role, email, name, key, is_org_admin in USERS:
        organisation = by_key[key] if key else None
        _user(role, email, name, organisation, is_org_admin)
        logins.append(DemoLogin(role, email, PASSWORDS[role], name, organisation.name_zh if organisation else None))
    db.session.flush()
    month = load_academic_month(reviewer)
    if month.events:
        echo(f"Academic Month: {month.events} events ({month.upcoming} upcoming), {month.series} salon series, "
             f"{month.registrations} registrations, {month.check_ins} check-ins, {month.organisations} more organisations")
    programs = load_programs()
    if programs.applications:
        echo(f"Programs: the 2026 call with {programs.applications} applications ({programs.funded} funded, "
             f"{programs.reviews} expert reviews, ¥{programs.released_fen / 100:,.0f} released)")
    panels = load_panels(PASSWORDS[Role.EXPERT])
    if panels.results:
        echo(f"Panels: round {panels.round_name} with {panels.candidates} candidates, a panel of {panels.members} "
             f"in {panels.discipline} ({panels.panel_candidates} candidates), 3 rounds scored "
             f"({panels.reviews} reviews), {panels.results} results locked")
    report_sessions = load_report_sessions()
    if report_sessions.published or report_sessions.in_progress:
        echo(f"Report sessions: {report_sessions.published} published ({report_sessions.versions} programme "
             f"versions), {report_sessions.in_progress} in progress, {report_sessions.invitations} invitations")
    known = {login.email for login in logins}
    logins += [DemoLogin(Role.EXPERT, expert.email, PASSWORDS[Role.EXPERT], expert.name, None)
               for expert in panels.experts if expert.email not in known]
    logins.sort(key=lambda login: list(Role).index(login.role))  # the panel's experts beside the others
    if scale == "large":
        large = load_large_world()
        if large.events:
            echo(f"Large world: {large.organisations} organisations, {large.events} events, "
                 f"{large.registrations} registrations, {large.check_ins} check-ins")
    _print(logins, echo)
    return logins


def _print(logins: list[DemoLogin], echo) -> None:
    base = current_app.config["PUBLIC_BASE_URL"]
    echo(f"Academic Month calendar (public): {base}/academic-month/")
    echo(f"Demo logins — open {base}/auth/login")
    echo(f"  {'role':<8} {'e-mail':<28} {'password':<18} name")
    for login in logins:
        where = f" ({login.organisation})" if login.organisation else ""
        echo(f"  {login.role.value:<8} {login.email:<28} {login.password:<18} {login.name}{where}")
    echo(f"Waiting for review (log in as staff, open {base}/organisations/?status=pending):")
    for spec in ORGANISATIONS:
        if spec.status == OrganisationStatus.PENDING:
            echo(f"  - {spec.name_zh}: once approved, applicant@{spec.key}.demo.cn logs in with {PASSWORDS[Role.SOCIETY]}")
    echo("Not approved (its applicant logs in to correct the registration and resubmit it):")
    for spec in ORGANISATIONS:
        if spec.status == OrganisationStatus.REJECTED:
            echo(f"  - {spec.name_zh}: applicant@{spec.key}.demo.cn with {PASSWORDS[Role.SOCIETY]}")
