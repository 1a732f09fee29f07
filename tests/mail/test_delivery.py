"""Mail out: the outbox is delivered to a real SMTP server; an outage delays and loses nothing."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.models import OutboundMail
from crm.models.base import utcnow
from crm.services import outbox


@pytest.fixture
def smtp(app, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url)
    return smtp_server


def queued(db):
    return db.session.scalars(sa.select(OutboundMail).order_by(OutboundMail.id)).all()


def test_the_acknowledgement_reaches_the_patient_in_arabic(db, factory, smtp):
    factory.inquiry(given_name="ليلى", email="layla@example.sa", preferred_language="ar")
    assert outbox.deliver_due() == {"sent": 1, "retry": 0, "failed": 0}
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["layla@example.sa"]
    message = mail.message
    assert message["Content-Language"] == "ar" and message["Auto-Submitted"] == "auto-generated"
    assert "+ITN-" in message["Reply-To"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert 'dir="rtl"' in html and "ليلى" in text and "/p/" in text
    assert queued(db)[0].status == "sent"
    assert outbox.deliver_due() == {"sent": 0, "retry": 0, "failed": 0}  # nothing sent twice
    assert len(smtp.messages) == 1


def test_an_outage_delays_mail_and_loses_none(db, factory, smtp):
    factory.inquiry()
    smtp.stop()
    assert outbox.deliver_due()["retry"] == 1
    row = queued(db)[0]
    assert row.status == "queued" and row.attempts == 1 and row.next_attempt_at > utcnow()
    assert outbox.deliver_due()["retry"] == 0  # not due yet: backoff
    smtp.start()
    assert outbox.deliver_due(utcnow() + timedelta(minutes=2))["sent"] == 1
    assert len(smtp.messages) == 1


def test_a_temporary_refusal_is_retried_with_backoff(db, factory, smtp):
    factory.inquiry()
    smtp.fail_next(1, code=451)
    assert outbox.deliver_due()["retry"] == 1
    first = queued(db)[0].next_attempt_at
    smtp.fail_next(1, code=451)
    assert outbox.deliver_due(first + timedelta(seconds=1))["retry"] == 1
    second = queued(db)[0].next_attempt_at
    assert second - (first + timedelta(seconds=1)) > first - utcnow()  # the wait grows
    assert outbox.deliver_due(second + timedelta(seconds=1))["sent"] == 1
    assert len(smtp.messages) == 1


def test_a_permanent_refusal_fails_the_mail_and_flags_the_address(db, factory, smtp):
    inquiry = factory.inquiry()
    smtp.fail_next(1, code=550)
    assert outbox.deliver_due()["failed"] == 1
    assert queued(db)[0].status == "failed"
    assert inquiry.patient.email_bounced_at is not None


def test_after_the_last_attempt_the_mail_is_marked_failed(db, factory, smtp, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_MAX_ATTEMPTS", 2)
    factory.inquiry()
    smtp.stop()
    outbox.deliver_due()
    outbox.deliver_due(utcnow() + timedelta(hours=1))
    assert queued(db)[0].status == "failed"


def test_without_smtp_mail_goes_to_eml_files(db, factory, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", None)
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path))
    factory.inquiry(preferred_language="es")
    assert outbox.deliver_due()["sent"] == 1
    [path] = tmp_path.glob("*.eml")
    assert b"Content-Language: es" in path.read_bytes()


def test_mail_is_written_in_the_same_transaction_as_the_change(db, factory, smtp):
    from crm.services.errors import ValidationError
    inquiry = factory.inquiry()
    before = len(queued(db))
    coordinator = factory.user()
    with pytest.raises(ValidationError):
        from crm.services import conversation
        conversation.send_reply(inquiry, "", actor=coordinator)
    db.session.rollback()
    assert len(queued(db)) == before


def test_mail_in_the_patients_language_leaves_the_staff_pages_in_theirs(db, factory, client, auth):
    """Mail renders with its own catalog: an Arabic acknowledgement, then a Spanish one, never
    turn the coordinator's English pages into either."""
    coordinator = factory.user()
    factory.inquiry(preferred_language="ar")
    factory.inquiry(preferred_language="es")
    assert [m.language for m in queued(db)] == ["ar", "es"]
    assert "We have received" not in queued(db)[1].subject
    auth.login(coordinator)
    page = client.get("/tasks/").get_data(as_text=True)
    assert 'lang="en"' in page and "My tasks" in page
