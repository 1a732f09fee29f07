"""What the journey strip and the move rules read about one case, each loaded once."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ChecklistItem, Inquiry
from ..models.inquiry import ClinicalReview
from . import conversation


class Facts:
    """A case's data for ``journey`` and ``pipeline.GATES``: each piece is loaded the first time
    it is read and kept, so the case page pays one query per piece, whatever reads it.

    A new piece is a property calling ``self.once(key, loader)``, or ``facts.once(...)`` at the
    point of use; pass what the caller has loaded already as a keyword (``checklist=``)."""

    def __init__(self, inquiry: Inquiry, **loaded: Any):
        self.inquiry = inquiry
        self._loaded: dict[str, Any] = dict(loaded)

    def once(self, key: str, load: Callable[[], Any]) -> Any:
        """``load()``'s result, computed on the first call for ``key`` only."""
        if key not in self._loaded:
            self._loaded[key] = load()
        return self._loaded[key]

    @property
    def checklist(self) -> list[ChecklistItem]:
        return self.once("checklist", lambda: conversation.checklist(self.inquiry))

    @property
    def reviews(self) -> list[ClinicalReview]:
        """The case's review rounds, oldest first, with their physicians."""
        return self.once("reviews", lambda: list(db.session.scalars(
            select(ClinicalReview).where(ClinicalReview.inquiry_id == self.inquiry.id)
            .options(joinedload(ClinicalReview.reviewer), joinedload(ClinicalReview.decided_by),
            joinedload(ClinicalReview.created_by))
            .order_by(ClinicalReview.id))))

    @property
    def review(self) -> ClinicalReview | None:
        """The latest review round, pending or decided."""
        return self.reviews[-1] if self.reviews else None
