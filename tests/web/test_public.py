"""The public request form: in the visitor's language, consent, validation, rate limit."""
from sqlalchemy import select

from crm.models import Inquiry, Patient
from tests.conftest import csrf_from

GOOD = {"given_name": "Sofía", "family_name": "Ramírez", "email": "sofia.ramirez@example.com",
        "phone": "+57 300 123 4567", "country": "CO", "preferred_language": "es",
        "service": "second_opinion_online", "center": "cardiology",
        "reason": "Me diagnosticaron una arritmia y quisiera una segunda opinión.", "consent": "y"}


def submit(client, lang="es", **changes):
    page = client.get(f"/request?lang={lang}")
    return client.post("/request", data={**GOOD, **changes, "csrf_token": csrf_from(page)})


def test_form_speaks_the_visitors_language(client):
    page = client.get("/request", headers={"Accept-Language": "ar-SA,ar;q=0.9,en;q=0.5"})
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.get_data(as_text=True)
    page = client.get("/request?lang=pt-BR")
    assert '<html lang="pt-BR" dir="ltr">' in page.get_data(as_text=True)


def test_a_request_creates_patient_and_inquiry_and_thanks(client, db):
    response = submit(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/request/thanks")
    inquiry = db.session.scalars(select(Inquiry).order_by(Inquiry.id.desc())).first()
    assert inquiry.source == "web_form" and inquiry.consent_at is not None
    assert inquiry.patient.preferred_language == "es" and inquiry.patient.phone == "+573001234567"
    thanks = client.get("/request/thanks")
    assert inquiry.reference in thanks.get_data(as_text=True)


def test_consent_is_required(client, db):
    before = db.session.scalar(select(Inquiry.id).order_by(Inquiry.id.desc()))
    response = submit(client, consent="")
    assert response.status_code == 422
    assert 'id="consent-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Inquiry.id).order_by(Inquiry.id.desc())) == before


def test_bad_fields_get_messages_and_nothing_is_saved(client, db):
    patients = db.session.scalar(select(Patient.id).order_by(Patient.id.desc()))
    response = submit(client, email="sofia@", phone="abc", date_of_birth="2999-01-01", reason="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("email", "phone", "date_of_birth", "reason"):
        assert f'id="{field}-error"' in html
    assert db.session.scalar(select(Patient.id).order_by(Patient.id.desc())) == patients


def test_existing_patient_is_found_by_email_and_not_changed(client, factory, db):
    existing = factory.inquiry(email="known@example.com", given_name="Known", phone="+966501234567")
    assert submit(client, email="known@example.com", given_name="Someone else").status_code == 303
    patient = db.session.get(Patient, existing.patient_id)
    db.session.refresh(patient)
    assert patient.given_name == "Known" and len(patient.inquiries) == 2


def test_bots_filling_the_hidden_field_are_ignored(client, db):
    before = db.session.scalar(select(Inquiry.id).order_by(Inquiry.id.desc()))
    assert submit(client, website="http://spam.example").status_code == 303
    assert db.session.scalar(select(Inquiry.id).order_by(Inquiry.id.desc())) == before


def test_the_form_is_rate_limited(fresh_app):
    app = fresh_app(REQUEST_FORM_RATE_LIMIT="2 per minute")
    client = app.test_client()
    statuses = [submit(client, email=f"r{n}@example.com").status_code for n in range(3)]
    assert statuses[:2] == [303, 303] and statuses[2] == 429
