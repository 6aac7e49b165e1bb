"""The demo's 29th Beijing S&T Exchange Academic Month, and a large world for the benchmark.

``load_academic_month(staff)`` adds, through the services (so the audit log reads as if
people had done it): about 40 more organisations, the 29th and 30th editions, about 200
events of every kind from about 50 organisations (two international conferences with their
filings in different states, several brand salon series with their topic selection),
their programmes, and registrations and check-ins (written in bulk: they are facts, not
decisions). Because the 29th may be over on the day someone tries the demo, it also adds
upcoming events dated from the day it loads, open for registration. Running it again adds
nothing.

``load_large_world()`` (``demo load --scale large``) writes 300 organisations, 2,000 events
and 50,000 registrations in bulk, for ``benchmarks/web.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from io import BytesIO

from sqlalchemy import func, insert, select
from werkzeug.datastructures import FileStorage

from conference_app.core.db import utcnow
from conference_app.core.timeutil import BEIJING, beijing_now, beijing_today
from conference_app.events.models import (
    AcademicMonthEdition,
    CheckIn,
    CheckInMethod,
    District,
    Event,
    EventKind,
    EventOrganisation,
    EventPerson,
    EventStatus,
    PersonRole,
    Registration,
    RegistrationSource,
    RegistrationStatus,
)
from conference_app.events.services import events as event_services
from conference_app.events.services import series as series_services
from conference_app.events.services.registrations import CODE_ALPHABET, CODE_LENGTH
from conference_app.extensions import db
from conference_app.organisations import services as organisations
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation, OrganisationStatus

EDITIONS = ((29, 2026, date(2026, 10, 1), date(2026, 11, 30)), (30, 2027, date(2027, 10, 1), date(2027, 11, 30)))
# More societies, so that about 50 organisations hold events (the base demo has 10 approved).
SOCIETIES = (
    "北京物理学会", "北京数学会", "北京天文学会", "北京气象学会", "北京地理学会", "北京生物化学与分子生物学会",
    "北京植物学会", "北京动物学会", "北京神经科学学会", "北京生理科学会", "北京药学会", "北京中西医结合学会",
    "北京材料研究学会", "北京能源学会", "北京电子学会", "北京通信学会", "北京自动化学会", "北京图象图形学学会",
    "北京化工学会", "北京农学会", "北京林学会", "北京环境科学学会", "北京水利学会", "北京土木建筑学会",
    "北京机械工程学会", "北京汽车工程学会", "北京航空航天学会", "北京生物医学工程学会", "北京心理学会",
    "北京统计学会", "北京光学学会", "北京仪器仪表学会", "北京石油学会", "北京测绘学会", "北京核学会",
    "北京营养学会", "北京免疫学会", "北京遗传学会", "北京微生物学会", "北京科技期刊学会",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
         "平", "刚", "桂英", "建华", "志强", "海燕", "晓东", "文博", "思远", "子涵", "雨桐", "浩然", "欣怡")
INSTITUTIONS = ("清华大学", "北京大学", "中国科学院物理研究所", "中国科学院化学研究所", "北京航空航天大学", "北京理工大学",
                "北京师范大学", "中国农业大学", "北京化工大学", "北京科技大学", "中国人民大学", "北京工业大学",
                "中国医学科学院", "首都医科大学", "北京邮电大学", "中国科学院大学")
TITLES = ("教授", "研究员", "副教授", "副研究员", "高级工程师", "主任医师", "博士研究生")
LEADING_REASONS = ("中国科学院院士", "中国工程院院士", "国家杰出青年科学基金获得者", "国家重点研发计划首席科学家", "国际学会会士")
TOPICS = {
    "physics": ("拓扑量子材料", "高温超导机理", "量子精密测量", "强关联电子体系"),
    "chemistry": ("绿色催化", "单原子催化剂", "有机光电材料", "电化学储能"),
    "information_science": ("大模型安全", "类脑计算", "算力网络", "隐私计算"),
    "materials_science": ("高熵合金", "二维材料", "柔性电子材料", "增材制造"),
    "basic_medicine": ("肿瘤免疫", "脑科学与类脑", "衰老机制", "微生物组"),
    "earth_sciences": ("气候变化归因", "深地探测", "城市地质安全", "遥感大数据"),
    "energy_science": ("氢能与燃料电池", "新型储能", "光伏前沿", "核聚变"),
    "engineering_mechanics": ("非线性动力学", "智能结构", "流固耦合", "断裂力学"),
    "agricultural_science": ("智慧农业", "种业创新", "耕地保护", "动物疫病防控"),
    "resources_environment": ("碳中和路径", "大气污染治理", "水资源安全", "生态修复"),
}
KIND_MIX = ((EventKind.NATIONAL, 18), (EventKind.REGIONAL, 18), (EventKind.ANNUAL_MEETING, 24),
            (EventKind.REPORT_SESSION, 6), (EventKind.OTHER, 100))
DISTRICTS = tuple(District)
VENUES = ("北京科学中心", "北京国际会议中心", "中关村国家自主创新示范区展示中心", "北京会议中心", "国家会议中心",
          "北京友谊宾馆", "清华大学主楼报告厅", "北京大学英杰交流中心", "中国科技会堂")
SERIES = (
    ("physics", "凝聚态物理前沿沙龙"), ("information_science", "人工智能安全青年沙龙"),
    ("materials_science", "新材料交叉创新沙龙"), ("basic_medicine", "医学与生命科学对话"),
    ("energy_science", "能源转型学术沙龙"),
)
MECHANISM = ("每季度面向会员公开征集议题，由选题委员会按学术前沿性、交叉性和可讨论性评议，"
             "入选议题在学会网站公布并确定发起人和主要研讨人员。")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% approval document of the demo\ntrailer << /Root 1 0 R >>\n%%EOF\n"
LARGE_ORGANISATIONS, LARGE_EVENTS, LARGE_REGISTRATIONS = 300, 2_000, 50_000


@dataclass
class DemoWorld:
    """What the Academic Month part added (printed by the loader)."""

    organisations: int = 0
    events: int = 0
    series: int = 0
    registrations: int = 0
    check_ins: int = 0
    upcoming: int = 0


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BEIJING)


def _registration_row(rng: random.Random, used: set[str], event_id: int, phone: str, created_at: datetime,
                      now: datetime) -> dict:
    """A confirmed demo registration with a code no other row has."""
    code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    while code in used:
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    used.add(code)
    return {"event_id": event_id, "code": code, "status": RegistrationStatus.CONFIRMED,
            "source": RegistrationSource.DEMO, "name": _name(rng), "organisation": rng.choice(INSTITUTIONS),
            "title": rng.choice(TITLES), "phone": phone, "locale": "zh_CN", "created_at": created_at,
            "updated_at": now}


# --- the Academic Month of the demo ------------------------------------------------------------


def load_academic_month(staff) -> DemoWorld:
    """Add the demo's Academic Month (flushed, not committed); nothing when it is there already."""
    world = DemoWorld()
    if db.session.scalar(select(func.count()).select_from(Registration)
                         .where(Registration.source == RegistrationSource.DEMO)):
        return world
    rng = random.Random(29)
    for number, year, first, last in EDITIONS:
        if db.session.scalar(select(AcademicMonthEdition.id).where(AcademicMonthEdition.number == number)) is None:
            event_services.save_edition({"number": number, "year": year, "starts_on": first, "ends_on": last})
    hosts = _organisations(world)
    disciplines = [key for key, _zh, _en in event_services.discipline_choices()]
    first, last = EDITIONS[0][2], EDITIONS[0][3]
    days = (last - first).days + 1
    events = []
    events += _international_conferences(staff, hosts, rng)
    for kind, count in KIND_MIX:
        for number in range(count):
            day = first + timedelta(days=rng.randrange(days))
            events.append(_event(staff, rng, hosts, kind, day, rng.choice(disciplines), number + 1))
    for discipline, title in SERIES:
        events += _series(staff, rng, rng.choice(hosts), discipline, title, first, days, world)
    events += _upcoming(staff, rng, hosts, world)
    for event in events:
        if event.status == EventStatus.PUBLISHED and event.starts_at <= utcnow():
            event_services.change_state(event, "mark_held", actor=staff)
    db.session.flush()
    world.events = len(events)
    _attendance(rng, events, world)
    return world


