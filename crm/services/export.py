"""The pipeline as CSV, for the list's download and ``crm export csv``."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from sqlalchemy import Select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Inquiry
from . import worklist

COLUMNS = ("reference", "id", "stage", "outcome", "service", "center", "coordinator", "source",
           "given_name", "family_name", "email", "phone", "date_of_birth", "sex", "country",
           "preferred_language", "timezone", "mrn", "reason", "referring_physician_name",
           "referring_physician_email", "referring_physician_institution",
           "referring_physician_country", "created_at", "updated_at", "stage_entered_at",
           "closed_at")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A signed plain number (``+15551234567``, ``-3``) cannot call anything: it stays as it is, so
#: that phone numbers in E.164 remain readable.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _cell(value) -> str:
    """Text safe from spreadsheet formula injection: a cell that starts with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return is quoted, unless it is a plain signed number."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def row_for(inquiry: Inquiry) -> list[str]:
    p = inquiry.patient
    values = (inquiry.reference, inquiry.id, inquiry.stage, inquiry.outcome, inquiry.service,
              inquiry.center.key if inquiry.center else None,
              inquiry.coordinator.email if inquiry.coordinator else None, inquiry.source,
              p.given_name, p.family_name, p.email, p.phone, p.date_of_birth, p.sex, p.country,
              p.preferred_language, p.timezone, p.mrn, inquiry.reason, inquiry.referring_name,
              inquiry.referring_email, inquiry.referring_institution, inquiry.referring_country,
              inquiry.created_at, inquiry.updated_at, inquiry.stage_entered_at, inquiry.closed_at)
    return [_cell(v) for v in values]


def statement(user, filters: worklist.Filters, *, everything: bool = False) -> Select:
    """What an export of ``user`` holds, built now: the user's scope is read into the statement
    as plain values, so that running it later needs neither the user nor the request.

    :param everything: no user scope: only for the operator's command line.
    """
    return worklist.filtered(user, filters, everything=everything)


class CsvExport:
    """One export's CSV text in chunks: the header, then the rows of a statement, ``batch`` at
    a time (memory stays flat). It runs in whatever session is current when it is iterated and
    holds nothing of it across a chunk (the caller may end its transaction meanwhile);
    ``rows`` counts the rows written so far, ``done`` tells whether the last one was."""

    def __init__(self, stmt: Select, *, batch: int = 1000):
        self.stmt, self.batch = stmt, max(1, int(batch))
        self.rows, self.done = 0, False

    def __iter__(self) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        last_id = 0
        while True:
            page = (self.stmt.where(Inquiry.id > last_id).order_by(Inquiry.id).limit(self.batch)
                    .options(joinedload(Inquiry.patient), joinedload(Inquiry.center),
                             joinedload(Inquiry.coordinator)))
            chunk = list(db.session.scalars(page).unique())
            for inquiry in chunk:
                writer.writerow(row_for(inquiry))
            self.rows += len(chunk)
            self.done = len(chunk) < self.batch
            last_id = chunk[-1].id if chunk else last_id
            db.session.expunge_all()
            yield buffer.getvalue()
            if self.done:
                return
            buffer.seek(0)
            buffer.truncate()


def csv_lines(user, filters: worklist.Filters, *, batch: int = 1000,
              everything: bool = False) -> CsvExport:
    """CSV text in chunks: the header, then every inquiry ``user`` may see that matches (the
    scope is taken now; the rows are read as the chunks are asked for)."""
    return CsvExport(statement(user, filters, everything=everything), batch=batch)
