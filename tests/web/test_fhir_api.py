"""GET /api/v1/inquiries/{id}/fhir: the case as a FHIR R4 Bundle for a bearer token whose owner
may see it; out of reach it does not exist (404); without a token, 401."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crm.models import AuditEvent
from crm.services import appointments, conversation, uploads
from crm.services.users import create_api_token
from tests import mail_samples as samples
from tests.services.test_fhir import check_r4, resolve, resources


@pytest.fixture
def token_of(db):
    def make(user):
        token = create_api_token(user)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}
    return make


@pytest.fixture
def case(app, db, factory):
    """A cardiology case with a document the patient uploaded and an appointment booked."""
    inquiry = factory.inquiry(referring_name="Dr. Luis Ortega", referring_institution="Hospital Central",
                              referring_country="MX")
    stored = uploads.store(samples.MINIMAL_PDF, "ecg.pdf", upload_dir=app.config["UPLOAD_DIR"],
                           max_bytes=5 * 1024 * 1024)
    conversation.add_document(inquiry, stored, source="portal")
    coordinator = factory.user(role="coordinator", centers=("cardiology",))
    when = datetime(2031, 3, 14, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    appointments.book(inquiry, actor=coordinator, when=when, location="Heart Center, 55 Fruit St",
                      physician="Dr. Adams")
    db.session.commit()
    return inquiry


def exports_of(db, inquiry) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.inquiry_id == inquiry.id, AuditEvent.action == "export")).all()


def test_the_bundle_for_someone_who_may_see_the_case(client, db, factory, token_of, case):
    coordinator = factory.user(role="coordinator", centers=("cardiology",))
    response = client.get(f"/api/v1/inquiries/{case.id}/fhir", headers=token_of(coordinator))
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Content-Type"] == "application/fhir+json; fhirVersion=4.0"
    assert response.headers["Cache-Control"] == "no-store"  # patient data, never cached
    bundle = response.get_json()
    check_r4(bundle)
    referral = resources(bundle, "ServiceRequest")[0]
    assert referral["id"] == f"inquiry-{case.id}"
    assert resolve(bundle, referral["requester"])["resourceType"] == "PractitionerRole"
    assert "extension" in resources(bundle, "Patient")[0]  # Arabic: an interpreter is needed
    [appointment] = resources(bundle, "Appointment")
    assert (appointment["status"], appointment["start"]) == ("booked", "2031-03-14T13:30:00Z")
    [event] = exports_of(db, case)
    assert event.actor_id == coordinator.id and event.origin.startswith("api")
    assert event.detail == f"fhir bundle={bundle['id']}"


def test_the_document_address_in_the_bundle_downloads_it_for_staff(client, factory, token_of, auth, case):
    manager = factory.user(role="manager")
    bundle = client.get(f"/api/v1/inquiries/{case.id}/fhir", headers=token_of(manager)).get_json()
    attachment = resources(bundle, "DocumentReference")[0]["content"][0]["attachment"]
    path = attachment["url"].removeprefix(client.application.config["BASE_URL"])
    assert path.startswith("/inquiries/")
    assert client.get(path).status_code in (302, 401)  # not without signing in
    auth.login(manager)
    download = client.get(path)
    assert download.status_code == 200 and download.data == samples.MINIMAL_PDF
    assert base64.b64encode(hashlib.sha1(download.data).digest()).decode() == attachment["hash"]


def test_a_case_out_of_reach_does_not_exist(client, db, factory, token_of, case):
    neurologist = factory.user(role="coordinator", centers=("neurology",))
    headers = token_of(neurologist)
    for url in (f"/api/v1/inquiries/{case.id}/fhir", "/api/v1/inquiries/999999999/fhir",
                "/api/v1/inquiries/99999999999/fhir"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        body = response.get_json()
        assert set(body) == {"error"} and body["error"]["code"] == "not_found"
        assert body["error"]["message"] and body["error"]["fields"] == {}
    assert exports_of(db, case) == []  # nothing was exported, nothing is audited


def test_a_token_is_required(client, db, case):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        response = client.get(f"/api/v1/inquiries/{case.id}/fhir", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert exports_of(db, case) == []