def _organisations(world: DemoWorld) -> list[Organisation]:
    """The approved demo organisations, and the further societies of the Academic Month."""
    for number, name in enumerate(SOCIETIES, start=1):
        code = make_credit_code(f"51110000500{200 + number:06d}")
        if db.session.scalar(select(Organisation.id).where(Organisation.credit_code == code)) is None:
            organisations.create_organisation({"name_zh": name, "org_type": "society", "credit_code": code,
                                               "is_bast_member": True, "contact_name": "学术部"})
            world.organisations += 1
    return list(db.session.scalars(select(Organisation).where(Organisation.status == OrganisationStatus.APPROVED)
                                   .order_by(Organisation.id)))


def _fields(kind: EventKind, title: str, starts_at: datetime, hours: int, discipline: str, rng: random.Random,
            **more) -> dict:
    return {
        "kind": kind, "title_zh": title, "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=hours),
        "venue": rng.choice(VENUES), "in_beijing": True, "district": rng.choice(DISTRICTS), "mode": "offline",
        "capacity": rng.choice((60, 80, 120, 200, 300)), "discipline": discipline,
        "description": f"{title}围绕学科前沿问题开展学术交流，面向首都科技工作者开放报名。", **more,
    }


def _speakers(event: Event, rng: random.Random, count: int, minutes: int) -> None:
    for position in range(count):
        leading = rng.random() < 0.3
        event_services.add_person(event, {
            "role": PersonRole.SPEAKER, "name": _name(rng), "organisation": rng.choice(INSTITUTIONS),
            "title": rng.choice(TITLES[:5]), "is_leading_figure": leading,
            "leading_reason": rng.choice(LEADING_REASONS) if leading else None,
            "talk_title": f"{rng.choice([t for topics in TOPICS.values() for t in topics])}研究进展",
            "talk_minutes": minutes, "on_site": rng.random() < 0.85, "position": position,
        })


