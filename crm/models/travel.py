"""The travel plan of a case: dates, flights, lodging, pickup, interpreter, special needs, the
passports of the patient and their companions, and the visa invitation letter."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..services.crypto import EncryptedText
from .base import UTCDateTime, utcnow

RELATIONSHIPS = ("spouse", "parent", "child", "sibling", "relative", "friend", "caregiver", "other")


class TravelPlan(db.Model):
    """How the patient comes to Boston and stays, one per case."""

    __tablename__ = "travel_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), unique=True)
    arrival_date: Mapped[date | None] = mapped_column(Date)
    departure_date: Mapped[date | None] = mapped_column(Date)
    arrival_flight: Mapped[str] = mapped_column(String(100), default="")
    departure_flight: Mapped[str] = mapped_column(String(100), default="")
    lodging: Mapped[str] = mapped_column(String(300), default="")
    is_pickup_needed: Mapped[bool] = mapped_column(default=False)
    is_interpreter_needed: Mapped[bool] = mapped_column(default=False)
    #: an ISO 639 code (any language Babel knows, not only the portal's seven)
    interpreter_language: Mapped[str | None] = mapped_column(String(12))
    special_needs: Mapped[str] = mapped_column(Text, default="")
    # the patient's passport, as printed in it
    passport_name: Mapped[str] = mapped_column(String(200), default="")
    #: encrypted in the database (AES-GCM, ``CRM_ENCRYPTION_KEY``); shown masked but to the case's coordinators
    passport_number: Mapped[str] = mapped_column(EncryptedText("travel_plans.passport_number"), default="")
    passport_country: Mapped[str | None] = mapped_column(String(2))
    passport_expires_on: Mapped[date | None] = mapped_column(Date)
    #: when the patient last confirmed the plan in the portal, and the fields they corrected
    patient_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    patient_corrected: Mapped[list] = mapped_column(JSON, default=list)
    visa_letter_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    visa_letter_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    inquiry: Mapped["Inquiry"] = relationship()  # noqa: F821
    visa_letter: Mapped["Document | None"] = relationship()  # noqa: F821
    companions: Mapped[list["Companion"]] = relationship(
        back_populates="plan", order_by="Companion.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    def bump_version(self) -> None:
        self.version = (self.version or 0) + 1


class Companion(db.Model):
    """Someone travelling with the patient, with their passport."""

    __tablename__ = "travel_companions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("travel_plans.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    relationship_to_patient: Mapped[str] = mapped_column(String(12))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    #: encrypted in the database, as the patient's
    passport_number: Mapped[str] = mapped_column(EncryptedText("travel_companions.passport_number"), default="")
    passport_country: Mapped[str | None] = mapped_column(String(2))
    passport_expires_on: Mapped[date | None] = mapped_column(Date)

    plan: Mapped[TravelPlan] = relationship(back_populates="companions")
