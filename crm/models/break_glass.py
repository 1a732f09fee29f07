"""Break-glass access: a coordinator's time-limited emergency access to one case outside their
centers, with the reason they gave."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class BreakGlassGrant(db.Model):
    """One emergency access: who, which case, why, until when, and how often it was used."""

    __tablename__ = "break_glass_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    #: The coordinator's words: why the emergency needs this case (read by the admins).
    reason: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set by the sweep that records the expiry in the audit trail.
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    views: Mapped[int] = mapped_column(default=0)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped["User"] = relationship()  # noqa: F821
    inquiry: Mapped["Inquiry"] = relationship()  # noqa: F821

    __table_args__ = (
        Index("ix_break_glass_grants_user_expires", "user_id", "expires_at"),
        Index("ix_break_glass_grants_created", "created_at"),
        Index("ix_break_glass_grants_unexpired", "expired_at", "expires_at"),
    )
