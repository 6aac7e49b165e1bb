"""Selection rounds and their candidates; expert profiles, panels, members and their conflicts.

A round is one import of a ranking's output folder; the SHA-256 of its candidates.parquet is
the identity of the import (``selection.schema.read_candidates``), so the same file imports
once. Candidates are written once by the import and never edited: they are not audited row by
row; the import's single audit entry names the counts. A candidate's dossier (what the panel
reads: abstract, citations with their world flags, the citing side, the journal's tier and
warning, links, funders, admission) is one JSON column holding the candidates table's columns
of schema version 3 (``DOSSIER_FIELDS``).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference_app.core.db import AuditedMixin, TitledEnum, UTCDateTime, VersionedMixin, utcnow
from conference_app.core.enums import TitledStrEnum
from conference_app.extensions import db
from selection.schema import CANDIDATE_COLUMNS

# The candidates columns of schema version 3, after ``authorships``: kept in Candidate.dossier.
DOSSIER_FIELDS = CANDIDATE_COLUMNS[CANDIDATE_COLUMNS.index("authorships") + 1:]


class JournalGroup(TitledStrEnum):
    """``selection.schema.JOURNAL_GROUPS``."""

    DOMESTIC = "domestic", _l("Domestic journals")
    INTERNATIONAL = "international", _l("International journals")


class Stability(TitledStrEnum):
    """How firmly a candidate holds its seat (bootstrap rank interval against the quota)."""

    SECURE = "secure", _l("Secure")
    BORDERLINE = "borderline", _l("Borderline")


class Admission(TitledStrEnum):
    """``selection.schema.ADMISSIONS``: why a candidate holds its seat."""

    WORLD_TOP_1PCT = "world_top_1pct", _l("World top 1%, seated first")
    NATIONAL_TOP_1PCT = "national_top_1pct", _l("Top 1% nationally (domestic journals), seated first")
    GATE = "gate", _l("Passed the gate")


class StratumLevel(TitledStrEnum):
    """``selection.schema.STRATUM_LEVELS``: the stratum of Beijing papers a percentile was taken in."""

    SUBFIELD = "subfield", _l("subfield and publication year")
    FIELD = "field", _l("field and publication year (the subfield had too few papers: pooled upward)")
    DISCIPLINE = "discipline", _l("discipline and publication year (the field had too few papers: pooled upward)")
    ALL_DISCIPLINES = "all_disciplines", _l(
        "all disciplines and publication year (the discipline had too few papers: pooled upward)")


class Baseline(TitledStrEnum):
    """``selection.schema.BASELINES``: what an indicator's value compares with, so a rank among
    Beijing papers never reads as a world rank."""

    WORLD = "world", _l("papers of the same field and year in the world")
    NATIONAL = "national", _l("papers of the same subfield and year in China-published journals (national)")
    BEIJING = "beijing", _l("the Beijing papers of its stratum")
    HARVEST = "harvest", _l("the Beijing papers harvested for this ranking")


class Track(TitledStrEnum):
    """``selection.schema.TRACKS``: reviews are ranked among reviews."""

    ARTICLE = "article", _l("Research articles")
    REVIEW = "review", _l("Review articles")


def _member(enum_type, value):
    return enum_type(value) if value in enum_type.titles() else None


class SelectionRound(AuditedMixin, db.Model):
    """One imported ranking: its name, where it came from, its summary and settings."""

    __tablename__ = "selection_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    source_folder: Mapped[str] = mapped_column(String(255), nullable=False)  # the folder's (or zip's) name
    candidates_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    candidate_count: Mapped[int] = mapped_column(Integer, nullable=False)
    summary: Mapped[dict] = mapped_column(JSON, nullable=False)  # summary.json as written by the ranking
    settings: Mapped[dict] = mapped_column(JSON, nullable=False)  # summary["settings"]
    charts_dir: Mapped[str] = mapped_column(String(255), nullable=False)  # relative to UPLOAD_DIR

    created_by = relationship("User")

    @property
    def audit_label(self) -> str:
        return self.name

    @property
    def lists(self) -> list[dict]:
        """Per discipline and journal group: pool, eligible, selected, quota, shortfall."""
        return list(self.summary.get("lists") or [])


class Candidate(db.Model):
    """One row of candidates.parquet in a round."""

    __tablename__ = "selection_candidates"
    __table_args__ = (
        UniqueConstraint("round_id", "discipline", "journal_group", "work_id", name="uq_selection_candidate_work"),
        Index("ix_selection_candidates_list", "round_id", "discipline", "journal_group", "rank"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("selection_rounds.id", ondelete="CASCADE"), nullable=False)
    work_id: Mapped[str] = mapped_column(String(32), nullable=False)
    discipline: Mapped[str] = mapped_column(String(60), nullable=False)
    journal_group: Mapped[JournalGroup] = mapped_column(TitledEnum(JournalGroup, 20), nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    stratum_works: Mapped[int] = mapped_column(Integer, nullable=False)
    score_parts: Mapped[list] = mapped_column(JSON, nullable=False)  # selection.ranking.explain.IndicatorPart fields
    over_topic_cap: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    cluster: Mapped[int | None] = mapped_column(Integer)
    cluster_terms: Mapped[str | None] = mapped_column(Text)
    cluster_rank: Mapped[int | None] = mapped_column(Integer)
    topic_id: Mapped[str | None] = mapped_column(String(32))
    topic_rank: Mapped[int | None] = mapped_column(Integer)
    subfield_id: Mapped[int | None] = mapped_column(Integer)
    publication_year: Mapped[int | None] = mapped_column(Integer)
    work_type: Mapped[str | None] = mapped_column(String(20))
    doi: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(Text)
    source_name: Mapped[str | None] = mapped_column(String(500))
    issn_l: Mapped[str | None] = mapped_column(String(20))
    beijing_first: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    beijing_corresponding: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    authorships: Mapped[list] = mapped_column(JSON, nullable=False)
    stability: Mapped[Stability | None] = mapped_column(TitledEnum(Stability, 20))
    rank_interval_low: Mapped[int | None] = mapped_column(Integer)
    rank_interval_high: Mapped[int | None] = mapped_column(Integer)
    author_rule: Mapped[str | None] = mapped_column(String(40))
    # DOSSIER_FIELDS as plain JSON (null for a missing number); deferred: lists and conflict
    # checks never read it, the pages and the export that do load it with the row.
    dossier: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict, deferred=True)

    round = relationship("SelectionRound")

    @property
    def admission(self) -> Admission | None:
        return _member(Admission, self.dossier.get("admission"))

    @property
    def stratum_level(self) -> StratumLevel | None:
        return _member(StratumLevel, self.dossier.get("stratum_level"))

    @property
    def track(self) -> Track | None:
        return _member(Track, self.dossier.get("track"))

    @property
    def citation_baseline(self) -> Baseline | None:
        return _member(Baseline, self.dossier.get("citation_baseline"))


# --- expert panels ---------------------------------------------------------------------------


class ExpertProfile(AuditedMixin, VersionedMixin, db.Model):
    """What the conflict checks know of an expert: OpenAlex author id, ORCID, the OpenAlex
    institutions of their organisations and the disciplines they review."""

    __tablename__ = "expert_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False)
    openalex_author_id: Mapped[str | None] = mapped_column(String(20))  # short form, A5023888391
    orcid: Mapped[str | None] = mapped_column(String(19))  # 0000-0000-0000-000X
    institution_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # short OpenAlex I-ids
    disciplines: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # selection discipline keys

    user = relationship("User")

    @property
    def audit_label(self) -> str:
        return self.user.name if self.user is not None else str(self.user_id)


class PanelStatus(TitledStrEnum):
    FORMING = "forming", _l("Forming")
    OPEN = "open", _l("Open for review")
    LOCKED = "locked", _l("Results locked")


class ConflictKind(TitledStrEnum):
    """``selection.panel.conflicts.KINDS``."""

    AUTHOR = "author", _l("Author of the work")
    INSTITUTION = "institution", _l("Same institution")
    COAUTHOR = "coauthor", _l("Recent co-author")
    DECLARED = "declared", _l("Declared by the expert")


class Panel(AuditedMixin, db.Model):
    """The expert panel of one discipline in one round."""

    __tablename__ = "panels"
    __table_args__ = (UniqueConstraint("round_id", "discipline", name="uq_panel_round_discipline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("selection_rounds.id", ondelete="CASCADE"), nullable=False)
    discipline: Mapped[str] = mapped_column(String(60), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    chair_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[PanelStatus] = mapped_column(TitledEnum(PanelStatus, 20), nullable=False,
                                                default=PanelStatus.FORMING)
    conflicts_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    round = relationship("SelectionRound")
    chair = relationship("User", foreign_keys=[chair_user_id])
    locked_by = relationship("User", foreign_keys=[locked_by_id])
    members = relationship("PanelMember", back_populates="panel", cascade="all, delete-orphan",
                           order_by="PanelMember.id")
    review_rounds = relationship("ReviewRound", back_populates="panel", cascade="all, delete-orphan",
                                 order_by="ReviewRound.id")
    results = relationship("PanelResult", back_populates="panel", cascade="all, delete-orphan",
                           order_by="PanelResult.position")

    @property
    def audit_label(self) -> str:
        return self.name

    def has_member(self, user_id: int | None) -> bool:
        return user_id is not None and any(member.user_id == user_id for member in self.members)


class PanelMember(AuditedMixin, db.Model):
    __tablename__ = "panel_members"
    __table_args__ = (UniqueConstraint("panel_id", "user_id", name="uq_panel_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    panel = relationship("Panel", back_populates="members")
    user = relationship("User")


class PanelConflict(AuditedMixin, db.Model):
    """One conflict of a member with a candidate: computed (``find_conflicts``) or declared by the
    expert; the chair or staff may override a computed one with a comment."""

    __tablename__ = "panel_conflicts"
    __table_args__ = (
        UniqueConstraint("panel_id", "user_id", "candidate_id", "kind", name="uq_panel_conflict"),
        Index("ix_panel_conflicts_panel", "panel_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("selection_candidates.id", ondelete="CASCADE"),
                                              nullable=False)
    kind: Mapped[ConflictKind] = mapped_column(TitledEnum(ConflictKind, 20), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    declared_by_expert: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    override_comment: Mapped[str | None] = mapped_column(Text)

    panel = relationship("Panel")
    user = relationship("User", foreign_keys=[user_id])
    candidate = relationship("Candidate")
    overridden_by = relationship("User", foreign_keys=[overridden_by_id])

    @property
    def audit_label(self) -> str:
        return f"{self.candidate.work_id if self.candidate is not None else self.candidate_id} ({self.kind})"


# --- rounds of review ---------------------------------------------------------------------------


class ReviewStage(TitledStrEnum):
    """The three rounds of a panel, in their order."""

    TRIAGE = "triage", _l("Triage")
    SHORTLIST = "shortlist", _l("Shortlist")
    FINAL = "final", _l("Final vote")


class ReviewRoundStatus(TitledStrEnum):
    OPEN = "open", _l("Open for scoring")
    CLOSED = "closed", _l("Closed")


class Recommendation(TitledStrEnum):
    """The shortlist round's recommendation, strongest first."""

    STRONGLY = "strongly", _l("Strongly recommend")
    RECOMMEND = "recommend", _l("Recommend")
    NEUTRAL = "neutral", _l("Neutral")
    AGAINST = "against", _l("Do not recommend")


