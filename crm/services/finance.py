"""Financial clearance, by payer type: insurance (precertification), a sponsor's guarantee
letter, or self-pay (an estimate in USD and the patient's currency, a deposit due a number of
business days before the visit, top-ups, the final reconciliation and any refund). A case
leaves ``financial_clearance`` only once cleared (``pipeline.GATES``)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from babel.numbers import get_currency_name
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..i18n import force_locale
from ..models import FinanceEntry, FinancialClearance, Inquiry, User
from ..models.appointment import Appointment
from ..models.base import utcnow
from ..models.finance import (ENTRY_KINDS, FINAL_CHARGES, INSURANCE, PAYER_TYPES, PAYMENT, PRECERT_STATUSES,
                              REFUND, SELF_PAY, SPONSOR, SPONSOR_KINDS, TOP_UP)
from . import audit, conversation, followups, money, outbox
from .care_fields import clean_date, clean_flag
from .errors import DomainError, StaleVersion, ValidationError, flush_or_conflict
from .formatting import local_time
from .uploads import StoredFile
from .validation import clean_choice, clean_text

GUARANTEE_LETTER = "guarantee_letter"
NOTE_MAX = 300


class NotCleared(DomainError):
    """The case is not financially cleared: it stays in ``financial_clearance`` (409)."""

    code = "not_cleared"
    status = 409
    default_message = _l("The case is not financially cleared yet: record who pays, then mark it "
                         "cleared.")


def clearance_of(inquiry: Inquiry) -> FinancialClearance | None:
    """The case's clearance with its ledger and guarantee letter, or None before any is recorded."""
    return db.session.scalar(select(FinancialClearance).where(FinancialClearance.inquiry_id == inquiry.id)
                             .options(selectinload(FinancialClearance.entries),
                                      selectinload(FinancialClearance.guarantee_document)))


def financially_cleared(inquiry: Inquiry, facts) -> DomainError | None:
    """The gate out of ``financial_clearance``: the case is cleared (``pipeline.GATES``)."""
    clearance = facts.once("clearance", lambda: clearance_of(inquiry))
    return None if clearance is not None and clearance.is_cleared else NotCleared()


# --- recording who pays -------------------------------------------------------------------------

def save(inquiry: Inquiry, data: Mapping, *, actor: User, expected_version=None,
         guarantee: StoredFile | None = None) -> FinancialClearance:
    """Record or change who pays and the figures (every field checked before anything is
    written). A clearance whose conditions no longer hold is no longer cleared. Flushes.

    :param data: ``payer_type`` and the fields of that payer type (see ``_clean``).
    :param expected_version: the clearance's ``version`` the form was read at.
    :param guarantee: the sponsor's guarantee letter, stored already (it is filed on the case).
    """
    clearance = clearance_of(inquiry)
    if clearance is not None and expected_version not in (None, ""):
        try:
            stale = int(expected_version) != clearance.version
        except (TypeError, ValueError):
            stale = True
        if stale:
            raise StaleVersion()
    values = _clean(data, inquiry)
    now = utcnow()
    if clearance is None:
        clearance = FinancialClearance(inquiry=inquiry, payer_type=values["payer_type"], created_at=now,
                                       version=1)
        db.session.add(clearance)
    else:
        clearance.bump_version()
    for key, value in values.items():
        setattr(clearance, key, value)
    if guarantee is not None:
        document = conversation.add_document(inquiry, guarantee, source="staff", at=now)
        document.kind = GUARANTEE_LETTER
        clearance.guarantee_document = document
    clearance.updated_at = now
    if clearance.is_cleared and missing(clearance, inquiry):
        clearance.cleared_at, clearance.cleared_by_id = None, None
    inquiry.updated_at = now
    flush_or_conflict(db.session)
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"finance={clearance.payer_type}")
    return clearance


