"""Financial clearance of a case: who pays (insurance, a sponsor's guarantee, the patient), and
the self-pay ledger of estimates, deposits, top-ups, final charges and refunds."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

INSURANCE, SPONSOR, SELF_PAY = "insurance", "sponsor", "self_pay"
PAYER_TYPES = (INSURANCE, SPONSOR, SELF_PAY)
PRECERT_STATUSES = ("not_requested", "requested", "approved", "denied")
SPONSOR_KINDS = ("embassy", "ministry", "employer")
#: The self-pay ledger: money received (``payment``), returned (``refund``), care added after
#: the estimate (``top_up``: more to deposit) and the final bill (``final_charges``).
PAYMENT, REFUND, TOP_UP, FINAL_CHARGES = "payment", "refund", "top_up", "final_charges"
ENTRY_KINDS = (PAYMENT, REFUND, TOP_UP, FINAL_CHARGES)


class FinancialClearance(db.Model):
    """Who pays for a case and whether it is cleared to be scheduled. Amounts of the hospital's
    billing currency (USD) are integer cents; the sponsor's guarantee keeps its own currency."""

    __tablename__ = "financial_clearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), unique=True)
    payer_type: Mapped[str] = mapped_column(String(12))
    # insurance
    insurer: Mapped[str | None] = mapped_column(String(200))
    plan_name: Mapped[str | None] = mapped_column(String(200))
    #: None: not known yet
    is_precert_required: Mapped[bool | None] = mapped_column()
    precert_status: Mapped[str] = mapped_column(String(16), default="not_requested")
    precert_reference: Mapped[str | None] = mapped_column(String(100))
    # a sponsor's guarantee letter
    sponsor_kind: Mapped[str | None] = mapped_column(String(12))
    sponsor_name: Mapped[str | None] = mapped_column(String(200))
    guarantee_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    #: in the minor unit of ``guarantee_currency``
    guarantee_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    guarantee_currency: Mapped[str | None] = mapped_column(String(3))
    guarantee_valid_from: Mapped[date | None] = mapped_column(Date)
    guarantee_valid_until: Mapped[date | None] = mapped_column(Date)
    # self-pay, in cents of the billing currency
    estimate_minor: Mapped[int | None] = mapped_column(BigInteger)
    deposit_minor: Mapped[int | None] = mapped_column(BigInteger)
    #: the currency the estimate is also shown in (ISO 4217); None: the one of the patient's country
    patient_currency: Mapped[str | None] = mapped_column(String(3))
    is_assistance_requested: Mapped[bool] = mapped_column(default=False)
    assistance_note: Mapped[str] = mapped_column(Text, default="")
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    inquiry: Mapped["Inquiry"] = relationship()  # noqa: F821
    guarantee_document: Mapped["Document | None"] = relationship()  # noqa: F821
    cleared_by: Mapped["User | None"] = relationship()  # noqa: F821
    entries: Mapped[list["FinanceEntry"]] = relationship(
        back_populates="clearance", order_by="FinanceEntry.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    def bump_version(self) -> None:
        self.version = (self.version or 0) + 1

    @property
    def is_cleared(self) -> bool:
        return self.cleared_at is not None


class FinanceEntry(db.Model):
    """One line of the self-pay ledger, in cents of the billing currency, always positive."""

    __tablename__ = "finance_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    clearance_id: Mapped[int] = mapped_column(ForeignKey("financial_clearances.id", ondelete="CASCADE"),
                                              index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(300), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clearance: Mapped[FinancialClearance] = relationship(back_populates="entries")
    actor: Mapped["User | None"] = relationship()  # noqa: F821