class ReviewRound(AuditedMixin, db.Model):
    """One round of review of a panel: who scores which candidates, blind or not, until closed."""

    __tablename__ = "panel_review_rounds"
    __table_args__ = (UniqueConstraint("panel_id", "stage", name="uq_panel_review_round_stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), nullable=False)
    stage: Mapped[ReviewStage] = mapped_column(TitledEnum(ReviewStage, 20), nullable=False)
    status: Mapped[ReviewRoundStatus] = mapped_column(TitledEnum(ReviewRoundStatus, 20), nullable=False,
                                                      default=ReviewRoundStatus.OPEN)
    blind: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    per_item: Mapped[int | None] = mapped_column(Integer)  # triage: experts per candidate
    item_count: Mapped[int] = mapped_column(Integer, nullable=False)  # candidates in the round
    assignment_report: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)  # loads, unfilled, solver
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(Text)  # why it closed with unscored assignments
    unscored_at_close: Mapped[int | None] = mapped_column(Integer)
    stats: Mapped[dict | None] = mapped_column(JSON)  # selection.panel.stats.panel_stats at closing

    panel = relationship("Panel", back_populates="review_rounds")
    created_by = relationship("User", foreign_keys=[created_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])

    @property
    def audit_label(self) -> str:
        return f"{self.panel.name if self.panel is not None else self.panel_id}: {self.stage.title}"

    @property
    def is_open(self) -> bool:
        return self.status == ReviewRoundStatus.OPEN


class Review(db.Model):
    """One expert's scores of one candidate in one round. Saved as the expert types (autosave),
    so not audited save by save; the round's closing records the counts and the statistics."""

    __tablename__ = "panel_reviews"
    __table_args__ = (
        UniqueConstraint("review_round_id", "candidate_id", "user_id", name="uq_panel_review"),
        Index("ix_panel_reviews_expert", "review_round_id", "user_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_round_id: Mapped[int] = mapped_column(ForeignKey("panel_review_rounds.id", ondelete="CASCADE"),
                                                 nullable=False)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("selection_candidates.id", ondelete="CASCADE"),
                                              nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)  # the candidate's number in the round
    score: Mapped[float | None] = mapped_column(Float)  # 1-10; the shortlist's is the rubric's mean
    originality: Mapped[int | None] = mapped_column(Integer)
    frontier: Mapped[int | None] = mapped_column(Integer)
    significance: Mapped[int | None] = mapped_column(Integer)
    influence: Mapped[int | None] = mapped_column(Integer)
    recommendation: Mapped[Recommendation | None] = mapped_column(TitledEnum(Recommendation, 20))
    vote: Mapped[bool | None] = mapped_column(Boolean)  # the final round
    comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    review_round = relationship("ReviewRound")
    candidate = relationship("Candidate")
    user = relationship("User")


class PanelResult(db.Model):
    """One of the panel's frontier results, with the panel's written justification; written
    when the chair locks the list (the lock's audit entry holds them all)."""

    __tablename__ = "panel_results"
    __table_args__ = (
        UniqueConstraint("panel_id", "candidate_id", name="uq_panel_result_candidate"),
        UniqueConstraint("panel_id", "position", name="uq_panel_result_position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), nullable=False)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("selection_candidates.id", ondelete="CASCADE"),
                                              nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    justification: Mapped[str] = mapped_column(Text, nullable=False)
    votes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    panel = relationship("Panel", back_populates="results")
    candidate = relationship("Candidate")
