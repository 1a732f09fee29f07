"""The journey's later steps through the screens: who pays, appointments, the travel plan and
visa letter, the online opinion; the portal in the patient's language; bad input refused with a
clear message and nothing saved; passports masked; a fixed number of queries."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from babel.dates import format_datetime
from sqlalchemy import event, select

from crm.models import Appointment, Document, FinancialClearance, OutboundMail, TravelPlan
from crm.models.base import utcnow
from crm.services import appointments, finance, opinion, travel
from tests.conftest import AuthActions, csrf_from
from tests.web.test_portal import PDF

PORTAL_PATH = re.compile(r"/p/([A-Za-z0-9_.\-]+)")
BOSTON = ZoneInfo("America/New_York")
PLAN = {"trip-arrival_date": "2031-03-10", "trip-departure_date": "2031-03-24", "trip-lodging": "Longwood Inn",
        "trip-passport_name": "LAYLA HADDAD", "trip-passport_number": "K12345678", "trip-passport_country": "SA",
        "trip-passport_expires_on": "2033-01-01"}


@pytest.fixture
def coordinator(factory, auth):
    user = factory.user(centers=("cardiology",))
    auth.login(user)
    return user


def post(client, inquiry_id, path, data):
    page = client.get(f"/inquiries/{inquiry_id}")
    assert page.status_code == 200
    return client.post(f"/inquiries/{inquiry_id}/{path}", data={"csrf_token": csrf_from(page), **data})


def html(response) -> str:
    return response.get_data(as_text=True)


def portal_token(db, inquiry) -> str:
    db.session.expire_all()
    mail = db.session.scalars(select(OutboundMail).where(OutboundMail.inquiry_id == inquiry.id)
                              .order_by(OutboundMail.id.desc())).first()
    return PORTAL_PATH.search(mail.body_text).group(1)


# --- bad input: a clear message by its field, nothing saved, never a 500 -----------------------

def test_an_unknown_currency_is_refused_by_its_field(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    response = post(client, inquiry.id, "finance", {"fin-payer_type": "self_pay", "fin-estimate": "20000",
                                                     "fin-deposit": "5000", "fin-patient_currency": "XYZ"})
    assert response.status_code == 422
    assert "“XYZ” is not a currency code we know" in html(response)
    assert 'id="fin-patient_currency-error"' in html(response)
    assert db.session.scalars(select(FinancialClearance).where(FinancialClearance.inquiry_id == inquiry.id)).all() == []


def test_an_appointment_in_the_past_is_refused(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    yesterday = (utcnow() - timedelta(days=1)).astimezone(BOSTON)
    response = post(client, inquiry.id, "appointment", {"date": yesterday.date().isoformat(), "time": "09:30",
                                                         "location": "Heart Center", "center": "cardiology",
                                                         "duration": "60"})
    assert response.status_code == 422 and "This time is in the past" in html(response)
    assert db.session.scalars(select(Appointment).where(Appointment.inquiry_id == inquiry.id)).all() == []


def test_a_departure_before_the_arrival_is_refused(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    response = post(client, inquiry.id, "travel-plan", {**PLAN, "trip-departure_date": "2031-03-01"})
    assert response.status_code == 422
    assert "The departure cannot be before the arrival" in html(response)
    assert db.session.scalars(select(TravelPlan).where(TravelPlan.inquiry_id == inquiry.id)).all() == []


def test_a_visa_letter_without_passport_data_is_refused_clearly(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    response = post(client, inquiry.id, "visa-letter", {})
    assert response.status_code == 303
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    assert "Record the travel plan and the patient&#39;s passport first." in page
    assert db.session.scalars(select(Document).where(Document.inquiry_id == inquiry.id)).all() == []


def test_without_weasyprint_the_page_says_so_instead_of_failing(client, coordinator, factory, db, monkeypatch):
    import sys
    inquiry = factory.inquiry()
    assert post(client, inquiry.id, "travel-plan", PLAN).status_code == 303
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    response = post(client, inquiry.id, "visa-letter", {})
    assert response.status_code == 303
    assert "libpango-1.0-0" in html(client.get(f"/inquiries/{inquiry.id}"))


# --- passports ----------------------------------------------------------------------------------

def test_passports_are_masked_and_whole_only_for_the_cases_coordinators(client, coordinator, factory, db, app):
    inquiry = factory.inquiry()
    assert post(client, inquiry.id, "travel-plan", PLAN).status_code == 303
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    assert "K12345678" not in page and "••••••678" in page
    assert "K12345678" in html(client.get(f"/inquiries/{inquiry.id}/travel-plan/passports"))
    assert post(client, inquiry.id, "visa-letter", {}).status_code == 303
    letter = travel.plan_of(inquiry).visa_letter
    assert client.get(f"/inquiries/{inquiry.id}/documents/{letter.id}").status_code == 200

    manager = app.test_client()
    AuthActions(manager).login(factory.user(role="manager"))
    page = html(manager.get(f"/inquiries/{inquiry.id}"))
    assert "K12345678" not in page and "••••••678" in page
    assert manager.get(f"/inquiries/{inquiry.id}/travel-plan/passports").status_code == 403
    assert manager.get(f"/inquiries/{inquiry.id}/documents/{letter.id}").status_code == 404


# --- the case page's speed ------------------------------------------------------------------------

def count_queries(db, action) -> int:
    statements = []
    engine = db.session.get_bind()

    def capture(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert action().status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return len(statements)


def test_the_case_page_makes_as_many_queries_with_many_appointments_companions_and_payments(
        client, coordinator, factory, db):
    inquiry = factory.inquiry()
    when = utcnow() + timedelta(days=40)

    def add_one(n):
        appointments.book(inquiry, actor=coordinator, when=when + timedelta(days=n), location=f"Room {n}")
        travel.add_companion(inquiry, {"full_name": f"Companion {n}", "relationship": "relative",
                                       "passport_number": f"P{n:07d}", "passport_country": "SA"}, actor=coordinator)
        finance.add_entry(inquiry, "payment", "100", actor=coordinator)
        db.session.commit()

    finance.save(inquiry, {"payer_type": "self_pay", "estimate": "20000", "deposit": "5000"}, actor=coordinator)
    add_one(0)
    few = count_queries(db, lambda: client.get(f"/inquiries/{inquiry.id}"))
    for n in range(1, 6):
        add_one(n)
    assert count_queries(db, lambda: client.get(f"/inquiries/{inquiry.id}")) == few


# --- walked through as a patient would ---------------------------------------------------------

def test_an_in_person_case_in_portuguese_appointment_travel_and_estimate(client, coordinator, factory, db, app):
    inquiry = factory.inquiry(preferred_language="pt-BR", timezone="America/Sao_Paulo", country="BR")
    factory.walk(inquiry, "financial_clearance", coordinator)
    # self-pay: an estimate in USD and in reais, a deposit; paid, then cleared
    assert post(client, inquiry.id, "finance", {"fin-payer_type": "self_pay", "fin-estimate": "20000",
                                                 "fin-deposit": "5000"}).status_code == 303
    refused = post(client, inquiry.id, "transition", {"to": "scheduling", "version": inquiry.version})
    assert refused.status_code == 303
    assert "not financially cleared" in html(client.get(f"/inquiries/{inquiry.id}"))
    assert post(client, inquiry.id, "finance/entries", {"ledger-kind": "payment", "ledger-amount": "5000"}
                ).status_code == 303
    assert post(client, inquiry.id, "finance/clear", {}).status_code == 303
    db.session.refresh(inquiry)
    assert post(client, inquiry.id, "transition", {"to": "scheduling", "version": inquiry.version}
                ).status_code == 303
    # an appointment, mailed in Portuguese with the patient's own time and a calendar file
    when = datetime(2031, 3, 14, 9, 30, tzinfo=BOSTON)
    assert post(client, inquiry.id, "appointment", {"date": "2031-03-14", "time": "09:30", "center": "cardiology",
                                                     "duration": "60", "location": "Heart Center",
                                                     "clinician": "Dr. Adams"}).status_code == 303
    [appointment] = appointments.appointments_of(inquiry)
    token = portal_token(db, inquiry)
    patient = app.test_client()
    portal = html(patient.get(f"/p/{token}"))
    assert format_datetime(when.astimezone(ZoneInfo("America/Sao_Paulo")), "full", locale="pt_BR") in portal
    ics = patient.get(f"/p/{token}/appointments/{appointment.id}.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert icalendar.Calendar.from_ical(ics.data).events[0].start == when
    assert patient.get(f"/p/{token}/appointments/999999.ics").status_code == 404
    # the travel plan: the patient corrects a date that cannot be, then confirms with a new flight
    assert post(client, inquiry.id, "travel-plan", PLAN).status_code == 303
    page = patient.get(f"/p/{token}")
    bad = patient.post(f"/p/{token}/travel", data={"csrf_token": csrf_from(page), "trip-arrival_date": "2031-03-10",
                                                   "trip-departure_date": "2031-03-02"})
    assert bad.status_code == 422 and 'id="trip-departure_date-error"' in html(bad)
    good = patient.post(f"/p/{token}/travel", data={"csrf_token": csrf_from(page), "trip-arrival_date": "2031-03-10",
                                                    "trip-departure_date": "2031-03-24",
                                                    "trip-arrival_flight": "LA 8084"})
    assert good.status_code == 303
    db.session.expire_all()
    plan = travel.plan_of(inquiry)
    assert plan.patient_confirmed_at is not None and plan.arrival_flight == "LA 8084"
    assert "K12345678" not in html(patient.get(f"/p/{token}"))  # masked for the patient too


def test_an_online_opinion_in_chinese_is_read_in_the_portal_and_answered_by_an_addendum(
        client, coordinator, factory, db, app):
    inquiry = factory.inquiry(service="second_opinion_online", preferred_language="zh-Hans",
                              timezone="Asia/Shanghai", country="CN")
    factory.walk(inquiry, "in_care", coordinator)
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    assert 'id="appointments"' not in page and 'id="travel-plan"' not in page  # no travel steps online
    assert post(client, inquiry.id, "opinion", {"opinion-physician_questions": "Is surgery needed?",
                                                 "opinion-specialist_name": "Dr. Lee"}).status_code == 303
    page = client.get(f"/inquiries/{inquiry.id}")
    from io import BytesIO
    upload = client.post(f"/inquiries/{inquiry.id}/opinion/file", data={
        "csrf_token": csrf_from(page), "opfile-file": (BytesIO(PDF), "opinion.pdf")},
        content_type="multipart/form-data")
    assert upload.status_code == 303
    request = opinion.opinion_of(inquiry)
    token = portal_token(db, inquiry)
    patient = app.test_client()
    doc_id = request.opinion_document.id
    assert patient.get(f"/p/{token}/documents/{doc_id}").status_code == 404  # not released yet
    assert post(client, inquiry.id, "opinion/release", {}).status_code == 303
    [ready] = db.session.scalars(select(OutboundMail).where(OutboundMail.inquiry_id == inquiry.id,
                                                            OutboundMail.kind == "opinion_ready")).all()
    assert ready.language == "zh-Hans"
    download = patient.get(f"/p/{token}/documents/{doc_id}")
    assert download.status_code == 200 and download.data == PDF
    page = patient.get(f"/p/{token}")
    asked = patient.post(f"/p/{token}/opinion/questions", data={"csrf_token": csrf_from(page),
                                                                "ask-question": "我可以坐飞机吗？"})
    assert asked.status_code == 303
    db.session.expire_all()
    [question] = opinion.opinion_of(inquiry).addenda
    assert question.asked_by == "patient" and question.question == "我可以坐飞机吗？"
    # the patient decides to come after all
    db.session.refresh(inquiry)
    assert post(client, inquiry.id, "opinion/convert", {"version": inquiry.version}).status_code == 303
    db.session.expire_all()
    assert inquiry.service == "second_opinion_in_person"
    assert "in-person second opinion" in html(client.get(f"/inquiries/{inquiry.id}"))


def test_the_portal_makes_as_many_queries_with_many_appointments(client, coordinator, factory, db, app):
    inquiry = factory.inquiry(preferred_language="pt-BR", timezone="America/Sao_Paulo")
    travel.save_plan(inquiry, {"arrival_date": "2031-03-10", "lodging": "Inn"}, actor=coordinator)
    when = utcnow() + timedelta(days=40)
    appointments.book(inquiry, actor=coordinator, when=when, location="Room 0")
    db.session.commit()
    token = portal_token(db, inquiry)
    patient = app.test_client()
    few = count_queries(db, lambda: patient.get(f"/p/{token}"))
    for n in range(1, 6):
        appointments.book(inquiry, actor=coordinator, when=when + timedelta(days=n), location=f"Room {n}")
        travel.add_companion(inquiry, {"full_name": f"Companion {n}", "relationship": "friend"}, actor=coordinator)
    db.session.commit()
    token = portal_token(db, inquiry)
    assert count_queries(db, lambda: patient.get(f"/p/{token}")) == few


@pytest.mark.parametrize("path, data", [
    ("finance", {"fin-payer_type": "lottery"}),
    ("finance", {"fin-payer_type": "self_pay", "fin-estimate": "1e999", "fin-deposit": "NaN"}),
    ("finance", {"fin-payer_type": "sponsor", "fin-sponsor_kind": "king", "fin-guarantee_valid_from": "2031-02-30"}),
    ("finance/entries", {"ledger-kind": "gift", "ledger-amount": "-1"}),
    ("appointment", {"date": "2031-02-30", "time": "25:99", "duration": "forever", "center": "mars"}),
    ("travel-plan", {"trip-arrival_date": "tomorrow", "trip-passport_country": "XX", "trip-passport_number": "💥"}),
    ("travel-plan/companions", {"companion-relationship": "boss", "companion-date_of_birth": "3000-01-01"}),
    ("travel-plan/companions/999999/remove", {}),
    ("appointments/999999/confirm", {}),
    ("opinion", {"opinion-specialist_name": "x" * 500}),
    ("opinion/addenda", {"answer-addendum": "abc"}),
])
def test_nonsense_gets_a_message_never_a_server_error(client, coordinator, factory, db, path, data):
    inquiry = factory.inquiry(service="second_opinion_online" if path.startswith("opinion") else "treatment")
    response = post(client, inquiry.id, path, data)
    assert response.status_code in (303, 422), response.status_code
    page = html(response) if response.status_code == 422 else html(client.get(f"/inquiries/{inquiry.id}"))
    assert "alert" in page or "invalid-feedback" in page


def test_opinion_steps_on_an_in_person_case_are_refused_by_name(client, coordinator, factory, db):
    inquiry = factory.inquiry(service="treatment")
    response = post(client, inquiry.id, "opinion", {"opinion-physician_questions": "Why?"})
    assert response.status_code == 422 and "This is not an online second opinion." in html(response)
    assert opinion.opinion_of(inquiry) is None


# --- the step forms on pages of their own ----------------------------------------------------------

FORMS_OF_THEIR_OWN = {  # page -> a field of its form, as named in the markup
    "travel-plan": 'name="trip-lodging"', "travel-plan/companions": 'name="companion-full_name"',
    "finance": 'name="fin-payer_type"', "appointment": 'name="location"', "records": 'name="items"',
    "travel": 'name="airport_pickup"'}


def test_the_case_page_links_to_each_step_form_and_holds_none_of_their_fields(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    for path, field in FORMS_OF_THEIR_OWN.items():
        assert f'href="/inquiries/{inquiry.id}/{path}"' in page, path
        assert field not in page, path
        form_page = client.get(f"/inquiries/{inquiry.id}/{path}")
        assert form_page.status_code == 200 and field in html(form_page), path
        assert f'href="/inquiries/{inquiry.id}#' in html(form_page)  # back to the case's card


def test_the_travel_plan_page_shows_what_is_on_file_but_never_the_passport_number(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    assert post(client, inquiry.id, "travel-plan", PLAN).status_code == 303
    page = html(client.get(f"/inquiries/{inquiry.id}/travel-plan"))
    assert 'value="Longwood Inn"' in page and 'value="2031-03-24"' in page and 'value="LAYLA HADDAD"' in page
    assert "K12345678" not in page and "Left empty, the number on file is kept." in page
    refused = post(client, inquiry.id, "travel-plan", {**PLAN, "trip-lodging": "Hotel Commonwealth",
                                                       "trip-departure_date": "2031-03-01"})
    assert refused.status_code == 422
    page = html(refused)
    assert 'id="trip-departure_date-error"' in page and 'aria-invalid="true"' in page
    assert 'value="Hotel Commonwealth"' in page  # what was typed is kept
    assert travel.plan_of(inquiry).lodging == "Longwood Inn"


def test_the_interpreter_and_passport_lists_begin_with_the_patients_language_and_country(
        client, coordinator, factory, db):
    inquiry = factory.inquiry(preferred_language="pt-BR", country="BR")
    page = html(client.get(f"/inquiries/{inquiry.id}/travel-plan"))
    select_ = page[page.index('<select class="form-select" id="trip-interpreter_language"'):]
    select_ = select_[:select_.index("</select>")]
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)<', select_)
    assert options[0] == ("", "The patient&#39;s language (Portuguese)")
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select_, re.S)
    assert [label for label, _ in groups] == ["The center&#39;s languages", "All languages"]
    assert sorted(re.findall(r'value="([^"]+)"', groups[0][1])) == ["ar", "en", "es", "fr", "pt", "ru", "zh"]
    assert 'value="ti"' in groups[1][1] and 'value="en"' not in groups[1][1]  # any ISO 639-1 language
    country = page[page.index('id="trip-passport_country"'):]
    country = country[:country.index("</select>")]
    assert re.search(r'<optgroup label="The patient&#39;s country">\s*<option value="BR">Brazil</option>', country)
    # a language of the long list is taken like any other
    assert post(client, inquiry.id, "travel-plan", {**PLAN, "trip-interpreter_needed": "y",
                                                    "trip-interpreter_language": "ti"}).status_code == 303
    assert travel.plan_of(inquiry).interpreter_language == "ti"
    assert "Tigrinya" in html(client.get(f"/inquiries/{inquiry.id}"))


def test_who_pays_is_recorded_on_its_page_with_currencies_suggested(client, coordinator, factory, db):
    inquiry = factory.inquiry(country="BR")
    page = html(client.get(f"/inquiries/{inquiry.id}/finance"))
    assert 'list="currencies"' in page
    datalist = page[page.index('<datalist id="currencies">'):]
    assert re.findall(r'<option value="([A-Z]{3})">', datalist[:datalist.index("</datalist>")])[:2] == ["BRL", "USD"]
    refused = post(client, inquiry.id, "finance", {"fin-payer_type": "insurance", "fin-insurer": "Bradesco Saúde",
                                                    "fin-patient_currency": "XYZ"})
    assert refused.status_code == 422 and 'value="Bradesco Saúde"' in html(refused)
    assert post(client, inquiry.id, "finance", {"fin-payer_type": "insurance",
                                                "fin-insurer": "Bradesco Saúde"}).status_code == 303
    page = html(client.get(f"/inquiries/{inquiry.id}/finance"))
    assert 'value="Bradesco Saúde"' in page and 'name="fin-version" type="hidden" value="1"' in page
    assert "Bradesco Saúde" in html(client.get(f"/inquiries/{inquiry.id}"))


def test_a_coordinator_of_another_center_cannot_open_the_step_pages(client, auth, factory, db):
    inquiry = factory.inquiry()
    auth.login(factory.user(centers=("neurology",)))
    for path in FORMS_OF_THEIR_OWN:
        assert client.get(f"/inquiries/{inquiry.id}/{path}").status_code == 404, path
