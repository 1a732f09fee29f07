"""The pipeline as CSV, for the list's download and ``crm export csv``."""
from __future__ import annotations

import csv
import io

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
_FORMULA_START = ("=", "@", "\t", "\r")


def _cell(value) -> str:
    """Text safe from spreadsheet formula injection (a leading ``=``, ``@``, or ``+``/``-``
    not followed by a digit is quoted)."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(_FORMULA_START) or (text[:1] in "+-" and not text[1:2].isdigit() and text):
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


def csv_lines(user, filters: worklist.Filters, *, batch: int = 1000, everything: bool = False):
    """CSV text in chunks: the header, then every inquiry ``user`` may see that matches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    last_id = 0
    while True:
        stmt = (worklist.filtered(user, filters, everything=everything)
                .where(Inquiry.id > last_id).order_by(Inquiry.id).limit(batch)
                .options(joinedload(Inquiry.patient), joinedload(Inquiry.center),
                         joinedload(Inquiry.coordinator)))
        chunk = list(db.session.scalars(stmt).unique())
        for inquiry in chunk:
            writer.writerow(row_for(inquiry))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(chunk) < batch:
            break
        last_id = chunk[-1].id
        db.session.expunge_all()
