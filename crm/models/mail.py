"""The conversation with the patient: mail received, mail to send, the thread, documents,
the records checklist and the portal links."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from ..services.crypto import EncryptedBytes
from .base import UTCDateTime, utcnow

#: What ingestion did with a received message.
CREATED, THREADED, DUPLICATE, IGNORED, REJECTED = "created", "threaded", "duplicate", "ignored", "rejected"
INBOUND_OUTCOMES = (CREATED, THREADED, DUPLICATE, IGNORED, REJECTED)
#: Outbox states.
QUEUED, SENT, FAILED = "queued", "sent", "failed"


class InboundMail(db.Model):
    """Every message received, kept whole, with what ingestion made of it. Those it could not
    read (``rejected``) are the quarantine an admin sees."""

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The Message-ID, or a digest of the raw bytes when there is none: one row per message.
    message_key: Mapped[str] = mapped_column(String(255), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``file``, ``imap`` or ``api``
    source: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(500), default="")
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id", ondelete="SET NULL"))
    size: Mapped[int] = mapped_column(default=0)
    #: encrypted (its attachments are patients' documents): AES-GCM, ``CRM_ENCRYPTION_KEY``
    raw: Mapped[bytes] = deferred(mapped_column(EncryptedBytes("inbound_mail.raw")))

    inquiry: Mapped["Inquiry | None"] = relationship()  # noqa: F821

    __table_args__ = (Index("ix_inbound_mail_outcome", "outcome", "received_at"),)


class OutboundMail(db.Model):
    """The outbox: a message written in the same transaction as the change that caused it,
    delivered by the scheduler with retries."""

    __tablename__ = "outbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The template: ``acknowledgement``, ``records_request``, ``reminder``, ``reply``, ``digest``…
    kind: Mapped[str] = mapped_column(String(24))
    #: Makes a job's mail idempotent: e.g. ``digest:7:2026-11-23``. Unique when set.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id", ondelete="SET NULL"),
                                                   index=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    from_addr: Mapped[str] = mapped_column(String(320))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8), default="en")
    body_text: Mapped[str] = deferred(mapped_column(Text))
    body_html: Mapped[str] = deferred(mapped_column(Text))
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inquiry: Mapped["Inquiry | None"] = relationship()  # noqa: F821
    attachments: Mapped[list["OutboundAttachment"]] = relationship(
        back_populates="mail", order_by="OutboundAttachment.id", cascade="all, delete-orphan")

    __table_args__ = (Index("ix_outbound_mail_due", "status", "next_attempt_at"),)


class OutboundAttachment(db.Model):
    """A file sent with an outgoing message (a calendar file, a letter), kept with it until it
    is delivered."""

    __tablename__ = "outbound_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("outbound_mail.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    #: encrypted, as the documents it is a copy of
    data: Mapped[bytes] = deferred(mapped_column(EncryptedBytes("outbound_attachments.data")))

    mail: Mapped[OutboundMail] = relationship(back_populates="attachments")


class Message(db.Model):
    """One entry of the thread with the patient: an email in or out, a portal reply."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    #: ``in`` (from the patient or their side) or ``out`` (from the center)
    direction: Mapped[str] = mapped_column(String(3))
    #: ``email`` or ``portal``
    channel: Mapped[str] = mapped_column(String(8))
    #: in: ``email``, ``auto_reply``, ``bounce``, ``portal_reply``, ``upload``;
    #: out: the template (``acknowledgement``, ``reply``, ``records_request``…)
    kind: Mapped[str] = mapped_column(String(24))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_addr: Mapped[str | None] = mapped_column(String(320))
    to_addr: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    #: Attachments not kept as documents (type or size): their names; they stay in the raw mail.
    refused_attachments: Mapped[list] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(8))
    #: The RFC 5322 Message-ID (theirs for mail in, ours for mail out): replies thread by it.
    message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_mail.id"))
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_mail.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inquiry: Mapped["Inquiry"] = relationship()  # noqa: F821
    author: Mapped["User | None"] = relationship()  # noqa: F821
    inbound: Mapped[InboundMail | None] = relationship()
    outbound: Mapped[OutboundMail | None] = relationship()
    documents: Mapped[list["Document"]] = relationship(back_populates="message",
                                                       order_by="Document.id")

    __table_args__ = (Index("ix_messages_inquiry", "inquiry_id", "created_at"),)


#: The records a coordinator can ask for, in the order they are listed.
RECORD_ITEMS = ("medical_summary", "imaging_reports", "imaging_files", "lab_results", "pathology",
                "medication_list", "operative_notes", "insurance_card", "passport")


class ChecklistItem(db.Model):
    """One record asked of the patient: requested, then received (with the documents that
    brought it) or waived by a coordinator with a reason."""

    __tablename__ = "checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A required record holds the case in ``records`` until it is received or waived.
    is_required: Mapped[bool] = mapped_column(default=True)
    #: Waived: the case goes on without it (the patient has none, the physician does not need it).
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    waiver_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("inquiry_id", "item"),)

    @property
    def is_received(self) -> bool:
        return self.received_at is not None

    @property
    def is_waived(self) -> bool:
        return self.waived_at is not None and self.received_at is None

    @property
    def is_outstanding(self) -> bool:
        """Still to come from the patient: neither received nor waived."""
        return self.received_at is None and self.waived_at is None


class Document(db.Model):
    """A file of the case: an email attachment or a patient's upload, stored under a random
    name outside the web root, downloadable by staff only."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    checklist_item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_items.id"))
    #: ``email``, ``portal`` or ``staff``
    source: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    #: What the center made of it: None (a record), ``guarantee_letter``, ``visa_letter``,
    #: ``opinion`` or ``addendum`` (``DOCUMENT_KINDS``)
    kind: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inquiry: Mapped["Inquiry"] = relationship()  # noqa: F821
    message: Mapped[Message | None] = relationship(back_populates="documents")
    checklist_item: Mapped[ChecklistItem | None] = relationship()


class PortalLink(db.Model):
    """A patient's way into the portal: bound to one inquiry and one patient, expiring,
    revoked when a new one is sent. The token in the email is this row's id and nonce, signed."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    inquiry: Mapped["Inquiry"] = relationship()  # noqa: F821
    patient: Mapped["Patient"] = relationship()  # noqa: F821

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now
