"""Follow-up tasks: what a coordinator must do for an inquiry, and by when."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

OPEN, DONE, CANCELLED = "open", "done", "cancelled"
TASK_STATES = (OPEN, DONE, CANCELLED)


class Task(db.Model):
    """One follow-up: a kind (see ``services.followups.RULES``), a due time, an assignee."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(12), default=OPEN)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: When the overdue task was brought to the managers' attention (once).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The clock stopped here while the case waits on the patient; it resumes when they answer.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    inquiry: Mapped["Inquiry"] = relationship(back_populates="tasks")  # noqa: F821
    assignee: Mapped["User | None"] = relationship(foreign_keys=[assignee_id])  # noqa: F821
    completed_by: Mapped["User | None"] = relationship(foreign_keys=[completed_by_id])  # noqa: F821

    __table_args__ = (
        Index("ix_tasks_state_due", "state", "due_at"),
        # a user's open tasks by due date; paused_at in the index answers the navigation's
        # count of overdue and due-today tasks (every page) without reading the table
        Index("ix_tasks_assignee_state_due_paused", "assignee_id", "state", "due_at", "paused_at"),
        Index("ix_tasks_inquiry_state", "inquiry_id", "state"),
        # the escalation sweep: open tasks not escalated yet, oldest first
        Index("ix_tasks_state_escalated_due", "state", "escalated_at", "due_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.state == OPEN
