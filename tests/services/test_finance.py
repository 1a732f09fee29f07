"""Financial clearance: the payer types, money in minor units through Babel, unknown currencies,
the deposit's deadline in business days before the visit, the ledger, and the gate out of
``financial_clearance``."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_currency
from flask_babel import force_locale

from crm.models import FinancialClearance
from crm.models.base import utcnow
from crm.services import appointments, finance, money, pipeline
from crm.services.errors import ValidationError

BOSTON = ZoneInfo("America/New_York")


def test_money_is_read_and_shown_in_the_readers_locale_in_minor_units(app):
    with app.test_request_context(), force_locale("pt_BR"):
        errors = {}
        assert money.parse_amount("1.234,50", "USD", "a", errors) == 123450 and errors == {}
        assert money.format_money(123450, "USD") == format_currency(1234.5, "USD", locale="pt_BR")
        assert money.convert(123450, "BRL") == 716010  # 1234.50 × 5.80, in centavos
    with app.test_request_context(), force_locale("zh_Hans"):
        assert money.format_money(money.convert(100, "JPY"), "JPY") == format_currency(150, "JPY", locale="zh_Hans")


@pytest.mark.parametrize("value, message", [("12.345", "at most 2 decimals"), ("-5", "more than zero"),
                                            ("lots", "Enter an amount"), (1.5, "Enter an amount")])
def test_amounts_that_are_not_money_are_refused(app, value, message):
    with app.test_request_context():
        errors = {}
        assert money.parse_amount(value, "USD", "amount", errors) is None
        assert message in str(errors["amount"])


def test_an_unknown_currency_is_refused_by_name(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    with pytest.raises(ValidationError) as refused:
        finance.save(inquiry, {"payer_type": "sponsor", "sponsor_kind": "embassy", "sponsor_name": "Embassy",
                               "guarantee_amount": "50000", "guarantee_currency": "ABC"}, actor=coordinator)
    assert "“ABC” is not a currency code we know" in str(refused.value.fields["guarantee_currency"])
    with pytest.raises(ValidationError) as unknown:
        finance.save(inquiry, {"payer_type": "self_pay", "estimate": "1000", "deposit": "500",
                               "patient_currency": "ZZZ"}, actor=coordinator)
    assert "patient_currency" in unknown.value.fields
    assert finance.clearance_of(inquiry) is None  # nothing saved half


def test_sponsor_dates_out_of_order_are_refused(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    with pytest.raises(ValidationError) as refused:
        finance.save(inquiry, {"payer_type": "sponsor", "sponsor_kind": "ministry", "sponsor_name": "MoH",
                               "guarantee_amount": "1000", "guarantee_valid_from": "2030-05-01",
                               "guarantee_valid_until": "2030-04-01"}, actor=coordinator)
    assert "cannot end before it begins" in str(refused.value.fields["guarantee_valid_until"])
    assert db.session.query(FinancialClearance).filter_by(inquiry_id=inquiry.id).count() == 0


def test_insurance_needs_an_approved_precertification_when_required(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    finance.save(inquiry, {"payer_type": "insurance", "insurer": "Bupa", "precert_required": "yes",
                           "precert_status": "requested"}, actor=coordinator)
    with pytest.raises(ValidationError) as refused:
        finance.clear(inquiry, actor=coordinator)
    assert "not approved yet" in refused.value.fields["clear"]
    clearance = finance.save(inquiry, {"payer_type": "insurance", "insurer": "Bupa", "precert_required": "yes",
                                       "precert_status": "approved", "precert_reference": "PA-77"}, actor=coordinator)
    finance.clear(inquiry, actor=coordinator)
    assert clearance.is_cleared
    # the approval withdrawn: no longer cleared
    finance.save(inquiry, {"payer_type": "insurance", "insurer": "Bupa", "precert_required": "yes",
                           "precert_status": "denied", "precert_reference": "PA-77"}, actor=coordinator)
    assert not clearance.is_cleared


def test_the_case_leaves_financial_clearance_only_once_cleared(factory, db):
    coordinator = factory.user()
    inquiry = factory.walk(factory.inquiry(), "financial_clearance", coordinator)
    with pytest.raises(finance.NotCleared) as refused:
        pipeline.transition_inquiry(inquiry, "scheduling", actor=coordinator, expected_version=inquiry.version)
    assert refused.value.status == 409 and inquiry.stage == "financial_clearance"
    # moving back is never held
    assert pipeline.gate_error(inquiry, "clinical_review") is None
    factory.clear_finance(inquiry, coordinator)
    pipeline.transition_inquiry(inquiry, "scheduling", actor=coordinator, expected_version=inquiry.version)
    assert inquiry.stage == "scheduling"


def test_self_pay_deposit_is_due_business_days_before_the_visit_and_the_ledger_reconciles(factory, db, app):
    coordinator = factory.user()
    inquiry = factory.inquiry(country="BR", preferred_language="pt-BR", timezone="America/Sao_Paulo")
    finance.save(inquiry, {"payer_type": "self_pay", "estimate": "20000", "deposit": "10000",
                           "assistance_requested": True, "assistance_note": "Asks for a payment plan"},
                 actor=coordinator)
    # a Monday visit: five business days back is the Monday before (a week of Mon–Fri)
    visit_at = datetime(2031, 3, 17, 10, 0, tzinfo=BOSTON)
    visit = appointments.book(inquiry, actor=coordinator, when=visit_at, location="Heart Center", confirm=False)
    deadline = finance.deposit_deadline(visit)
    assert deadline == datetime(2031, 3, 10, 18, 0, tzinfo=BOSTON)  # Monday's close of business
    with pytest.raises(ValidationError) as unpaid:
        finance.clear(inquiry, actor=coordinator, visit=visit)
    assert "not paid in full" in unpaid.value.fields["clear"]
    finance.add_entry(inquiry, "payment", "10000", actor=coordinator)
    finance.add_entry(inquiry, "top_up", "2500", note="MRI added", actor=coordinator)
    clearance = finance.clearance_of(inquiry)
    assert finance.ledger(clearance).outstanding == 250000  # the top-up is to deposit too
    finance.add_entry(inquiry, "payment", "2500", actor=coordinator)
    finance.clear(inquiry, actor=coordinator, visit=visit)
    finance.add_entry(inquiry, "final_charges", "11000", actor=coordinator)
    figures = finance.ledger(clearance)
    assert figures.balance == 150000  # 12,500 paid, 11,000 billed: 1,500 to refund
    with pytest.raises(ValidationError):
        finance.add_entry(inquiry, "refund", "99999", actor=coordinator)  # more than was paid
    finance.add_entry(inquiry, "refund", "1500", actor=coordinator)
    assert finance.ledger(clearance).balance == 0
    with app.test_request_context(), force_locale("pt_BR"):
        summary = finance.summary(clearance, inquiry, visit)
        assert summary["patient_currency"] == "BRL"
        assert summary["estimate"] == (format_currency(22500, "USD", locale="pt_BR"),
                                       format_currency(130500, "BRL", locale="pt_BR"))


def test_the_estimate_is_mailed_in_the_patients_language_and_currency(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry(country="CN", preferred_language="zh-Hans", timezone="Asia/Shanghai")
    finance.save(inquiry, {"payer_type": "self_pay", "estimate": "10000", "deposit": "4000"}, actor=coordinator)
    visit = appointments.book(inquiry, actor=coordinator, when=utcnow() + timedelta(days=30), location="Clinic",
                              confirm=False)
    row = finance.send_estimate(inquiry, actor=coordinator, visit=visit)
    assert row.language == "zh-Hans"
    assert format_currency(10000, "USD", locale="zh_Hans") in row.body_text
    assert format_currency(72500, "CNY", locale="zh_Hans") in row.body_text
    assert row.body_text.startswith("尊敬的 Layla")  # the patient's language's frame


@pytest.mark.parametrize("setting, value", [("EXCHANGE_RATES", {"date": "2026-01-01", "rates": {"EUR": "-1"}}),
                                            ("EXCHANGE_RATES", {"date": "soon", "rates": {}}),
                                            ("BILLING_CURRENCY", "dollars")])
def test_a_bad_money_setting_stops_the_app_naming_it(setting, value):
    from crm import ConfigError, create_app
    with pytest.raises(ConfigError, match=f"CRM_{setting}"):
        create_app("testing", **{setting: value})
