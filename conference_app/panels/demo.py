"""The demo's expert panel, replayed through the services at the dates things happened: a
ranking of synthetic works imported in October as the 2026 selection round, five experts with
their profiles on a panel of the discipline with the most candidates (a sixth expert spare),
conflicts computed (and one declared), the blind triage with three experts a candidate, the
blind shortlist on the rubric, the final vote, and twenty frontier results locked in late
November, each with a justification written from the candidate's indicators.

Deterministic (seeded), and the demo's own: the works are ``selection.synthetic`` ones ranked
in a temporary folder, so nothing outside the repository is needed. Nothing happens when a
selection round exists already; the experts' logins are returned either way."""

from __future__ import annotations

import contextlib
import io
import random
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from conference_app.accounts import services as accounts
from conference_app.accounts.models import User
from conference_app.core.db import clock_at
from conference_app.core.permissions import Role
from conference_app.core.timeutil import BEIJING
from conference_app.extensions import db
from conference_app.panels import review, services
from conference_app.panels.models import Candidate, Review, ReviewRound, SelectionRound
from selection.disciplines import load_disciplines

ROUND_NAME = "2026年度前沿成果定量遴选"
WORKS = 9000  # 1,159 candidates, 308 of them in clinical medicine, the busiest discipline; ranked in a few s
SEED = 2026

# (e-mail, name, OpenAlex institution ids, sits on the panel). The first three are the demo's
# expert logins (conference_app.demo.USERS); found by e-mail, created when missing.
EXPERTS = (
    ("expert1@bast.demo.cn", "张院士", ("I20231570",), True),  # Peking University
    ("expert2@bast.demo.cn", "刘教授", ("I99065089",), True),  # Tsinghua University
    ("expert3@bast.demo.cn", "赵研究员", ("I19820366",), True),  # Chinese Academy of Sciences
    ("expert4@bast.demo.cn", "孙主任", ("I2801228662", "I200296433"), True),  # PUMC Hospital, CAMS & PUMC
    ("expert5@bast.demo.cn", "钱教授", ("I183519381",), True),  # Capital Medical University
    ("expert6@bast.demo.cn", "周研究员", ("I2802939634",), False),  # Chinese PLA General Hospital (spare)
)
# A second discipline each expert reviews besides the panel's.
SECOND_DISCIPLINES = ("basic_medicine", "information_science", "physics", "basic_biology", "biotechnology",
                      "basic_medicine")
INDICATORS_ZH = {"influence": "国际影响力", "hot": "热度", "frontier": "前沿性", "originality": "原创性"}
SHORTLIST_COMMENTS = {
    "strongly": ("研究问题处于学科前沿，方法新颖，结论可靠，建议重点推荐。",
                 "原创性突出，对后续研究有明显带动作用，国际同行关注度高。",
                 "工作系统完整，证据充分，具有重要的学术价值和应用前景。"),
    "recommend": ("选题有意义，技术路线清晰，创新点较明确，建议推荐。",
                  "成果扎实，国际影响力较好，但对领域的推动作用有待进一步观察。",
                  "方法有一定新意，数据翔实，可作为候选成果。"),
    "neutral": ("工作质量尚可，但创新性一般，与同类研究相比优势不明显。",
                "结论有一定参考价值，前沿性和影响力均属中等。"),
    "against": ("属于渐进式改进，前沿性不足，不建议入选。",),
}
DECLARED_REASON = "该文通讯作者为本人近三年指导的博士后，主动申报回避。"


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BEIJING)


@dataclass(frozen=True)
class DemoExpert:
    email: str
    name: str


@dataclass
class DemoPanels:
    round_name: str | None = None
    candidates: int = 0
    discipline: str | None = None  # its Chinese name
    panel_candidates: int = 0
    members: int = 0
    conflicts: int = 0
    rounds: int = 0
    reviews: int = 0
    results: int = 0
    experts: list[DemoExpert] = field(default_factory=list)  # every demo expert, for the printed logins


def _experts(password: str) -> list[User]:
    users = []
    for email, name, _institutions, _member in EXPERTS:
        users.append(accounts.find_user(email) or accounts.create_user(email, name, Role.EXPERT.value,
                                                                       password=password))
    return users


def _rank(folder: Path) -> Path:
    """The demo's own ranking of synthetic works, written under ``folder``."""
    import pyarrow.parquet as pq

    from selection.cli import main as selection_main
    from selection.synthetic.table import works_table

    works = folder / "works.parquet"
    # The stand-in topics (a topics file that does not exist): the same demo with or without ../shared/data.
    pq.write_table(works_table(WORKS, seed=SEED, topics_path=folder / "no-topics.csv"), works)
    with contextlib.redirect_stdout(io.StringIO()):  # its one-line report is not the demo's
        code = selection_main(["rank", "--works", str(works), "--out", str(folder / "out"), "--per-group", "200"])
    if code:
        raise RuntimeError(f"the demo's ranking failed (exit {code})")
    return folder / "out"