def _clean(data: Mapping, inquiry: Inquiry) -> dict:
    """The fields of the payer type chosen; the others are emptied (one payer at a time)."""
    errors: dict = {}
    payer = clean_choice(data.get("payer_type"), "payer_type", errors, PAYER_TYPES, required=True)
    values: dict = {"payer_type": payer, "insurer": None, "plan_name": None, "is_precert_required": None,
                    "precert_status": "not_requested", "precert_reference": None, "sponsor_kind": None,
                    "sponsor_name": None, "guarantee_amount_minor": None, "guarantee_currency": None,
                    "guarantee_valid_from": None, "guarantee_valid_until": None, "estimate_minor": None,
                    "deposit_minor": None}
    billing = money.billing_currency()
    if payer == INSURANCE:
        values["insurer"] = clean_text(data.get("insurer"), "insurer", errors, max_len=200, required=True)
        values["plan_name"] = clean_text(data.get("plan_name"), "plan_name", errors, max_len=200)
        required = data.get("precert_required")
        values["is_precert_required"] = None if required in (None, "", "unknown") else clean_flag(required)
        values["precert_status"] = clean_choice(data.get("precert_status") or "not_requested",
                                                "precert_status", errors, PRECERT_STATUSES) or "not_requested"
        values["precert_reference"] = clean_text(data.get("precert_reference"), "precert_reference", errors,
                                                 max_len=100)
    elif payer == SPONSOR:
        values["sponsor_kind"] = clean_choice(data.get("sponsor_kind"), "sponsor_kind", errors, SPONSOR_KINDS,
                                              required=True)
        values["sponsor_name"] = clean_text(data.get("sponsor_name"), "sponsor_name", errors, max_len=200,
                                            required=True)
        currency = money.clean_currency(data.get("guarantee_currency") or billing, "guarantee_currency", errors)
        values["guarantee_currency"] = currency
        if currency:
            values["guarantee_amount_minor"] = money.parse_amount(data.get("guarantee_amount"), currency,
                                                                  "guarantee_amount", errors)
        start = clean_date(data.get("guarantee_valid_from"), "guarantee_valid_from", errors)
        until = clean_date(data.get("guarantee_valid_until"), "guarantee_valid_until", errors)
        if start and until and until < start:
            errors["guarantee_valid_until"] = _l("The letter cannot end before it begins: check the dates.")
        values["guarantee_valid_from"], values["guarantee_valid_until"] = start, until
    elif payer == SELF_PAY:
        values["estimate_minor"] = money.parse_amount(data.get("estimate"), billing, "estimate", errors)
        values["deposit_minor"] = money.parse_amount(data.get("deposit"), billing, "deposit", errors)
        if values["estimate_minor"] and values["deposit_minor"] and values["deposit_minor"] > values["estimate_minor"]:
            errors["deposit"] = _l("The deposit cannot be more than the estimate.")
    currency = money.clean_currency(data.get("patient_currency"), "patient_currency", errors)
    if currency and "patient_currency" not in errors and not money.has_rate(currency):
        errors["patient_currency"] = _l("There is no exchange rate for %(code)s in the table of %(date)s: "
                                        "choose another currency, or ask an administrator to add it.",
                                        code=currency, date=money.rate_table().as_of.isoformat())
    values["patient_currency"] = currency
    values["is_assistance_requested"] = clean_flag(data.get("assistance_requested"))
    values["assistance_note"] = clean_text(data.get("assistance_note"), "assistance_note", errors,
                                           max_len=2000) or ""
    if errors:
        raise ValidationError(fields=errors)
    return values


# --- the self-pay ledger ------------------------------------------------------------------------

def add_entry(inquiry: Inquiry, kind: str, amount, *, actor: User, note: str = "") -> FinanceEntry:
    """A line of the self-pay ledger: a payment received, a top-up for care added, the final
    charges, a refund. A refund cannot exceed what was paid. Flushes."""
    clearance = clearance_of(inquiry)
    errors: dict = {}
    if clearance is None or clearance.payer_type != SELF_PAY:
        raise ValidationError("kind", _l("Record the patient as paying themselves first."))
    kind = clean_choice(kind, "kind", errors, ENTRY_KINDS, required=True)
    minor = money.parse_amount(amount, money.billing_currency(), "amount", errors, required=True)
    note = clean_text(note, "entry_note", errors, max_len=NOTE_MAX) or ""
    if not errors and kind == REFUND and minor > ledger(clearance).paid:
        errors["amount"] = _l("A refund cannot be more than what the patient has paid (%(paid)s).",
                              paid=money.format_money(ledger(clearance).paid, money.billing_currency()))
    if errors:
        raise ValidationError(fields=errors)
    now = utcnow()
    entry = FinanceEntry(clearance=clearance, kind=kind, amount_minor=minor, note=note, actor_id=actor.id,
                         created_at=now)
    db.session.add(entry)
    clearance.updated_at = inquiry.updated_at = now
    db.session.flush()
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"finance_entry={kind}")
    return entry


