"""The coordinator's screens: board, list, search, register, detail, move, edit, conflicts."""
import re

import pytest
from sqlalchemy import select

from crm.models import AuditEvent, Inquiry
from tests.conftest import csrf_from


@pytest.fixture
def coordinator(factory, auth):
    user = factory.user(centers=("cardiology", "neurology"), languages=("en", "es"))
    auth.login(user)
    return user


def test_board_has_a_column_per_stage_with_counts(client, coordinator, factory):
    factory.inquiry(given_name="Amal")
    factory.inquiry(center="neurology", given_name="Boris")
    page = client.get("/inquiries/board")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for stage in ("New", "Intake", "Records", "Clinical review", "Financial clearance",
                  "Scheduling", "Travel", "In care", "Follow-up", "Closed"):
        assert f">{stage}</h2>" in html
    assert "Amal" in html and "Boris" in html


def test_board_hides_cases_of_other_centers(client, coordinator, factory):
    factory.inquiry(center="transplant", given_name="Hidden")
    assert "Hidden" not in client.get("/inquiries/board").get_data(as_text=True)


def test_list_filters_and_paginates(client, coordinator, factory, app):
    for n in range(3):
        factory.inquiry(preferred_language="es", given_name=f"Lucía{n}")
    factory.inquiry(preferred_language="ru", given_name="Иван")
    html = client.get("/inquiries/?language=es").get_data(as_text=True)
    assert "Lucía0" in html and "Иван" not in html
    app.config["PAGE_SIZE"] = 2
    try:
        page1 = client.get("/inquiries/?language=es&sort=name").get_data(as_text=True)
        page2 = client.get("/inquiries/?language=es&sort=name&page=2").get_data(as_text=True)
        page99 = client.get("/inquiries/?language=es&page=99")
    finally:
        app.config["PAGE_SIZE"] = 50
    assert "Page 1 of 2" in page1 and "Page 2 of 2" in page2
    assert page99.status_code == 200


@pytest.mark.parametrize("query", ["ليلى", "layla.search@example.com", "+966 50 765 4321", "765 4321"])
def test_search_finds_a_patient_by_name_email_or_phone(client, coordinator, factory, query):
    factory.inquiry(given_name="ليلى", family_name="الحداد", email="layla.search@example.com",
                    phone="+966507654321")
    factory.inquiry(given_name="Other", email="other@example.com", phone="+966501111111")
    html = search(client, query)
    assert "الحداد" in html and "Other" not in html


def test_search_by_reference_and_accent_insensitive(client, coordinator, factory):
    inquiry = factory.inquiry(given_name="José", family_name="Núñez")
    assert "Núñez" in search(client, "nunez")
    assert "Núñez" in search(client, inquiry.reference)
    assert "No inquiry matches these filters." in search(client, "%")  # a % is literal


def test_search_text_never_goes_in_a_url(client, coordinator, factory):
    factory.inquiry(family_name="Confidential")
    html = search(client, "Confidential")
    assert "Confidential" in html
    for href in re.findall(r'href="([^"]+)"', html):
        assert "Confidential" not in href
    # a name typed into the URL is ignored, not searched
    assert "No inquiry matches" not in client.get("/inquiries/?q=zzzz-nobody").get_data(as_text=True)


def test_register_an_inquiry_by_phone(client, coordinator, db):
    page = client.get("/inquiries/new")
    response = client.post("/inquiries/new", data={
        "csrf_token": csrf_from(page), "given_name": "Wei", "family_name": "Zhang",
        "email": "wei.zhang@example.com", "phone": "+86 138 0013 8000", "country": "CN",
        "preferred_language": "zh-Hans", "service": "surgery", "center": "neurology",
        "source": "phone", "reason": "脊柱手术咨询", "date_of_birth": "1975-03-09"})
    assert response.status_code == 302
    inquiry = db.session.scalars(select(Inquiry).order_by(Inquiry.id.desc())).first()
    assert response.headers["Location"].endswith(f"/inquiries/{inquiry.id}")
    assert inquiry.patient.phone == "+8613800138000" and inquiry.source == "phone"
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Inquiry %s registered." % inquiry.reference in detail


def test_bad_registration_shows_errors_next_to_fields_in_the_users_language(client, coordinator, db):
    page = client.get("/inquiries/new")
    before = db.session.scalar(select(Inquiry.id).order_by(Inquiry.id.desc()))
    response = client.post("/inquiries/new?lang=es", data={
        "csrf_token": csrf_from(page), "given_name": "", "family_name": "X", "email": "nope",
        "service": "surgery", "reason": "r", "source": "phone", "preferred_language": "en"})
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Inquiry.id).order_by(Inquiry.id.desc())) == before


def test_detail_shows_the_case_and_audits_the_view(client, coordinator, factory, db):
    inquiry = factory.inquiry(reason="Chest pain when climbing stairs")
    html = client.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    assert "Chest pain when climbing stairs" in html and inquiry.reference in html
    assert 'value="intake"' in html and 'value="closed"' in html and 'value="records"' not in html
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view",
                                                        AuditEvent.inquiry_id == inquiry.id)).one()
    assert event.actor_id == coordinator.id and event.origin


def test_out_of_reach_answers_404(client, coordinator, factory):
    hidden = factory.inquiry(center="transplant")
    assert client.get(f"/inquiries/{hidden.id}").status_code == 404
    assert client.get(f"/patients/{hidden.patient_id}").status_code == 404
    assert client.get("/inquiries/999999999").status_code == 404


