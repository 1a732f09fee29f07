"""Least privilege beyond the role matrix: fields a form or the API does not offer are ignored
(no one sets an id, a version, a stage, another patient or their own role by adding them to a
request); a coordinator reads the whole patient record of their centers' cases and nothing of
the others'; managers' figures name nobody; passport numbers are masked but for the case's
coordinators."""
import sqlalchemy as sa

from crm.models import Inquiry, Patient, User
from crm.services.users import create_api_token
from tests.conftest import csrf_from

EXTRAS = {"id": "999999", "role": "admin", "stage": "closed", "outcome": "completed",
          "reference": "ITN-999999", "created_at": "2001-01-01T00:00:00+00:00", "merged_into_id": "1",
          "is_active": "0", "email_bounced_at": "2001-01-01T00:00:00+00:00", "center_id": "1"}


def test_extra_fields_posted_to_the_api_are_ignored(client, factory, db):
    coordinator = factory.user(role="coordinator", centers=("cardiology",))
    other_center = factory.user(role="coordinator", centers=("neurology",))
    other = factory.inquiry(center="neurology", family_name="Verhoeven")
    token = create_api_token(coordinator)
    db.session.commit()
    body = {"patient": {"given_name": "Ana", "family_name": "Pérez", "email": "ana.perez@example.com",
                        "country": "MX", "preferred_language": "es", "id": other.patient_id,
                        "merged_into_id": other.patient_id},
            "service": "second_opinion_online", "center": "cardiology", "reason": "Arritmia",
            **EXTRAS, "id": 999999, "version": 77, "coordinator_id": other_center.id,
            "coordinator": {"id": other_center.id}, "patient_id": other.patient_id,
            "assignee_id": other_center.id}
    response = client.post("/api/v1/inquiries", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json
    created = db.session.get(Inquiry, response.json["id"])
    assert created.id != 999999 and created.version == 1 and created.stage == "new"
    assert created.reference != "ITN-999999" and created.created_at.year > 2001
    assert created.coordinator_id != other_center.id  # routing decides, not the caller
    assert created.patient_id != other.patient_id and created.patient.family_name == "Pérez"
    assert created.patient.merged_into_id is None
    db.session.expire_all()
    assert db.session.get(User, coordinator.id).role == "coordinator"
    assert db.session.get(Patient, other.patient_id).family_name == "Verhoeven"


def test_extra_fields_posted_to_the_edit_forms_are_ignored(client, auth, factory, db):
    coordinator = factory.user(role="coordinator", centers=("cardiology",))
    inquiry = factory.inquiry(center="cardiology", family_name="Sandoval")
    other = factory.inquiry(center="cardiology", family_name="Okonkwo")
    auth.login(coordinator)
    patient_id, other_patient_id = inquiry.patient_id, other.patient_id

    page = client.get(f"/patients/{patient_id}/edit")
    form = {"csrf_token": csrf_from(page), "given_name": "Lucía", "family_name": "Sandoval",
            "email": inquiry.patient.email, "phone": "+34 600 123 456", "country": "ES", "preferred_language": "es",
            "sex": "female", "timezone": "Europe/Madrid", "date_of_birth": "1980-04-02", "mrn": "",
            "version": str(inquiry.patient.version)}
    response = client.post(f"/patients/{patient_id}/edit",
                           data={**form, **EXTRAS, "patient_id": str(other_patient_id)})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]

    page = client.get(f"/inquiries/{inquiry.id}/edit")
    case = {"csrf_token": csrf_from(page), "service": inquiry.service, "center": "cardiology",
            "coordinator_id": str(inquiry.coordinator_id or ""), "reason": "Palpitaciones",
            "version": str(inquiry.version)}
    response = client.post(f"/inquiries/{inquiry.id}/edit",
                           data={**case, **EXTRAS, "patient_id": str(other_patient_id), "source": "api"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]

    board = client.get("/inquiries/board")
    client.post("/settings/language", data={"csrf_token": csrf_from(board), "locale": "es", **EXTRAS})
    db.session.expire_all()
    patient, moved = db.session.get(Patient, patient_id), db.session.get(Inquiry, inquiry.id)
    assert patient.given_name == "Lucía" and patient.merged_into_id is None and patient.email_bounced_at is None
    assert moved.reason == "Palpitaciones"  # the form's own fields were taken
    assert moved.patient_id == patient_id and moved.stage == inquiry.stage and moved.source == "phone"
    assert moved.outcome is None and moved.reference != "ITN-999999"
    assert db.session.get(Patient, other_patient_id).family_name == "Okonkwo"
    me = db.session.get(User, coordinator.id)
    assert me.role == "coordinator" and me.is_active and me.ui_locale == "es"
    assert db.session.scalar(sa.select(sa.func.max(Inquiry.id))) < 999999


def test_a_portal_reply_stays_on_its_own_case(client, factory, db):
    from crm.models import Message
    from crm.services import portal_links
    mine, theirs = factory.inquiry(family_name="Mine"), factory.inquiry(family_name="Theirs")
    token = portal_links.token_for(portal_links.current_link(mine))
    db.session.commit()
    page = client.get(f"/p/{token}")
    response = client.post(f"/p/{token}/reply", data={"csrf_token": csrf_from(page), "body": "Hello",
                                                      "inquiry_id": str(theirs.id), "token": "x", **EXTRAS})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.inquiry_id == theirs.id, Message.body_text.contains("Hello"))) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.inquiry_id == mine.id, Message.body_text.contains("Hello"))) == 1


