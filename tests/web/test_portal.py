"""The patient portal ``/p/<token>``: the link from the mail, the patient's language, dead links,
replies, uploads and the records checklist, a fresh link, the rate limit."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from crm.extensions import db as _db
from crm.extensions import limiter
from crm.models import ChecklistItem, Document, Message, OutboundMail, PortalLink, Task
from crm.models.base import utcnow
from crm.services import conversation, pipeline
from crm.services.portal_links import resolve
from tests.conftest import AuthActions, Factory, csrf_from

PORTAL_PATH = re.compile(r"/p/([A-Za-z0-9_.\-]+)")
STORAGE_NAME = re.compile(r"[0-9a-f]{32}")


def minimal_pdf() -> bytes:
    """A small but valid one-page PDF: header, catalog, pages, page, a correct xref, trailer."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << >> >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


PDF = minimal_pdf()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
MB = 1024 * 1024
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with clean rate-limit counters (the portal's limit is per minute, the
    new-link form's per hour: the whole suite would otherwise run into them)."""
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def staff(app, db):
    """A second browser, for the coordinator: the patient's one never signs in."""
    return app.test_client()


@pytest.fixture
def coordinator(factory, staff):
    user = factory.user(centers=("cardiology",))
    AuthActions(staff).login(user)
    return user


def link_from_mail(db, inquiry, kind="acknowledgement") -> str:
    """The portal token of the newest mail of ``kind`` to the patient, as they would click it."""
    mail = db.session.scalars(select(OutboundMail).where(
        OutboundMail.inquiry_id == inquiry.id, OutboundMail.kind == kind)
        .order_by(OutboundMail.id.desc())).first()
    assert mail is not None, f"no {kind} mail"
    assert "http://127.0.0.1:5000/p/" in mail.body_text
    return PORTAL_PATH.search(mail.body_text).group(1)


def link_row(token) -> PortalLink:
    return resolve(token)[1]


def translated(language: str, msgid: str, **variables) -> str:
    """``msgid`` as the catalog of ``language`` has it (the English text while it lacks it)."""
    with force_locale(language):
        return str(_l(msgid, **variables))


def upload(client, token, data, filename, item="other"):
    """Send a file from the portal page, as its form does."""
    page = client.get(f"/p/{token}")
    assert page.status_code == 200
    return client.post(f"/p/{token}/upload", data={
        "csrf_token": csrf_from(page), "item": item, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data")


def portal_documents(db, inquiry) -> list[Document]:
    db.session.expire_all()
    return list(db.session.scalars(select(Document).where(Document.inquiry_id == inquiry.id,
                                                          Document.source == "portal")))


def html_of(response) -> str:
    return response.get_data(as_text=True)


def tasks_of(db, inquiry, kind) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Task.state).where(Task.inquiry_id == inquiry.id,
                                                            Task.kind == kind).order_by(Task.id)))


# --- opening the link ---------------------------------------------------------------------------

def test_the_link_in_the_acknowledgement_opens_the_portal_in_arabic(client, factory, db):
    inquiry = factory.inquiry(preferred_language="ar", given_name="ليلى")
    page = client.get(f"/p/{link_from_mail(db, inquiry)}")
    assert page.status_code == 200
    html = html_of(page)
    assert '<html lang="ar" dir="rtl">' in html
    assert inquiry.reference in html and "ليلى" in html
    assert str(escape(translated("ar", "Where your request stands"))) in html
    assert 'rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.rtl.min.css' in html


def test_a_spanish_patient_gets_the_portal_in_spanish(client, factory, db):
    inquiry = factory.inquiry(preferred_language="es", given_name="Lucía", country="CO",
                              timezone="America/Bogota")
    page = client.get(f"/p/{link_from_mail(db, inquiry)}")
    assert page.status_code == 200
    html = html_of(page)
    assert '<html lang="es" dir="ltr">' in html and inquiry.reference in html and "Lucía" in html
    assert str(escape(translated("es", "Where your request stands"))) in html


def test_lang_switches_the_portal_and_is_remembered(client, factory, db):
    token = link_from_mail(db, factory.inquiry(preferred_language="ar"))
    assert '<html lang="fr" dir="ltr">' in html_of(client.get(f"/p/{token}?lang=fr"))
    assert '<html lang="fr" dir="ltr">' in html_of(client.get(f"/p/{token}"))
    # another browser (no choice made) still gets the patient's language
    other = client.application.test_client()
    assert '<html lang="ar" dir="rtl">' in html_of(other.get(f"/p/{token}"))