def search(client, text):
    page = client.get("/inquiries/board")
    response = client.post("/inquiries/search", data={"csrf_token": csrf_from(page), "q": text})
    assert response.status_code == 303 and text not in response.headers["Location"]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def move(client, inquiry_id, to, version, **extra):
    page = client.get(f"/inquiries/{inquiry_id}")
    return client.post(f"/inquiries/{inquiry_id}/transition",
                       data={"csrf_token": csrf_from(page), "to": to, "version": version, **extra})


def test_a_case_goes_from_new_to_closed_through_the_ui(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    version = inquiry.version
    for stage in ("intake", "records", "clinical_review", "financial_clearance", "scheduling",
                  "travel", "in_care", "follow_up"):
        if stage == "financial_clearance":  # the reviewing physician accepts the case first
            page = client.get(f"/inquiries/{inquiry.id}")
            response = client.post(f"/inquiries/{inquiry.id}/review", data={
                "csrf_token": csrf_from(page), "reviewer_name": "Dr. Ana Ruiz", "decision": "accept",
                "version": version})
            assert response.status_code == 303
            version += 1
        if stage == "scheduling":  # an insurer pays: the case is financially cleared first
            page = client.get(f"/inquiries/{inquiry.id}")
            assert client.post(f"/inquiries/{inquiry.id}/finance", data={
                "csrf_token": csrf_from(page), "fin-payer_type": "insurance", "fin-insurer": "Bupa Global",
                "fin-precert_required": "no"}).status_code == 303
            assert client.post(f"/inquiries/{inquiry.id}/finance/clear",
                               data={"csrf_token": csrf_from(page)}).status_code == 303
        response = move(client, inquiry.id, stage, version)
        assert response.status_code == 303, stage
        version += 1
    response = move(client, inquiry.id, "closed", version, outcome="completed", note="All done")
    assert response.status_code == 303
    db.session.refresh(inquiry)
    assert inquiry.stage == "closed" and inquiry.outcome == "completed"
    html = client.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    assert "Moved to Closed." in html and "All done" in html
    assert "Only a manager can reopen it." in html


def test_closing_without_outcome_explains_on_the_form(client, coordinator, factory):
    inquiry = factory.inquiry()
    response = move(client, inquiry.id, "closed", inquiry.version)
    assert response.status_code == 422
    assert "Choose the outcome to close this case." in response.get_data(as_text=True)


def test_second_coordinator_with_a_stale_form_gets_a_conflict(app, client, coordinator, factory, db):
    inquiry = factory.inquiry()
    stale_version = inquiry.version
    assert move(client, inquiry.id, "intake", stale_version).status_code == 303
    # the second coordinator's page was read before the first one's move
    response = move(client, inquiry.id, "closed", stale_version, outcome="duplicate")
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Someone else changed this case" in html
    db.session.refresh(inquiry)
    assert inquiry.stage == "intake"


def test_edit_inquiry_with_stale_version_is_refused(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    page = client.get(f"/inquiries/{inquiry.id}/edit")
    token = csrf_from(page)
    data = {"csrf_token": token, "service": "treatment", "center": "neurology", "reason": "Updated",
            "version": inquiry.version}
    assert client.post(f"/inquiries/{inquiry.id}/edit", data=data).status_code == 303
    db.session.refresh(inquiry)
    assert inquiry.service == "treatment" and inquiry.version == 2
    response = client.post(f"/inquiries/{inquiry.id}/edit", data={**data, "service": "surgery"})
    assert response.status_code == 422
    assert "Someone else changed this case" in response.get_data(as_text=True)
    db.session.refresh(inquiry)
    assert inquiry.service == "treatment"


def test_notes_go_on_the_timeline_without_bumping_the_version(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    page = client.get(f"/inquiries/{inquiry.id}")
    response = client.post(f"/inquiries/{inquiry.id}/notes",
                           data={"csrf_token": csrf_from(page), "body": "Called the son"})
    assert response.status_code == 303
    assert "Called the son" in client.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    db.session.refresh(inquiry)
    assert inquiry.version == 1


def test_patient_page_lists_their_inquiries(client, coordinator, factory):
    first = factory.inquiry(email="twice@example.com")
    second = factory.inquiry(email="twice@example.com", service="treatment")
    html = client.get(f"/patients/{first.patient_id}").get_data(as_text=True)
    assert first.reference in html and second.reference in html


def test_csv_export_respects_visibility_and_is_audited(client, coordinator, factory, db):
    factory.inquiry(family_name="Visible")
    factory.inquiry(center="transplant", family_name="Invisible")
    response = client.get("/inquiries/export.csv")
    text = response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert text.splitlines()[0].startswith("reference,id,stage")
    assert "Visible" in text and "Invisible" not in text
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).first()


def test_arabic_pages_are_right_to_left(client, factory, auth):
    user = factory.user(ui_locale="ar")
    auth.login(user)
    inquiry = factory.inquiry()
    for url in ("/inquiries/board", "/inquiries/", f"/inquiries/{inquiry.id}", "/inquiries/new"):
        html = client.get(url).get_data(as_text=True)
        assert re.search(r'<html lang="ar" dir="rtl">', html), url
        assert "bootstrap.rtl.min.css" in html


def test_staff_choose_their_language(client, coordinator, db):
    page = client.get("/inquiries/board")
    client.post("/settings/language", data={"csrf_token": csrf_from(page), "locale": "fr",
                                            "next": "/inquiries/board"})
    html = client.get("/inquiries/board").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in html
    db.session.refresh(coordinator)
    assert coordinator.ui_locale == "fr"
