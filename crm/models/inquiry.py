"""Inquiries: one request for care, its stage history and its notes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

SERVICES = ("second_opinion_in_person", "second_opinion_online", "treatment", "surgery",
            "clinical_trial")
SOURCES = ("email", "web_form", "referral", "phone", "api")
REFERENCE_PREFIX = "ITN-"
_LIST_COLUMNS = ("center_id", "coordinator_id", "stage", "patient_id")


class Inquiry(db.Model):
    """A patient's request for care, carried through the pipeline's stages."""

    __tablename__ = "inquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    service: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(24), default="new")
    outcome: Mapped[str | None] = mapped_column(String(24))
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    referring_name: Mapped[str | None] = mapped_column(String(120))
    referring_email: Mapped[str | None] = mapped_column(String(254))
    referring_institution: Mapped[str | None] = mapped_column(String(200))
    referring_country: Mapped[str | None] = mapped_column(String(2))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Since when the case waits on the patient (records or a form asked for); the coordinator's
    #: clocks pause meanwhile.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A clinical trial the patient asks about (any service may ask; ``clinical_trial`` always
    #: does): when the interest was recorded, the trial's name as given, its registry id.
    trial_interest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trial_name: Mapped[str | None] = mapped_column(String(300))
    trial_registry_id: Mapped[str | None] = mapped_column(String(32))
    #: Optimistic lock: forms and the API carry the version they were read at.
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped["Patient"] = relationship(back_populates="inquiries")  # noqa: F821
    center: Mapped["Center | None"] = relationship()  # noqa: F821
    coordinator: Mapped["User | None"] = relationship()  # noqa: F821
    stage_changes: Mapped[list["StageChange"]] = relationship(
        back_populates="inquiry", order_by="StageChange.id", cascade="all, delete-orphan")
    notes: Mapped[list["Note"]] = relationship(
        back_populates="inquiry", order_by="Note.id", cascade="all, delete-orphan")
    #: Its follow-up tasks, loaded once; a task made for it joins the list at once, so the rules
    #: read a case's tasks without writing it first.
    tasks: Mapped[list["Task"]] = relationship(back_populates="inquiry")  # noqa: F821

    #: The version counts meaningful changes (stage, fields), not notes or views: the ORM
    #: checks it on every UPDATE, the services bump it with ``bump_version``.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (
        Index("ix_inquiries_stage_entered", "stage", "stage_entered_at", "id", "center_id",
              "coordinator_id", "patient_id", "updated_at", "created_at"),
        Index("ix_inquiries_center_stage", "center_id", "stage", "stage_entered_at"),
        Index("ix_inquiries_coordinator_stage", "coordinator_id", "stage"),
        # Covering indexes, one per sort order: a page of the list, its count and the scope
        # check are answered from the index without touching the table.
        Index("ix_inquiries_updated", "updated_at", "id", *_LIST_COLUMNS),
        Index("ix_inquiries_created", "created_at", "id", *_LIST_COLUMNS),
        Index("ix_inquiries_waiting", "stage_entered_at", "id", *_LIST_COLUMNS),
    )

    @property
    def reference(self) -> str:
        return f"{REFERENCE_PREFIX}{self.id:06d}"

    def bump_version(self) -> None:
        self.version = (self.version or 0) + 1

    @property
    def is_closed(self) -> bool:
        return self.stage == "closed"

    @property
    def wants_trial(self) -> bool:
        """The patient asks about a clinical trial (the service, or interest recorded)."""
        return self.service == "clinical_trial" or self.trial_interest_at is not None

    def __repr__(self) -> str:
        return f"<Inquiry {self.id} {self.stage}>"


class StageChange(db.Model):
    """One move of an inquiry through the pipeline: who, from, to, when, why."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_stage: Mapped[str | None] = mapped_column(String(24))
    to_stage: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inquiry: Mapped[Inquiry] = relationship(back_populates="stage_changes")
    actor: Mapped["User | None"] = relationship()  # noqa: F821


class Note(db.Model):
    """An internal note on an inquiry, never shown to the patient."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inquiry: Mapped[Inquiry] = relationship(back_populates="notes")
    author: Mapped["User | None"] = relationship()  # noqa: F821


class RoutingDecision(db.Model):
    """Where an inquiry was sent and to whom, by a rule (with its reasons) or by a person."""

    __tablename__ = "routing_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    #: ``auto`` (routed by the rules), ``triage`` (rules unsure: suggestion only), ``manual``,
    #: ``reassigned`` (coordinator away)
    kind: Mapped[str] = mapped_column(String(16))
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: [{"kind": "keyword"|"service"|"age"|"language"|"load"|"chosen", "value": ..., "center": key}]
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inquiry: Mapped[Inquiry] = relationship()
    center: Mapped["Center | None"] = relationship()  # noqa: F821
    coordinator: Mapped["User | None"] = relationship(foreign_keys=[coordinator_id])  # noqa: F821
    actor: Mapped["User | None"] = relationship(foreign_keys=[actor_id])  # noqa: F821


#: A reviewing physician's decisions.
ACCEPT, DECLINE, MORE_RECORDS = "accept", "decline", "more_records"
REVIEW_DECISIONS = (ACCEPT, DECLINE, MORE_RECORDS)


class ClinicalReview(db.Model):
    """One round of the center's clinical review: the reviewing physician (a staff user or a
    physician named by hand) and, once given, the decision with its reason or the records asked."""

    __tablename__ = "clinical_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: A physician without an account, by name (e.g. "Dr. Ana Ruiz, Cardiology").
    reviewer_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: None while the review is pending; one of ``REVIEW_DECISIONS``
    decision: Mapped[str | None] = mapped_column(String(16))
    #: Why the case was declined, or what the physician wants to see (free text).
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The records asked for (``RECORD_ITEMS`` keys) when the decision is ``more_records``.
    requested_items: Mapped[list] = mapped_column(JSON, default=list)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    inquiry: Mapped[Inquiry] = relationship()
    reviewer: Mapped["User | None"] = relationship(foreign_keys=[reviewer_id])  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])  # noqa: F821

    @property
    def reviewer_label(self) -> str:
        """Who reviews: the user's name or the physician's name as typed."""
        return self.reviewer.name if self.reviewer is not None else (self.reviewer_name or "")