def test_portal_pages_are_never_cached_nor_leak_the_link_as_referrer(client, factory, db):
    token = link_from_mail(db, factory.inquiry())
    for response in (client.get(f"/p/{token}"), client.get("/p/not-a-token")):
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert '<meta name="referrer" content="no-referrer">' in html_of(response)


def tampered(token: str) -> str:
    """One character of the signed payload changed (a middle one: every bit of it counts)."""
    position = 3
    swap = "B" if token[position] != "B" else "C"
    return token[:position] + swap + token[position + 1:]


@pytest.mark.parametrize("how", ["tampered", "random", "expired", "revoked"])
def test_a_bad_link_gets_the_same_404_page_offering_a_new_link(client, factory, db, how):
    inquiry = factory.inquiry(given_name="Samira", family_name="Khoury-Unique")
    token = link_from_mail(db, inquiry)
    if how == "tampered":
        token = tampered(token)
    elif how == "random":
        token = "x8Jd0aQ2-not.a-real_token"
    elif how == "expired":
        link_row(token).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    else:
        conversation.send_new_link(inquiry, actor=None)
        db.session.commit()
    response = client.get(f"/p/{token}")
    assert response.status_code == 404
    html = html_of(response)
    assert "This link no longer works" in html
    assert 'action="/p/new-link"' in html and 'name="email"' in html
    for secret in ("Samira", "Khoury-Unique", inquiry.reference, inquiry.patient.email):
        assert secret not in html
    # the same page whatever the reason: only the echoed token and the CSRF token differ
    baseline = client.get("/p/zzzz")
    assert normalized(html, token) == normalized(html_of(baseline), "zzzz")


def normalized(html: str, token: str) -> str:
    html = html.replace(token, "TOKEN")  # echoed in the form and the language links
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]+"', 'name="csrf_token" value=""', html)


def test_a_revoked_link_stops_working_and_the_new_one_works(client, factory, db):
    inquiry = factory.inquiry()
    old = link_from_mail(db, inquiry)
    assert client.get(f"/p/{old}").status_code == 200
    coordinator = factory.user(centers=("cardiology",))
    conversation.send_new_link(inquiry, actor=coordinator)
    db.session.commit()
    new = link_from_mail(db, inquiry, kind="portal_link")
    assert new != old
    response = client.get(f"/p/{old}")
    assert response.status_code == 404 and inquiry.reference not in html_of(response)
    assert client.get(f"/p/{new}").status_code == 200


# --- replying -----------------------------------------------------------------------------------

def test_a_reply_shows_on_the_portal_and_on_the_case_and_asks_a_coordinator_to_answer(
        client, staff, coordinator, factory, db):
    inquiry = factory.inquiry()
    token = link_from_mail(db, inquiry)
    page = client.get(f"/p/{token}")
    text = "هل يمكنني إحضار ابنتي معي؟"
    response = client.post(f"/p/{token}/reply", data={"csrf_token": csrf_from(page), "body": text})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/p/{token}#thread")
    portal = html_of(client.get(f"/p/{token}"))
    assert text in portal
    message = db.session.scalars(select(Message).where(Message.inquiry_id == inquiry.id,
                                                       Message.direction == "in")).one()
    assert message.channel == "portal" and message.kind == "portal_reply" and message.language == "ar"
    case = html_of(staff.get(f"/inquiries/{inquiry.id}"))
    assert text in case
    task = db.session.scalars(select(Task).where(Task.inquiry_id == inquiry.id,
                                                 Task.kind == "answer_patient")).one()
    assert task.state == "open" and task.due_at > message.created_at


def test_an_empty_reply_is_refused_with_a_message(client, factory, db):
    inquiry = factory.inquiry(preferred_language="en")
    token = link_from_mail(db, inquiry)
    page = client.get(f"/p/{token}")
    response = client.post(f"/p/{token}/reply", data={"csrf_token": csrf_from(page), "body": "   "})
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="body-error"' in html and "Write your message first." in html
    assert db.session.scalar(select(func.count(Message.id)).where(
        Message.inquiry_id == inquiry.id, Message.direction == "in")) == 0


# --- uploading ----------------------------------------------------------------------------------

