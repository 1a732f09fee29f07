"""The case page's conversation with the patient: replies in the patient's language's frame,
records requests and the checklist, appointment and travel details, a new portal link, and who
may do any of it."""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from markupsafe import escape
from sqlalchemy import select

from crm.models import ChecklistItem, Inquiry, OutboundMail, Task
from crm.models.base import utcnow
from crm.services import conversation, pipeline
from crm.services.outbox import inquiry_id_from_token
from crm.services.portal_links import OK, resolve
from tests.conftest import csrf_from

PORTAL_PATH = re.compile(r"/p/([A-Za-z0-9_.\-]+)")


@pytest.fixture
def coordinator(factory, auth):
    user = factory.user(centers=("cardiology",))
    auth.login(user)
    return user


def post(client, inquiry_id, path, data, csrf=True):
    """Post a form of the case page as a coordinator would, with the page's CSRF token."""
    if csrf:
        page = client.get(f"/inquiries/{inquiry_id}")
        assert page.status_code == 200
        data = {"csrf_token": csrf_from(page), **data}
    return client.post(f"/inquiries/{inquiry_id}/{path}", data=data)


def mails(db, inquiry, kind=None) -> list[OutboundMail]:
    db.session.expire_all()
    stmt = select(OutboundMail).where(OutboundMail.inquiry_id == inquiry.id)
    if kind:
        stmt = stmt.where(OutboundMail.kind == kind)
    return list(db.session.scalars(stmt.order_by(OutboundMail.id)))


def tasks_of(db, inquiry, kind) -> list[Task]:
    db.session.expire_all()
    return list(db.session.scalars(select(Task).where(Task.inquiry_id == inquiry.id, Task.kind == kind)))


def html_of(response) -> str:
    return response.get_data(as_text=True)


def form_html(html: str, action: str) -> str:
    """The markup of the form posting to ``action``."""
    start = html.index(f'action="{action}"')
    return html[start:html.index("</form>", start)]


# --- replying -----------------------------------------------------------------------------------

def test_a_reply_goes_to_the_patient_in_their_languages_frame_with_their_link(client, coordinator,
                                                                              factory, db):
    inquiry = factory.inquiry(preferred_language="ar", email="layla.reply@example.com")
    assert [t.state for t in tasks_of(db, inquiry, "first_response")] == ["open"]
    text = "We can see you on Tuesday. Please bring your ECG."
    response = post(client, inquiry.id, "reply", {"body": text})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/inquiries/{inquiry.id}#conversation")

    [mail] = mails(db, inquiry, "reply")
    assert "layla.reply@example.com" in mail.to_addr and mail.status == "queued"
    assert mail.language == "ar"
    assert '<html lang="ar" dir="rtl">' in mail.body_html
    assert text in mail.body_text and str(escape(text)) in mail.body_html
    assert "+ITN-" in mail.reply_to and inquiry_id_from_token(mail.reply_to) == inquiry.id
    token = PORTAL_PATH.search(mail.body_text).group(1)
    assert resolve(token)[0] == OK and resolve(token)[1].inquiry_id == inquiry.id
    assert f"/p/{token}" in mail.body_html

    assert [t.state for t in tasks_of(db, inquiry, "first_response")] == ["done"]
    page = html_of(client.get(f"/inquiries/{inquiry.id}"))
    assert "Your message is on its way to the patient" in page and text in page


