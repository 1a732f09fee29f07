"""Centers of excellence: a key and a name in every UI language."""
from __future__ import annotations

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .user import user_centers


class Center(db.Model):
    """A center of excellence that inquiries are routed to."""

    __tablename__ = "centers"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    #: {UI locale: name}, e.g. {"en": "Digestive Health", "es": "Salud Digestiva", …}
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    #: {language code: [keywords]} that point a request to this center (``services.routing``).
    keywords: Mapped[dict] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    users: Mapped[list["User"]] = relationship(  # noqa: F821
        secondary=user_centers, back_populates="centers")

    def name_in(self, locale) -> str:
        """The name in ``locale``, falling back to English, then the key."""
        return self.names.get(str(locale)) or self.names.get("en") or self.key

    def __repr__(self) -> str:
        return f"<Center {self.key}>"