def test_an_uploaded_pdf_is_stored_privately_and_the_coordinator_downloads_it(
        client, staff, coordinator, factory, db, app):
    inquiry = factory.inquiry()
    token = link_from_mail(db, inquiry)
    response = upload(client, token, PDF, "تقرير القلب.pdf")
    assert response.status_code == 303 and response.headers["Location"].endswith("#records")
    [document] = portal_documents(db, inquiry)
    assert document.filename == "تقرير القلب.pdf" and document.content_type == "application/pdf"
    assert document.size == len(PDF) and document.source == "portal"
    assert STORAGE_NAME.fullmatch(document.storage_name)
    stored = Path(app.config["UPLOAD_DIR"]) / document.storage_name
    assert PDF not in stored.read_bytes()  # encrypted at rest
    assert not list(Path(app.config["UPLOAD_DIR"]).rglob("*.pdf"))
    assert "تقرير القلب.pdf" in html_of(client.get(f"/p/{token}"))

    case = html_of(staff.get(f"/inquiries/{inquiry.id}"))
    href = f"/inquiries/{inquiry.id}/documents/{document.id}"
    assert f'href="{href}"' in case and "تقرير القلب.pdf" in case
    download = staff.get(href)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "application/pdf"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["Cache-Control"] == "no-store"

    anonymous = app.test_client().get(href)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    outsider = app.test_client()
    AuthActions(outsider).login(factory.user(centers=("neurology",)))
    assert outsider.get(href).status_code == 404


def test_uploads_for_the_checklist_tick_it_off_and_the_last_one_ends_the_chase(
        client, staff, coordinator, factory, db):
    inquiry = factory.inquiry(preferred_language="en")
    for stage in ("intake", "records"):
        pipeline.transition_inquiry(inquiry, stage, actor=coordinator, expected_version=inquiry.version)
        db.session.commit()
    conversation.request_records(inquiry, ["medical_summary", "lab_results"], actor=coordinator)
    db.session.commit()
    token = link_from_mail(db, inquiry, kind="records_request")
    items = {i.item: i.id for i in db.session.scalars(
        select(ChecklistItem).where(ChecklistItem.inquiry_id == inquiry.id))}
    page = html_of(client.get(f"/p/{token}"))
    assert f'<option value="{items["lab_results"]}">' in page and "still needed" in page

    assert upload(client, token, PDF, "labs.pdf", item=str(items["lab_results"])).status_code == 303
    db.session.expire_all()
    lab = db.session.get(ChecklistItem, items["lab_results"])
    assert lab.received_at is not None
    assert db.session.get(ChecklistItem, items["medical_summary"]).received_at is None
    assert tasks_of(db, inquiry, "records_chase") == ["open"]
    assert tasks_of(db, inquiry, "review_records") == []

    assert upload(client, token, PDF, "summary.pdf", item=str(items["medical_summary"])).status_code == 303
    assert tasks_of(db, inquiry, "records_chase") == ["done"]
    assert tasks_of(db, inquiry, "review_records") == ["open"]
    documents = {d.filename: d.checklist_item_id for d in portal_documents(db, inquiry)}
    assert documents == {"labs.pdf": items["lab_results"], "summary.pdf": items["medical_summary"]}
    records = html_of(staff.get(f"/inquiries/{inquiry.id}"))
    assert "Mark received" not in records


WRONG_TYPE = "This type of file cannot be accepted. Send PDF, JPEG, PNG or DICOM files, or a ZIP of them."
BAD_NAME = "This file name contains characters that cannot be accepted. Rename the file and send it again."
TOO_LARGE = "This file is larger than %(max)s MB. Send it in parts, or as a ZIP."
REFUSED = {
    "exe": (EXE, "setup.exe", WRONG_TYPE),
    "html named pdf": (HTML, "x.pdf", WRONG_TYPE),
    "path in name": (PDF, "../../etc/passwd.pdf", BAD_NAME),
    "over the limit": (b"%PDF-1.4\n" + b"0" * MB, "big.pdf", TOO_LARGE),
}


@pytest.fixture
def one_megabyte_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)


@pytest.mark.parametrize("case", REFUSED)
def test_refused_uploads_get_a_message_in_the_patients_language_and_store_nothing(
        client, factory, db, app, one_megabyte_limit, case):
    data, filename, msgid = REFUSED[case]
    inquiry = factory.inquiry(preferred_language="ar")
    token = link_from_mail(db, inquiry)
    files_before = set(Path(app.config["UPLOAD_DIR"]).iterdir())
    response = upload(client, token, data, filename)
    assert response.status_code == 422
    html = html_of(response)
    assert '<html lang="ar" dir="rtl">' in html and 'id="file-error"' in html
    expected = translated("ar", msgid, max=1)
    assert str(escape(expected)) in html
    english = str(_l(msgid, max=1))
    if expected != english:
        assert str(escape(english)) not in html
    assert portal_documents(db, inquiry) == []
    assert set(Path(app.config["UPLOAD_DIR"]).iterdir()) == files_before
    assert db.session.scalar(select(func.count(Message.id)).where(
        Message.inquiry_id == inquiry.id, Message.direction == "in")) == 0


