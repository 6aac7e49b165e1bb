"""Selection rounds and their candidates.

A round is one import of a ranking's output folder; the SHA-256 of its candidates.parquet is
the identity of the import (``selection.schema.read_candidates``), so the same file imports
once. Candidates are written once by the import and never edited: they are not audited row by
row; the import's single audit entry names the counts.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference_app.core.db import AuditedMixin, TitledEnum, UTCDateTime, utcnow
from conference_app.core.enums import TitledStrEnum
from conference_app.extensions import db


class JournalGroup(TitledStrEnum):
    """``selection.schema.JOURNAL_GROUPS``."""

    DOMESTIC = "domestic", _l("Domestic journals")
    INTERNATIONAL = "international", _l("International journals")


class Stability(TitledStrEnum):
    """How firmly a candidate holds its seat (bootstrap rank interval against the quota)."""

    SECURE = "secure", _l("Secure")
    BORDERLINE = "borderline", _l("Borderline")


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

    round = relationship("SelectionRound")