def _event(staff, rng: random.Random, hosts: list[Organisation], kind: EventKind, day: date, discipline: str,
           number: int) -> Event:
    """A published event of ``kind`` hosted by one of ``hosts`` (a conference sometimes with a partner)."""
    host = rng.choice(hosts)
    topic = rng.choice(TOPICS.get(discipline, TOPICS["physics"]))
    title = {
        EventKind.NATIONAL: f"全国{topic}学术会议（{day.year}）",
        EventKind.REGIONAL: f"京津冀{topic}协同创新论坛",
        EventKind.ANNUAL_MEETING: f"{host.name_zh}{day.year}年学术年会",
        EventKind.REPORT_SESSION: f"{topic}前沿学术报告会",
        EventKind.OTHER: f"{topic}学术研讨会（第{number}期）",
    }[kind]
    hours = {EventKind.NATIONAL: 8, EventKind.REGIONAL: 6, EventKind.ANNUAL_MEETING: 7}.get(kind, 3)
    partners = [(host.id, "host")]
    if kind in (EventKind.NATIONAL, EventKind.REGIONAL) and rng.random() < 0.5:
        other = rng.choice([h for h in hosts if h.id != host.id])
        partners.append((other.id, rng.choice(("co_host", "main_organiser"))))
    event = event_services.create_event(_fields(kind, title, _at(day, rng.choice((9, 14))), hours, discipline, rng),
                                        partners, creator=staff)
    _speakers(event, rng, rng.randint(2, 5), rng.choice((20, 30, 45)))
    event_services.change_state(event, "publish", actor=staff)
    return event


def _international_conferences(staff, hosts: list[Organisation], rng: random.Random) -> list[Event]:
    """Two international conferences: one with its filing approved (document kept), one filed and pending."""
    conferences = []
    for day, title, approved in ((date(2026, 10, 16), "第十一届国际非线性力学会议", True),
                                 (date(2026, 11, 6), "国际人工智能与材料科学大会", False)):
        host = hosts[0] if approved else hosts[1]
        event = event_services.create_event(
            _fields(EventKind.INTERNATIONAL, title, _at(day, 9), 32, "engineering_mechanics" if approved
                    else "information_science", rng, title_en="International Conference", capacity=500),
            [(host.id, "host"), (hosts[2].id, "co_host")], creator=staff)
        _speakers(event, rng, 6, 45)
        event_services.change_filing(event, "file", actor=staff)
        if approved:
            event_services.upload_filing_document(event, FileStorage(BytesIO(PDF), filename="报备审批批复.pdf",
                                                                     content_type="application/pdf"))
            event_services.change_filing(event, "approve", actor=staff)
        event_services.change_state(event, "publish", actor=staff)
        conferences.append(event)
    return conferences


