"""Column helpers shared by the models: UTC timestamps; ids for rows written in bulk."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import DateTime, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def number_new_rows(session: Session) -> None:
    """Give the session's new rows their ids before they are written: on SQLite only.

    On SQLite, SQLAlchemy writes rows whose ids the database chooses one ``INSERT`` at a time
    (it cannot tell which ``RETURNING`` row answers which parameters), but a whole table's
    rows in one go when it knows their ids. Here an SQLite transaction holds the write lock
    from its first statement (``extensions._begin_immediate``), so the next ids are the
    table's highest plus one: the ids SQLite would have chosen itself."""
    if session.get_bind().dialect.name != "sqlite":
        return
    waiting: dict = defaultdict(list)
    for instance in session.new:
        state = inspect(instance)
        column = state.mapper.local_table.autoincrement_column
        if column is not None and len(state.mapper.primary_key) == 1:
            key = state.mapper.get_property_by_column(column).key
            if getattr(instance, key) is None:
                waiting[column].append((state.insert_order, key, instance))
    with session.no_autoflush:
        for column, rows in waiting.items():
            top = session.execute(select(func.max(column))).scalar() or 0
            for number, (_order, key, instance) in enumerate(sorted(rows, key=lambda row: row[0]), top + 1):
                setattr(instance, key, number)