@dataclass(frozen=True)
class Ledger:
    """The self-pay figures, in minor units of the billing currency."""

    estimate: int        # the estimate with every top-up
    deposit_due: int     # the deposit asked for, with every top-up
    paid: int            # received less refunded
    outstanding: int     # still to deposit before the visit (0 when paid up)
    final_charges: int | None  # the final bill, once reconciled
    balance: int | None  # paid less the final bill: above 0 a refund is due, below 0 a balance


def ledger(clearance: FinancialClearance) -> Ledger:
    totals = dict.fromkeys(ENTRY_KINDS, 0)
    finals = []
    for entry in clearance.entries:
        totals[entry.kind] += entry.amount_minor
        if entry.kind == FINAL_CHARGES:
            finals.append(entry.amount_minor)
    top_ups = totals[TOP_UP]
    deposit = (clearance.deposit_minor or 0) + top_ups
    paid = totals[PAYMENT] - totals[REFUND]
    final = finals[-1] if finals else None  # a corrected final bill replaces the earlier one
    return Ledger(estimate=(clearance.estimate_minor or 0) + top_ups, deposit_due=deposit, paid=paid,
                  outstanding=max(0, deposit - paid), final_charges=final,
                  balance=None if final is None else paid - final)


# --- clearing -----------------------------------------------------------------------------------

def missing(clearance: FinancialClearance, inquiry: Inquiry, visit: Appointment | None = None) -> list[str]:
    """What still stands between the case and its clearance, in words (empty: it can be cleared)."""
    reasons = []
    if clearance.payer_type == INSURANCE:
        if not clearance.insurer:
            reasons.append(_l("Name the insurer."))
        if clearance.is_precert_required is None:
            reasons.append(_l("Find out whether the insurer requires precertification."))
        elif clearance.is_precert_required:
            if clearance.precert_status != "approved":
                reasons.append(_l("The precertification is not approved yet."))
            if not clearance.precert_reference:
                reasons.append(_l("Record the precertification's reference."))
    elif clearance.payer_type == SPONSOR:
        if clearance.guarantee_document_id is None:
            reasons.append(_l("Attach the sponsor's guarantee letter."))
        if not clearance.guarantee_amount_minor:
            reasons.append(_l("Record the amount the letter guarantees."))
        if clearance.guarantee_valid_until is None:
            reasons.append(_l("Record until when the letter is valid."))
        else:
            needed_until = visit.starts_at.astimezone(_zone()).date() if visit else _today()
            if clearance.guarantee_valid_until < needed_until:
                reasons.append(_l("The guarantee letter expires before the visit: ask the sponsor for a new one."))
    elif clearance.payer_type == SELF_PAY:
        figures = ledger(clearance)
        if not clearance.estimate_minor:
            reasons.append(_l("Give the patient an estimate."))
        if not clearance.deposit_minor:
            reasons.append(_l("Set the deposit."))
        elif figures.outstanding:
            reasons.append(_l("The deposit is not paid in full: %(amount)s still to come.",
                              amount=money.format_money(figures.outstanding, money.billing_currency())))
    return [str(r) for r in reasons]


def clear(inquiry: Inquiry, *, actor: User, visit: Appointment | None = None) -> FinancialClearance:
    """Mark the case financially cleared, when nothing is missing. Flushes."""
    clearance = clearance_of(inquiry)
    if clearance is None:
        raise ValidationError("payer_type", NotCleared.default_message)
    reasons = missing(clearance, inquiry, visit)
    if reasons:
        raise ValidationError("clear", " ".join(reasons))
    now = utcnow()
    clearance.cleared_at, clearance.cleared_by_id = now, actor.id
    clearance.updated_at = inquiry.updated_at = now
    db.session.flush()
    audit.record("change", actor=actor, inquiry=inquiry, detail="finance=cleared")
    return clearance


# --- the deposit's deadline ---------------------------------------------------------------------

def _zone():
    return followups.calendar().zone