def _series(staff, rng: random.Random, host: Organisation, discipline: str, title: str, first: date, days: int,
            world: DemoWorld, year: int | None = None, sessions: int = 6, start: date | None = None) -> list[Event]:
    """A brand salon series with its topic selection and ``sessions`` sessions."""
    committee = [_name(rng) for _ in range(3)]
    series = series_services.create_series({
        "title_zh": title, "year": year or first.year, "topic_mechanism": MECHANISM, "committee": "\n".join(committee),
        "venue": "北京科学中心学术沙龙厅", "district": "xicheng", "sessions_target": 4, "person_times_target": 100,
        "description": f"{title}是{host.name_zh}面向青年科技工作者的品牌学术沙龙，小规模、深层次、高频次。",
    }, creator=staff, organisation_id=host.id)
    world.series += 1
    topics = list(TOPICS.get(discipline, TOPICS["physics"]))
    made = []
    for number in range(sessions):
        proposal = series_services.propose_topic(series, {
            "title": topics[number % len(topics)] + ("" if number < len(topics) else f"（续{number // len(topics)}）"),
            "rationale": "该方向处于学科前沿，适合小范围深入研讨。", "proposed_by": _name(rng)}, proposer=staff)
        series_services.decide_topic(proposal, "choose", actor=staff, decided_by=committee[:2],
                                     note="符合选题标准")
        day = (start + timedelta(days=3 * number)) if start else first + timedelta(days=(number * days) // sessions)
        made.append(series_services.add_session(
            series, {"topic_id": proposal.id, "starts_at": _at(day, 14), "ends_at": _at(day, 17),
                     "capacity": 40, "discipline": discipline, "mode": "offline"},
            creator=staff, initiator={"name": _name(rng), "organisation": rng.choice(INSTITUTIONS), "title": "研究员"},
            discussants=[{"name": _name(rng), "organisation": rng.choice(INSTITUTIONS), "title": rng.choice(TITLES)}
                         for _ in range(3)],
            publish=True,
        ))
    declined = series_services.propose_topic(series, {"title": "学科史回顾", "rationale": "回顾学科发展历程。",
                                                      "proposed_by": _name(rng)}, proposer=staff)
    series_services.decide_topic(declined, "decline", actor=staff, decided_by=committee[:2],
                                 note="与本系列的前沿定位不符")
    return made


def _upcoming(staff, rng: random.Random, hosts: list[Organisation], world: DemoWorld) -> list[Event]:
    """Events dated from the day the demo loads, open for registration (a salon series of
    the coming weeks and a few talks)."""
    start = beijing_today() + timedelta(days=1)
    if (start + timedelta(days=12)).year != start.year:  # a series' sessions stay in its year
        start = date(start.year + 1, 1, 2)
    made = _series(staff, rng, hosts[0], "information_science", f"{start.year}年人工智能前沿沙龙", start, 21, world,
                   year=start.year, sessions=4, start=start)
    for number in range(4):
        day = start + timedelta(days=2 + 4 * number)
        made.append(_event(staff, rng, hosts, EventKind.REPORT_SESSION, day, rng.choice(list(TOPICS)), number + 1))
    world.upcoming = len(made)
    return made


def _attendance(rng: random.Random, events: list[Event], world: DemoWorld) -> None:
    """Registrations (demo source) and, for events already held, check-ins: written in bulk."""
    now = utcnow()
    registrations, used = [], set()
    for index, event in enumerate(events):
        held = event.starts_at <= now
        capacity = event.capacity or 100
        count = rng.randint(capacity // 3, capacity) if held else rng.randint(3, max(4, capacity // 4))
        for person in range(count):
            registrations.append(_registration_row(
                rng, used, event.id, f"13{index:04d}{person:05d}",
                min(now, event.starts_at) - timedelta(days=rng.randint(1, 20)), now))
    db.session.execute(insert(Registration), registrations)
    world.registrations = len(registrations)
    held_ids = {event.id: event.starts_at for event in events if event.starts_at <= now}
    rows = db.session.execute(select(Registration.id, Registration.event_id).where(
        Registration.event_id.in_(list(held_ids)), Registration.source == RegistrationSource.DEMO)).all()
    check_ins = [{"event_id": event_id, "registration_id": registration_id, "method": CheckInMethod.SCAN,
                  "checked_in_at": held_ids[event_id] + timedelta(minutes=rng.randint(-30, 40))}
                 for registration_id, event_id in rows if rng.random() < 0.8]
    if check_ins:
        db.session.execute(insert(CheckIn), check_ins)
    world.check_ins = len(check_ins)


# --- the large world for the benchmark ---------------------------------------------------------------


def load_large_world() -> DemoWorld:
    """300 organisations, 2,000 events and 50,000 registrations, in bulk (flushed, not
    committed); nothing when they are there already."""
    world = DemoWorld()
    first_code = make_credit_code("51110000600000001")
    if db.session.scalar(select(Organisation.id).where(Organisation.credit_code == first_code)) is not None:
        return world
    rng = random.Random(2000)
    now = utcnow()
    db.session.execute(insert(Organisation), [{
        "name_zh": f"北京科技社团{number:03d}", "org_type": "society", "status": OrganisationStatus.APPROVED,
        "credit_code": make_credit_code(f"51110000600{number:06d}"), "is_bast_member": True,
        "created_at": now, "updated_at": now,
    } for number in range(1, LARGE_ORGANISATIONS + 1)])
    organisation_ids = list(db.session.scalars(select(Organisation.id).where(
        Organisation.name_zh.like("北京科技社团%")).order_by(Organisation.id)))
    editions = {number: (first, last) for number, _year, first, last in EDITIONS}
    for number, year, first, last in EDITIONS:
        if db.session.scalar(select(AcademicMonthEdition.id).where(AcademicMonthEdition.number == number)) is None:
            event_services.save_edition({"number": number, "year": year, "starts_on": first, "ends_on": last})
    edition_ids = dict(db.session.execute(select(AcademicMonthEdition.number, AcademicMonthEdition.id)).all())
    kinds = [kind for kind in EventKind if kind != EventKind.INTERNATIONAL]
    disciplines = list(TOPICS)
    today = beijing_now().date()
    rows = []
    for number in range(LARGE_EVENTS):
        edition = 29 if number % 3 else 30
        first, last = editions[edition]
        if number % 10 == 0:  # some upcoming ones, whatever the day
            day, edition = today + timedelta(days=1 + number % 60), None
        else:
            day = first + timedelta(days=number % ((last - first).days + 1))
        starts_at = _at(day, 9 + number % 8)
        discipline = disciplines[number % len(disciplines)]
        rows.append({
            "kind": kinds[number % len(kinds)], "status": EventStatus.PUBLISHED if starts_at > now else EventStatus.HELD,
            "title_zh": f"{TOPICS[discipline][number % 4]}学术交流活动第{number + 1}场", "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=3), "edition_id": edition_ids.get(edition) if edition else None,
            "venue": VENUES[number % len(VENUES)], "in_beijing": True, "district": DISTRICTS[number % len(DISTRICTS)],
            "mode": "offline", "capacity": 60, "registration_open": True, "discipline": discipline,
            "filing_status": "not_needed", "created_at": now, "updated_at": now,
        })
    db.session.execute(insert(Event), rows)
    event_ids = list(db.session.scalars(select(Event.id).where(Event.title_zh.like("%学术交流活动第%场"))
                                        .order_by(Event.id)))
    db.session.execute(insert(EventOrganisation), [
        {"event_id": event_id, "organisation_id": organisation_ids[index % len(organisation_ids)], "role": "host"}
        for index, event_id in enumerate(event_ids)])
    db.session.execute(insert(EventPerson), [
        {"event_id": event_id, "role": PersonRole.SPEAKER, "position": position, "name": _name(rng),
         "organisation": rng.choice(INSTITUTIONS), "title": rng.choice(TITLES), "is_leading_figure": position == 0,
         "leading_reason": LEADING_REASONS[0] if position == 0 else None, "talk_title": "学术报告",
         "talk_minutes": 30, "on_site": True}
        for event_id in event_ids for position in range(3)])
    per_event = LARGE_REGISTRATIONS // len(event_ids)
    used, registrations = set(), []
    for index, event_id in enumerate(event_ids):
        for person in range(per_event):
            registrations.append(_registration_row(rng, used, event_id, f"13{index:05d}{person:04d}", now, now))
    for start in range(0, len(registrations), 5_000):
        db.session.execute(insert(Registration), registrations[start:start + 5_000])
    held = dict(db.session.execute(select(Event.id, Event.starts_at).where(Event.id.in_(event_ids),
                                                                          Event.status == EventStatus.HELD)).all())
    pairs = db.session.execute(select(Registration.id, Registration.event_id).where(
        Registration.event_id.in_(list(held)))).all()
    check_ins = [{"event_id": event_id, "registration_id": registration_id, "method": CheckInMethod.SCAN,
                  "checked_in_at": held[event_id]} for registration_id, event_id in pairs if registration_id % 5]
    for start in range(0, len(check_ins), 5_000):
        db.session.execute(insert(CheckIn), check_ins[start:start + 5_000])
    world.organisations, world.events = LARGE_ORGANISATIONS, len(event_ids)
    world.registrations, world.check_ins = len(registrations), len(check_ins)
    return world