def test_a_request_far_over_the_limit_gets_413_in_the_patients_language(
        client, factory, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 3 * MB)  # what create_app sets for 1 MB
    inquiry = factory.inquiry(preferred_language="ar")
    token = link_from_mail(db, inquiry)
    files_before = set(Path(app.config["UPLOAD_DIR"]).iterdir())
    response = upload(client, token, b"%PDF-1.4\n" + b"0" * (4 * MB), "huge.pdf")
    assert response.status_code == 413
    html = html_of(response)
    assert '<html lang="ar" dir="rtl">' in html and 'id="file-error"' in html
    assert str(escape(translated("ar", TOO_LARGE, max=1))) in html
    assert portal_documents(db, inquiry) == []
    assert set(Path(app.config["UPLOAD_DIR"]).iterdir()) == files_before


def test_an_empty_file_is_refused_and_nothing_is_stored(client, factory, db, app):
    inquiry = factory.inquiry(preferred_language="ar")
    token = link_from_mail(db, inquiry)
    files_before = set(Path(app.config["UPLOAD_DIR"]).iterdir())
    response = upload(client, token, b"", "empty.pdf")
    assert response.status_code == 422
    html = html_of(response)
    assert '<html lang="ar" dir="rtl">' in html and 'id="file-error"' in html
    assert portal_documents(db, inquiry) == []
    assert set(Path(app.config["UPLOAD_DIR"]).iterdir()) == files_before


def test_an_empty_file_is_called_empty_not_missing(client, factory, db):
    inquiry = factory.inquiry(preferred_language="en")
    response = upload(client, link_from_mail(db, inquiry), b"", "empty.pdf")
    assert "This file is empty. Check the file and send it again." in html_of(response)


# --- a fresh link -------------------------------------------------------------------------------

def test_the_new_link_form_answers_the_same_whatever_the_email(client, factory, db):
    inquiry = factory.inquiry(email="rightful@example.com")
    token = link_from_mail(db, inquiry)
    link_row(token).expires_at = utcnow() - timedelta(days=1)
    db.session.commit()

    def ask(email):
        page = client.get(f"/p/{token}")
        assert page.status_code == 404
        assert f'name="token" value="{token}"' in html_of(page)
        return client.post("/p/new-link", data={"csrf_token": csrf_from(page), "email": email,
                                                "token": token})

    def links_mailed():
        return db.session.scalar(select(func.count(OutboundMail.id)).where(
            OutboundMail.inquiry_id == inquiry.id, OutboundMail.kind == "portal_link"))

    wrong = ask("someone.else@example.com")
    assert wrong.status_code == 200 and links_mailed() == 0
    right = ask("Rightful@Example.com")
    assert right.status_code == 200 and links_mailed() == 1
    assert wrong.data == right.data
    assert "Check your email" in html_of(right) and inquiry.reference not in html_of(right)
    fresh = link_from_mail(db, inquiry, kind="portal_link")
    assert client.get(f"/p/{fresh}").status_code == 200


def test_the_new_link_form_finds_the_case_by_email_without_a_token(client, factory, db):
    inquiry = factory.inquiry(email="tokenless@example.com")
    page = client.get("/p/lost")
    response = client.post("/p/new-link", data={"csrf_token": csrf_from(page),
                                                "email": "tokenless@example.com", "token": ""})
    assert response.status_code == 200
    assert client.get(f"/p/{link_from_mail(db, inquiry, kind='portal_link')}").status_code == 200


# --- rate limit ---------------------------------------------------------------------------------

def test_portal_pages_are_rate_limited(fresh_app):
    app = fresh_app(PORTAL_RATE_LIMIT="3 per minute")
    with app.app_context():
        inquiry = Factory(_db).inquiry()
        mail = _db.session.scalars(select(OutboundMail).where(OutboundMail.inquiry_id == inquiry.id)).one()
        token = PORTAL_PATH.search(mail.body_text).group(1)
    client = app.test_client()
    statuses = [client.get(f"/p/{token}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]

