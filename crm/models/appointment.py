"""Appointments of a case: a center, a physician, a time in Boston, a place, and a state."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

PROPOSED, CONFIRMED, CANCELLED = "proposed", "confirmed", "cancelled"
APPOINTMENT_STATES = (PROPOSED, CONFIRMED, CANCELLED)


class Appointment(db.Model):
    """One visit booked for the patient: proposed (held, not sent), confirmed (mailed with its
    calendar file) or cancelled (the cancellation mailed when it had been confirmed)."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"))
    physician: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(default=60)
    location: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default=PROPOSED)
    #: iCalendar SEQUENCE: grows with each version of the event the patient is sent
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    inquiry: Mapped["Inquiry"] = relationship()  # noqa: F821
    center: Mapped["Center | None"] = relationship()  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821

    __table_args__ = (Index("ix_appointments_inquiry", "inquiry_id", "starts_at"),)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_active(self) -> bool:
        return self.state != CANCELLED
