"""The dashboard's counts, kept in step with the cases by ``services.dashboard_counts``."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime
from .inquiry import Inquiry

#: ``period`` of a row: the day, the week (from Monday) or the month an inquiry was created in,
#: in the center's time zone; ``ZONE`` is the one row naming that zone.
DAY, WEEK, MONTH, ZONE = "d", "w", "m", "z"


class DashboardCount(db.Model):
    """How many inquiries created in one period (day, week or month, in the center's time zone)
    of one center (0: not routed) have ``value`` for ``dim``: their stage, source, country,
    language, furthest stage, coordinator (open cases), first-response outcome, or the whole
    days they spent in a stage (``stay:<stage>``, one per stay). Each inquiry counts in its day,
    its week and its month; the dashboard adds up the fewest rows covering a date range."""

    __tablename__ = "dashboard_counts"
    #: SQLite keeps the rows in their key's order, in one tree: each upsert writes once.
    __table_args__ = {"sqlite_with_rowid": False}

    period: Mapped[str] = mapped_column(String(1), primary_key=True)
    #: The period's first day: the day itself, a Monday, the first of a month.
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    center_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    dim: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class OpenTaskCount(db.Model):
    """How many open follow-up tasks of one center's cases (0: not routed) are due in one hour
    (UTC), per assignee (0: nobody), paused or not: the overdue ones are those of the hours
    gone by, and of this hour those already due."""

    __tablename__ = "open_task_counts"
    __table_args__ = {"sqlite_with_rowid": False}

    center_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    assignee_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    due_hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    is_paused: Mapped[bool] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


#: A coordinator's own cases in centers not theirs, which the dashboard counts directly, found
#: from the index alone.
Index("ix_inquiries_coordinator_center", Inquiry.coordinator_id, Inquiry.center_id, Inquiry.id)