def test_coordinators_read_the_whole_record_of_their_centers_cases_only(client, auth, factory, db):
    mine = factory.user(role="coordinator", centers=("cardiology",))
    theirs = factory.user(role="coordinator", centers=("neurology",))
    inquiry = factory.inquiry(center="cardiology", family_name="Abernathy", email="abernathy@example.com",
                              phone="+1 617 555 0199", date_of_birth="1971-03-09")
    auth.login(mine)
    page = client.get(f"/patients/{inquiry.patient_id}").get_data(as_text=True)
    for shown in ("Abernathy", "abernathy@example.com", "+16175550199", "1971"):
        assert shown in page, shown
    auth.logout()
    auth.login(theirs)
    assert client.get(f"/patients/{inquiry.patient_id}").status_code == 404
    assert client.get(f"/inquiries/{inquiry.id}").status_code == 404
    for url in ("/inquiries/", "/inquiries/board", "/inquiries/export.csv", "/tasks/", "/patients/duplicates",
                "/dashboard/"):
        assert "Abernathy" not in client.get(url).get_data(as_text=True), url


def test_managers_figures_name_no_patient(client, auth, factory, db):
    manager = factory.user(role="manager")
    factory.inquiry(center="cardiology", family_name="Castellanos", email="castellanos@example.com",
                    reason="Stenosis of the aortic valve")
    token = create_api_token(manager)
    db.session.commit()
    auth.login(manager)
    page = client.get("/dashboard/")
    api = client.get("/api/v1/dashboard", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200 and api.status_code == 200
    for text in (page.get_data(as_text=True), api.get_data(as_text=True)):
        for name in ("Castellanos", "castellanos@example.com", "Stenosis"):
            assert name not in text


def test_passport_numbers_are_masked_but_for_the_cases_coordinators(client, auth, factory, db):
    from crm.services import travel
    coordinator = factory.user(role="coordinator", centers=("cardiology",))
    manager = factory.user(role="manager")
    inquiry = factory.inquiry(center="cardiology", family_name="Haddad")
    travel.save_plan(inquiry, {"passport_number": "K7710293", "passport_country": "SA",
                               "passport_name": "LAYLA HADDAD"}, actor=coordinator)
    db.session.commit()
    auth.login(manager)
    case = client.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    assert "K7710293" not in case and "•293" in case  # masked: the last digits only
    assert client.get(f"/inquiries/{inquiry.id}/travel-plan/passports").status_code == 403
    auth.logout()
    auth.login(coordinator)
    assert "K7710293" not in client.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    whole = client.get(f"/inquiries/{inquiry.id}/travel-plan/passports")
    assert whole.status_code == 200 and "K7710293" in whole.get_data(as_text=True)