def test_a_reply_answers_the_patients_message(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    conversation.record_patient_message(inquiry, "Any news?", channel="portal", kind="portal_reply")
    db.session.commit()
    assert [t.state for t in tasks_of(db, inquiry, "answer_patient")] == ["open"]
    assert post(client, inquiry.id, "reply", {"body": "Yes: see below."}).status_code == 303
    assert [t.state for t in tasks_of(db, inquiry, "answer_patient")] == ["done"]


def test_an_empty_reply_is_refused(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    response = post(client, inquiry.id, "reply", {"body": "  \n "})
    assert response.status_code == 422
    reply_form = form_html(html_of(response), f"/inquiries/{inquiry.id}/reply")
    assert 'aria-invalid="true"' in reply_form and "This field is required." in reply_form
    assert mails(db, inquiry, "reply") == []
    assert [t.state for t in tasks_of(db, inquiry, "first_response")] == ["open"]


def test_a_patient_without_email_cannot_be_written_to(client, coordinator, factory, db):
    inquiry = factory.inquiry(email="", phone="+966 50 765 0000")
    assert mails(db, inquiry) == []  # no address: no acknowledgement either
    response = post(client, inquiry.id, "reply", {"body": "Hello"})
    assert response.status_code == 422
    reply_form = form_html(html_of(response), f"/inquiries/{inquiry.id}/reply")
    message = "This patient has no email address: add one on the patient's record first."
    assert str(escape(message)) in reply_form
    assert mails(db, inquiry) == []
    assert [t.state for t in tasks_of(db, inquiry, "first_response")] == ["open"]


# --- records --------------------------------------------------------------------------------------

def test_asking_for_records_shows_the_checklist_mails_it_and_waits_on_the_patient(client, coordinator,
                                                                                  factory, db):
    inquiry = factory.inquiry(preferred_language="en")
    response = post(client, inquiry.id, "records",
                    {"items": ["medical_summary", "lab_results"], "note": "Scans from 2024 please."})
    assert response.status_code == 303 and response.headers["Location"].endswith("#records")

    [mail] = mails(db, inquiry, "records_request")
    assert "- A recent medical summary or letter from your physician" in mail.body_text
    assert "- Laboratory results from the last six months" in mail.body_text
    assert "Imaging reports" not in mail.body_text and "Scans from 2024 please." in mail.body_text
    db.session.refresh(inquiry)
    assert inquiry.waiting_since is not None
    items = db.session.scalars(select(ChecklistItem).where(ChecklistItem.inquiry_id == inquiry.id)).all()
    assert sorted(i.item for i in items) == ["lab_results", "medical_summary"]
    assert all(i.received_at is None and i.requested_by_id == coordinator.id for i in items)

    page = html_of(client.get(f"/inquiries/{inquiry.id}"))
    records = page[page.index('id="records"'):]
    assert "A recent medical summary or letter from your physician — missing" in records
    assert "Laboratory results from the last six months — missing" in records
    assert "Waiting on the patient since" in records
    for item in items:
        assert f'action="/inquiries/{inquiry.id}/records/{item.id}/received"' in records


def test_asking_for_records_pauses_the_other_clocks_until_the_patient_answers(client, coordinator,
                                                                           factory, db, app):
    inquiry = factory.inquiry()
    for stage in ("intake", "records"):
        pipeline.transition_inquiry(inquiry, stage, actor=coordinator, expected_version=inquiry.version)
        db.session.commit()
    now = utcnow()
    stalled = Task(inquiry_id=inquiry.id, kind="stalled_case", state="open", created_at=now,
                   due_at=now + timedelta(days=3), assignee_id=coordinator.id)
    db.session.add(stalled)
    db.session.commit()

    assert post(client, inquiry.id, "records", {"items": ["pathology"]}).status_code == 303
    [stalled] = tasks_of(db, inquiry, "stalled_case")
    [chase] = tasks_of(db, inquiry, "records_chase")
    assert stalled.state == "open" and stalled.paused_at is not None
    assert chase.state == "open" and chase.paused_at is None  # the chase runs while we wait
    assert [t.state for t in tasks_of(db, inquiry, "first_response")] == ["done"]
    assert db.session.get(Inquiry, inquiry.id).waiting_since is not None

    # the patient answers from their page: the clock runs again
    [mail] = mails(db, inquiry, "records_request")
    token = PORTAL_PATH.search(mail.body_text).group(1)
    patient = app.test_client()
    page = patient.get(f"/p/{token}")
    assert patient.post(f"/p/{token}/reply", data={"csrf_token": csrf_from(page),
                                                   "body": "I will send it tomorrow"}).status_code == 303
    [stalled] = tasks_of(db, inquiry, "stalled_case")
    assert stalled.paused_at is None and stalled.state == "open"
    assert db.session.get(Inquiry, inquiry.id).waiting_since is None


def test_asking_for_nothing_is_refused(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    response = post(client, inquiry.id, "records", {"note": "just a note"})
    assert response.status_code == 422
    assert "Choose at least one record to ask for." in html_of(response)
    assert mails(db, inquiry, "records_request") == []
    db.session.refresh(inquiry)
    assert inquiry.waiting_since is None


def test_marking_a_record_received(client, coordinator, factory, db):
    inquiry = factory.inquiry(preferred_language="en")
    assert post(client, inquiry.id, "records", {"items": ["pathology", "passport"]}).status_code == 303
    items = {i.item: i for i in db.session.scalars(
        select(ChecklistItem).where(ChecklistItem.inquiry_id == inquiry.id))}
    response = post(client, inquiry.id, f"records/{items['passport'].id}/received", {})
    assert response.status_code == 303 and response.headers["Location"].endswith("#records")
    db.session.expire_all()
    assert db.session.get(ChecklistItem, items["passport"].id).received_at is not None
    assert db.session.get(ChecklistItem, items["pathology"].id).received_at is None
    page = html_of(client.get(f"/inquiries/{inquiry.id}"))
    assert "Marked as received." in page
    assert "The photo page of your passport — received" in page
    assert "Pathology or biopsy reports — missing" in page
    assert f"records/{items['passport'].id}/received" not in page


def test_marking_an_unknown_record_received_changes_nothing(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    other = factory.inquiry()
    assert post(client, other.id, "records", {"items": ["passport"]}).status_code == 303
    item = db.session.scalars(select(ChecklistItem).where(ChecklistItem.inquiry_id == other.id)).one()
    response = post(client, inquiry.id, f"records/{item.id}/received", {})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ChecklistItem, item.id).received_at is None
    assert "Choose one of the records on the checklist." in html_of(client.get(f"/inquiries/{inquiry.id}"))


# --- appointment and travel ---------------------------------------------------------------------

def test_the_appointment_gives_the_time_in_boston_and_in_the_patients_zone(client, coordinator,
                                                                           factory, db):
    inquiry = factory.inquiry(preferred_language="ar")  # Asia/Riyadh
    response = post(client, inquiry.id, "appointment", {
        "date": "2030-03-14", "time": "09:30", "location": "Heart Center, 55 Fruit Street",
        "clinician": "Dr. Adams", "note": ""})
    assert response.status_code == 303
    [mail] = mails(db, inquiry, "appointment")
    boston = datetime(2030, 3, 14, 9, 30, tzinfo=ZoneInfo("America/New_York"))  # 13:30 UTC (EDT)
    riyadh = boston.astimezone(ZoneInfo("Asia/Riyadh"))                         # 16:30
    assert riyadh.hour == 16 and riyadh.minute == 30
    assert format_datetime(boston, "full", locale="ar") in mail.body_text
    assert format_datetime(riyadh, "full", locale="ar") in mail.body_text
    assert "Heart Center, 55 Fruit Street" in mail.body_text and "Dr. Adams" in mail.body_text
    assert '<html lang="ar" dir="rtl">' in mail.body_html


def test_an_english_appointment_reads_naturally(client, coordinator, factory, db):
    inquiry = factory.inquiry(preferred_language="en", timezone="Asia/Riyadh")
    assert post(client, inquiry.id, "appointment", {
        "date": "2030-03-14", "time": "09:30", "location": "Heart Center"}).status_code == 303
    [mail] = mails(db, inquiry, "appointment")
    text = mail.body_text.replace("\u202f", " ")
    assert re.search(r"Thursday, March 14, 2030.* 9:30:00 AM Eastern Daylight Time", text)
    assert re.search(r"4:30:00 PM (Arabian Standard Time|GMT\+03:00)", text)


@pytest.mark.parametrize("fields, error", [
    ({"date": "", "time": "09:30", "location": "Heart Center"}, "Give the date and the time"),
    ({"date": "2030-03-14", "time": "09:30", "location": "  "}, "Say where the appointment is."),
])
def test_an_incomplete_appointment_is_refused(client, coordinator, factory, db, fields, error):
    inquiry = factory.inquiry()
    response = post(client, inquiry.id, "appointment", fields)
    assert response.status_code == 422 and error in html_of(response)
    assert mails(db, inquiry, "appointment") == []


def test_travel_details_are_sent(client, coordinator, factory, db):
    inquiry = factory.inquiry(preferred_language="en")
    response = post(client, inquiry.id, "travel", {
        "visa_letter": "Sent by courier on 2 March", "lodging": "Hotel near the hospital",
        "airport_pickup": "", "arrival": "", "interpreter": "Arabic, all visits", "note": ""})
    assert response.status_code == 303
    [mail] = mails(db, inquiry, "travel")
    assert "Visa invitation letter: Sent by courier on 2 March" in mail.body_text
    assert "Lodging: Hotel near the hospital" in mail.body_text
    assert "Interpreter: Arabic, all visits" in mail.body_text
    assert "Airport pickup" not in mail.body_text and "Arrival:" not in mail.body_text


def test_travel_with_nothing_filled_in_is_refused(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    response = post(client, inquiry.id, "travel", {
        "visa_letter": "", "arrival": " ", "lodging": "", "airport_pickup": "", "interpreter": "",
        "note": ""})
    assert response.status_code == 422
    assert "Fill in at least one travel detail." in html_of(response)
    assert mails(db, inquiry, "travel") == []


# --- a new portal link --------------------------------------------------------------------------

def test_a_new_portal_link_replaces_the_old_one(client, coordinator, factory, db, app):
    inquiry = factory.inquiry()
    [ack] = mails(db, inquiry, "acknowledgement")
    old = PORTAL_PATH.search(ack.body_text).group(1)
    patient = app.test_client()
    assert patient.get(f"/p/{old}").status_code == 200
    response = post(client, inquiry.id, "portal-link", {})
    assert response.status_code == 303
    [mail] = mails(db, inquiry, "portal_link")
    new = PORTAL_PATH.search(mail.body_text).group(1)
    assert new != old
    assert patient.get(f"/p/{old}").status_code == 404
    assert patient.get(f"/p/{new}").status_code == 200
    assert "the earlier links no longer work" in html_of(client.get(f"/inquiries/{inquiry.id}"))


# --- who may -----------------------------------------------------------------------------------

ROUTES = {
    "reply": {"body": "Hello"},
    "records": {"items": ["passport"]},
    "appointment": {"date": "2030-03-14", "time": "09:30", "location": "Heart Center"},
    "travel": {"lodging": "Hotel"},
    "portal-link": {},
    "records/{item}/received": {},
}


@pytest.mark.parametrize("route", ROUTES)
def test_a_coordinator_of_another_center_gets_404_and_nothing_is_sent(client, auth, factory, db, route):
    owner = factory.user(centers=("cardiology",))
    inquiry = factory.inquiry()
    [item] = conversation.request_records(inquiry, ["passport"], actor=owner)
    db.session.commit()
    before = Counter(m.kind for m in mails(db, inquiry))
    auth.login(factory.user(centers=("neurology",)))
    board = client.get("/inquiries/board")
    response = client.post(f"/inquiries/{inquiry.id}/{route.format(item=item.id)}",
                           data={"csrf_token": csrf_from(board), **ROUTES[route]})
    assert response.status_code == 404
    assert Counter(m.kind for m in mails(db, inquiry)) == before
    db.session.expire_all()
    assert db.session.get(ChecklistItem, item.id).received_at is None


def test_a_document_of_another_case_is_not_served(client, coordinator, factory, db):
    inquiry = factory.inquiry()
    assert client.get(f"/inquiries/{inquiry.id}/documents/999999").status_code == 404


@pytest.mark.parametrize("route", ROUTES)
def test_a_post_without_csrf_token_is_refused(client, coordinator, factory, db, route):
    inquiry = factory.inquiry()
    [item] = conversation.request_records(inquiry, ["passport"], actor=coordinator)
    db.session.commit()
    before = Counter(m.kind for m in mails(db, inquiry))
    response = post(client, inquiry.id, route.format(item=item.id), ROUTES[route], csrf=False)
    assert response.status_code == 400
    assert "This form has expired" in html_of(response)
    assert Counter(m.kind for m in mails(db, inquiry)) == before
    assert db.session.get(ChecklistItem, item.id).received_at is None


# --- the page itself ----------------------------------------------------------------------------

@pytest.mark.parametrize("path, fields", [
    ("", {"reply_body", "note_body", "move_note"}),
    # the forms with pages of their own
    ("/records", {"records_note"}),
    ("/appointment", {"appointment_note", "date", "location"}),
    ("/travel", {"travel_note", "lodging"}),
])
def test_every_label_of_the_case_page_points_at_one_field(client, coordinator, factory, db, path, fields):
    inquiry = factory.inquiry()
    response = client.get(f"/inquiries/{inquiry.id}{path}")
    assert response.status_code == 200
    html = html_of(response)
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    labelled = set(re.findall(r'<label[^>]*\sfor="([^"]+)"', html))
    assert labelled >= fields
    assert {name: ids[name] for name in labelled if ids[name] != 1} == {}


def test_a_refused_reply_stays_in_the_reply_field_only(client, coordinator, factory, db):
    inquiry = factory.inquiry(email="", phone="+966 50 765 0001")
    text = "Private words for the patient"
    response = post(client, inquiry.id, "reply", {"body": text})
    assert response.status_code == 422
    html = html_of(response)
    assert text in form_html(html, f"/inquiries/{inquiry.id}/reply")
    assert text not in form_html(html, f"/inquiries/{inquiry.id}/notes")