def _busiest(selection_round: SelectionRound) -> str:
    return db.session.execute(
        select(Candidate.discipline).where(Candidate.round_id == selection_round.id)
        .group_by(Candidate.discipline).order_by(func.count().desc(), Candidate.discipline)).scalar()


def _author_of_a_candidate(selection_round: SelectionRound, discipline: str) -> str | None:
    """An author of one of the discipline's candidates (the fourth expert wrote it: an author conflict)."""
    candidate = db.session.scalar(select(Candidate).where(
        Candidate.round_id == selection_round.id, Candidate.discipline == discipline)
        .order_by(Candidate.journal_group, Candidate.rank).offset(7).limit(1))
    for authorship in (candidate.authorships if candidate is not None else []):
        if authorship.get("author_id") and authorship.get("position") != "first":
            return authorship["author_id"]
    return None


def _reviews(review_round: ReviewRound) -> list[Review]:
    return list(db.session.scalars(select(Review).where(Review.review_round_id == review_round.id)
                                   .order_by(Review.user_id, Review.position)))


def _score_triage(review_round: ReviewRound, quality: dict[int, float], bias: dict[int, float],
                  start: date, rng: random.Random) -> int:
    saved = 0
    for number, item in enumerate(_reviews(review_round)):
        day = start + timedelta(days=item.user_id % 5 * 2)
        value = round(quality[item.candidate_id] + bias[item.user_id] + rng.gauss(0, 1.1))
        with clock_at(_at(day, 9) + timedelta(minutes=number % 400)):
            review.save_review(item, {"score": max(1, min(10, value))}, item.user)
        saved += 1
    return saved


def _score_shortlist(review_round: ReviewRound, quality: dict[int, float], bias: dict[int, float],
                     start: date, rng: random.Random) -> tuple[int, dict[tuple[int, int], float]]:
    seen: dict[tuple[int, int], float] = {}
    for number, item in enumerate(_reviews(review_round)):
        day = start + timedelta(days=item.user_id % 5 * 2)
        base = quality[item.candidate_id] + bias[item.user_id] + rng.gauss(0, 0.9)
        values = {name: max(1, min(10, round(base + rng.choice((-1, 0, 0, 1))))) for name in review.RUBRIC}
        mean = sum(values.values()) / len(values)
        choice = "strongly" if mean >= 8.5 else "recommend" if mean >= 7 else "neutral" if mean >= 5 else "against"
        values["recommendation"] = choice
        if rng.random() < 0.6:
            values["comment"] = rng.choice(SHORTLIST_COMMENTS[choice])
        with clock_at(_at(day, 14) + timedelta(minutes=number % 300)):
            review.save_review(item, values, item.user)
        seen[(item.user_id, item.candidate_id)] = mean
    return len(seen), seen


def _vote_final(review_round: ReviewRound, seen: dict[tuple[int, int], float], start: date,
                rng: random.Random) -> int:
    """Each expert votes yes for the 16 to 20 items they rated best in the shortlist, no for the rest."""
    limit = review.settings()["results"]
    by_expert: dict[int, list[Review]] = {}
    for item in _reviews(review_round):
        by_expert.setdefault(item.user_id, []).append(item)
    saved = 0
    for user_id, items in by_expert.items():
        ordered = sorted(items, key=lambda r: (-(seen.get((user_id, r.candidate_id), 5) + rng.gauss(0, 0.4)),
                                               r.position))
        yes = rng.randint(limit - 4, limit)
        day = start + timedelta(days=user_id % 5)
        for number, item in enumerate(ordered):
            with clock_at(_at(day, 15) + timedelta(minutes=number)):
                review.save_review(item, {"vote": number < yes}, item.user)
            saved += 1
    return saved


def _top(value: float) -> str:
    share = max(value, 0.0) * 100
    return f"{share:.0f}%" if share >= 10 else f"{share:.1f}%"


def justification(tally: review.Tally, rng: random.Random) -> str:
    """The panel's written justification of one result, from the candidate's indicators and votes."""
    candidate = tally.candidate
    parts = sorted((part for part in candidate.score_parts if part.get("has_value")),
                   key=lambda part: (part.get("top_share", 1.0), part.get("indicator")))
    strengths = "，".join(f"{INDICATORS_ZH.get(part['indicator'], part['indicator'])}{'位于同层' if n == 0 else ''}"
                         f"前 {_top(part['top_share'])}" for n, part in enumerate(parts[:2]))
    opening = rng.choice(("该成果", "该论文", "这项工作"))
    where = f"发表于《{candidate.source_name}》" if candidate.source_name else "发表于国际期刊"
    year = f"（{candidate.publication_year}年）" if candidate.publication_year else ""
    topic = f"，聚焦“{candidate.cluster_terms.replace(', ', '、')}”方向" if candidate.cluster_terms else ""
    author = ("，北京单位作者为第一作者" if candidate.beijing_first
              else "，北京单位作者为通讯作者" if candidate.beijing_corresponding else "")
    standing = (f"入围轮综合排名第 {tally.shortlist_rank} 位，" if tally.shortlist_rank else "")
    close = ("投票专家一致赞成，认为其代表了本学科的前沿进展。" if tally.yes == tally.voted else
             rng.choice(("建议作为年度前沿成果予以发布。", "专家组认为其创新性和影响力突出，予以入选。",
                         "经讨论，专家组同意列入年度前沿成果。")))
    return (f"{opening}{where}{year}{topic}{author}；在同学科、同年份、同期刊组的 {candidate.stratum_works} 篇论文中，"
            f"{strengths}。{standing}终审获 {tally.yes}/{tally.voted} 位专家赞成票。{close}")


