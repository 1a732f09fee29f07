"""The online second opinion: the home physician's questions, the reviewing specialist, the
written opinion and its addenda."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

#: Who asked a follow-up question.
ASKED_BY = ("patient", "physician")


class OpinionRequest(db.Model):
    """A written second opinion asked for from afar, one per case."""

    __tablename__ = "opinion_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), unique=True)
    #: what the home physician asks: it decides the reviewing specialist
    physician_questions: Mapped[str] = mapped_column(Text, default="")
    specialist_name: Mapped[str] = mapped_column(String(200), default="")
    specialty: Mapped[str] = mapped_column(String(200), default="")
    opinion_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    #: when the patient was told and could read it in the portal
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: when the patient decided to come to Boston and the case became an in-person second opinion
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    converted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    inquiry: Mapped["Inquiry"] = relationship()  # noqa: F821
    opinion_document: Mapped["Document | None"] = relationship()  # noqa: F821
    released_by: Mapped["User | None"] = relationship(foreign_keys=[released_by_id])  # noqa: F821
    converted_by: Mapped["User | None"] = relationship(foreign_keys=[converted_by_id])  # noqa: F821
    addenda: Mapped[list["OpinionAddendum"]] = relationship(
        back_populates="opinion", order_by="OpinionAddendum.id", cascade="all, delete-orphan")


class OpinionAddendum(db.Model):
    """A follow-up question on the written opinion, and the addendum that answers it."""

    __tablename__ = "opinion_addenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinion_requests.id", ondelete="CASCADE"), index=True)
    asked_by: Mapped[str] = mapped_column(String(10))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    opinion: Mapped[OpinionRequest] = relationship(back_populates="addenda")
    document: Mapped["Document | None"] = relationship()  # noqa: F821