def _today() -> date:
    return utcnow().astimezone(_zone()).date()


def business_days_before(day: date, days: int) -> date:
    """The business day ``days`` business days before ``day`` (``day`` itself not counted)."""
    calendar = followups.calendar()
    found = 0
    while found < days:
        day -= timedelta(days=1)
        if calendar.is_business_day(day):
            found += 1
    return day


def deposit_deadline(visit: Appointment | None) -> datetime | None:
    """When the deposit is due: the close of business, ``DEPOSIT_DUE_BUSINESS_DAYS`` business
    days before the first visit (None until one is booked)."""
    if visit is None:
        return None
    calendar = followups.calendar()
    day = business_days_before(visit.starts_at.astimezone(calendar.zone).date(),
                               int(current_app.config["DEPOSIT_DUE_BUSINESS_DAYS"]))
    closes = calendar.hours[day.weekday()][1]
    return datetime.combine(day, closes, tzinfo=calendar.zone)


# --- what the screens show ----------------------------------------------------------------------

def summary(clearance: FinancialClearance | None, inquiry: Inquiry, visit: Appointment | None) -> dict:
    """Ready data for the case page and the portal, formatted in the current locale."""
    if clearance is None:
        return {"clearance": None}
    billing = money.billing_currency()
    currency = patient_currency(clearance, inquiry)
    shown = currency if currency and currency != billing else None

    def both(minor):
        """(in the billing currency, in the patient's or None)"""
        if minor is None:
            return None
        return (money.format_money(minor, billing),
                money.format_money(money.convert(minor, shown), shown) if shown else None)

    figures = ledger(clearance)
    data = {"clearance": clearance, "missing": missing(clearance, inquiry, visit),
            "patient_currency": shown, "rates_date": money.rate_table().as_of, "ledger": figures,
            "entries": [(e, money.format_money(e.amount_minor, billing)) for e in reversed(clearance.entries)]}
    if clearance.payer_type == SELF_PAY:
        deadline = deposit_deadline(visit)
        data.update(estimate=both(figures.estimate), deposit=both(figures.deposit_due), paid=both(figures.paid),
                    outstanding=both(figures.outstanding), deadline=deadline,
                    is_overdue=bool(deadline and figures.outstanding and utcnow() > deadline),
                    final_charges=both(figures.final_charges),
                    refund_due=both(figures.balance) if figures.balance and figures.balance > 0 else None,
                    balance_due=both(-figures.balance) if figures.balance and figures.balance < 0 else None)
    elif clearance.payer_type == SPONSOR and clearance.guarantee_currency:
        data["guarantee"] = money.format_money(clearance.guarantee_amount_minor, clearance.guarantee_currency)
    return data


def patient_currency(clearance: FinancialClearance | None, inquiry: Inquiry) -> str | None:
    """The currency the patient sees beside the billing one: chosen, else their country's (when
    the rate table has it)."""
    if clearance is not None and clearance.patient_currency:
        return clearance.patient_currency
    found = money.currency_of_country(inquiry.patient.country)
    return found if found and money.has_rate(found) else None


def send_estimate(inquiry: Inquiry, *, actor: User, visit: Appointment | None = None):
    """Mail the self-pay estimate and the deposit with its deadline, in the patient's language
    and currency. Flushes."""
    clearance = clearance_of(inquiry)
    if clearance is None or clearance.payer_type != SELF_PAY or not clearance.estimate_minor:
        raise ValidationError("estimate", _l("Record the estimate before sending it."))
    conversation.check_reachable(inquiry)
    with force_locale(inquiry.patient.preferred_language):
        data = summary(clearance, inquiry, visit)
        deadline = data["deadline"]
        context = {"estimate": data["estimate"], "deposit": data["deposit"], "outstanding": data["outstanding"],
                   "deadline": local_time(deadline, "medium", zone=inquiry.patient.timezone) if deadline else None,
                   "rates_date": format_date(data["rates_date"], "long") if data["patient_currency"] else None,
                   "assistance": clearance.is_assistance_requested,
                   "billing_name": get_currency_name(money.billing_currency(), locale=get_locale())}
    row = outbox.queue_patient_mail(inquiry, "estimate", actor=actor, **context)
    conversation.mail_sent(inquiry, row, actor=actor, kind="estimate")
    return row
