"""A user's in-app notifications and the log of every mail the platform sent through them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference_app.core.db import UTCDateTime, utcnow
from conference_app.extensions import db


class Notification(db.Model):
    """Something that concerns one user: a step of an application, a review to do ..."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    link: Mapped[str | None] = mapped_column(String(500))  # a path of the platform
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User")

    @property
    def owner_user_id(self) -> int:
        return self.user_id


class SentMail(db.Model):
    """A mail handed to delivery, written in the transaction of the change it reports (so the
    log holds no mail of a change that was rolled back)."""

    __tablename__ = "sent_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False, index=True)