def load_panels(expert_password: str) -> DemoPanels:
    """Add the demo's selection round and its expert panel (flushed, not committed); only the
    experts' logins when a selection round exists already. New experts get ``expert_password``."""
    world = DemoPanels()
    experts = _experts(expert_password)
    world.experts = [DemoExpert(user.email, user.name) for user in experts]
    if db.session.scalar(select(func.count()).select_from(SelectionRound)):
        return world
    staff = db.session.scalar(select(User).where(User.role == Role.STAFF).order_by(User.id))
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="demo-ranking-") as folder:
        output = _rank(Path(folder))
        with clock_at(_at(date(2026, 10, 12))):
            selection_round = services.import_round(output, ROUND_NAME, staff).round
    discipline = _busiest(selection_round)
    names = load_disciplines()
    title = names.get(discipline).name_zh if discipline in names else discipline
    author_id = _author_of_a_candidate(selection_round, discipline)
    with clock_at(_at(date(2026, 10, 14))):
        for number, ((_email, _name, institutions, _member), user) in enumerate(zip(EXPERTS, experts)):
            second = SECOND_DISCIPLINES[number]
            services.save_profile(user, {
                "openalex_author_id": author_id if number == 3 else None,
                "institution_ids": list(institutions),
                "disciplines": [discipline] + ([second] if second != discipline else []),
            }, actor=user)
    members = [user for (*_spec, member), user in zip(EXPERTS, experts) if member]
    chair = members[0]
    with clock_at(_at(date(2026, 10, 15))):
        panel = services.create_panel(selection_round, discipline, f"{title}前沿成果评审专家组", staff)
        for user in members:
            services.add_member(panel, user, staff)
        services.set_chair(panel, chair, staff)
        services.open_panel(panel, staff)
    with clock_at(_at(date(2026, 10, 16))):
        services.compute_conflicts(panel, chair)
    declared = db.session.scalar(select(Candidate).where(
        Candidate.round_id == selection_round.id, Candidate.discipline == discipline)
        .order_by(Candidate.journal_group, Candidate.rank).offset(20).limit(1))
    with clock_at(_at(date(2026, 10, 17))):
        services.declare_conflict(panel, declared.work_id, DECLARED_REASON, members[2])
    candidates = services.panel_candidates(panel)
    ordered = sorted(candidates, key=lambda c: c.score)
    quality = {c.id: 2.5 + 7 * position / max(1, len(ordered) - 1) for position, c in enumerate(ordered)}
    bias = {user.id: rng.uniform(-0.7, 0.7) for user in members}

    with clock_at(_at(date(2026, 10, 20))):
        triage = review.create_round(panel, "triage", chair, blind=True, per_item=3)
    world.reviews += _score_triage(triage, quality, bias, date(2026, 10, 21), rng)
    with clock_at(_at(date(2026, 10, 31), 17)):
        review.close_round(triage, None, chair)
    with clock_at(_at(date(2026, 11, 3))):
        shortlist = review.create_round(panel, "shortlist", chair, blind=True)
    scored, seen = _score_shortlist(shortlist, quality, bias, date(2026, 11, 4), rng)
    world.reviews += scored
    with clock_at(_at(date(2026, 11, 13), 17)):
        review.close_round(shortlist, None, chair)
    with clock_at(_at(date(2026, 11, 17))):
        final = review.create_round(panel, "final", chair, blind=False)
    world.reviews += _vote_final(final, seen, date(2026, 11, 18), rng)
    with clock_at(_at(date(2026, 11, 24), 17)):
        review.close_round(final, None, chair)
    tallies = review.final_tally(panel)[: review.settings()["results"]]
    with clock_at(_at(date(2026, 11, 26), 16)):
        results = review.lock_results(panel, [(tally.candidate.id, justification(tally, rng)) for tally in tallies],
                                      chair)
    db.session.flush()
    world.round_name = selection_round.name
    world.candidates = selection_round.candidate_count
    world.discipline = title
    world.panel_candidates = len(candidates)
    world.members = len(members)
    world.conflicts = len(review.active_conflicts(panel))
    world.rounds = 3
    world.results = len(results)
    return world
