"""Mail in: new inquiries, threads, duplicates, automatic mail, bounces, the quarantine."""
import json
import re

import sqlalchemy as sa

from crm.models import Document, InboundMail, Inquiry, Message, OutboundMail, Patient, Task
from crm.services import mailbox
from tests import mail_samples as samples


def ingest(raw, source="file"):
    outcome = mailbox.ingest(raw, source=source)
    from crm.extensions import db
    db.session.commit()
    return outcome


def only(db, model, *where):
    return db.session.scalars(sa.select(model).where(*where)).one()


def test_an_arabic_email_with_a_pdf_becomes_an_inquiry_with_the_pdf(db, app, factory):
    factory.user(centers=("cardiology",), languages=("ar",), name="Nadia")
    assert ingest(samples.arabic_windows_1256_with_pdf()) == "created"
    inquiry = only(db, Inquiry, Inquiry.source == "email")
    assert inquiry.patient.email == "m.alotaibi@example.sa"
    assert inquiry.patient.preferred_language == "ar"  # guessed from the text
    assert inquiry.center.key == "cardiology" and inquiry.coordinator.name == "Nadia"
    [document] = db.session.scalars(sa.select(Document).where(Document.inquiry_id == inquiry.id)).all()
    assert (document.filename, document.content_type) == (samples.ARABIC_FILENAME, "application/pdf")
    assert (app.config["UPLOAD_DIR"] and document.storage_name != document.filename)
    ack = only(db, OutboundMail, OutboundMail.inquiry_id == inquiry.id)
    assert ack.kind == "acknowledgement" and ack.language == "ar"
    assert 'dir="rtl"' in ack.body_html and "/p/" in ack.body_text
    kinds = [m.kind for m in db.session.scalars(sa.select(Message).where(Message.inquiry_id == inquiry.id))]
    assert kinds == ["email", "acknowledgement"]
    record = only(db, InboundMail, InboundMail.inquiry_id == inquiry.id)
    assert record.raw == samples.arabic_windows_1256_with_pdf()  # the message, kept whole


def test_the_same_message_id_twice_changes_nothing(db):
    raw = samples.plain(message_id="<twice@example.org>")
    assert ingest(raw) == "created"
    counts = [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Inquiry, Message, OutboundMail)]
    assert ingest(raw) == "duplicate"
    assert ingest(samples.plain(message_id="<twice@example.org>", body="changed")) == "duplicate"
    assert counts == [db.session.scalar(sa.select(sa.func.count()).select_from(m))
                      for m in (Inquiry, Message, OutboundMail)]


def test_a_reply_lands_in_its_thread_by_the_reply_address(db):
    ingest(samples.plain(sender="Ana <ana@example.org>", message_id="<first@example.org>"))
    inquiry = only(db, Inquiry)
    ack = only(db, OutboundMail)
    # written from another address, to the reply address of our acknowledgement
    raw = samples.plain(sender="Hija de Ana <hija@example.net>", to=ack.reply_to,
                        subject="Re: algo", body="Gracias, envío los estudios.", message_id="<r1@example.net>")
    assert ingest(raw) == "threaded"
    assert db.session.scalar(sa.select(sa.func.count(Inquiry.id))) == 1
    reply = only(db, Message, Message.message_id == "<r1@example.net>")
    assert reply.inquiry_id == inquiry.id and reply.direction == "in"
    assert db.session.scalar(sa.select(Task.id).where(Task.inquiry_id == inquiry.id,
                                                      Task.kind == "answer_patient", Task.state == "open"))


def test_a_reply_threads_by_in_reply_to_and_a_forged_token_does_not(db):
    ingest(samples.plain(sender="Ana <ana@example.org>", message_id="<first@example.org>"))
    ack = only(db, OutboundMail)
    assert ingest(samples.plain(sender="Otro <otro@example.com>", in_reply_to=ack.message_id,
                                message_id="<r2@example.com>")) == "threaded"
    forged = re.sub(r"ITN-(\d+)\.[0-9a-f]+", r"ITN-\1.0000000000", ack.reply_to)
    assert ingest(samples.plain(sender="Nadie <nadie@example.com>", to=forged,
                                message_id="<r3@example.com>")) == "created"


def test_a_known_sender_writing_anew_joins_their_open_inquiry(db):
    ingest(samples.plain(sender="Ana <ana@example.org>", message_id="<one@example.org>"))
    assert ingest(samples.plain(sender="Ana <ANA@example.org>", message_id="<two@example.org>",
                                subject="Otra pregunta")) == "threaded"
    assert db.session.scalar(sa.select(sa.func.count(Inquiry.id))) == 1


def test_auto_replies_are_recorded_on_the_case_and_answered_by_nothing(db):
    ingest(samples.plain(sender="Ana Pérez <ana.perez@example.org>", message_id="<one@example.org>"))
    ack = only(db, OutboundMail)
    assert ingest(samples.auto_reply(in_reply_to=ack.message_id)) == "ignored"
    assert ingest(samples.auto_reply_precedence(in_reply_to="<unknown@x>",
                                                sender="Stranger <s@example.com>")) == "ignored"
    assert db.session.scalar(sa.select(sa.func.count(Inquiry.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(OutboundMail.id))) == 1  # no answer to a robot
    assert only(db, Message, Message.kind == "auto_reply").inquiry_id == ack.inquiry_id


def test_a_bounce_flags_the_address_and_opens_nothing(db):
    ingest(samples.plain(sender="Ana Pérez <ana.perez@example.org>", message_id="<one@example.org>"))
    ack = only(db, OutboundMail)
    assert ingest(samples.bounce(original_message_id=ack.message_id,
                                 recipient="ana.perez@example.org")) == "ignored"
    patient = only(db, Patient)
    assert patient.email_bounced_at is not None
    assert only(db, Message, Message.kind == "bounce").inquiry_id == ack.inquiry_id
    assert db.session.scalar(sa.select(sa.func.count(Inquiry.id))) == 1


def test_unreadable_mail_waits_in_the_quarantine_whole(db):
    for raw in (samples.garbage(), samples.headers_only_broken()):
        assert ingest(raw) == "rejected"
    rows = db.session.scalars(sa.select(InboundMail).where(InboundMail.outcome == "rejected")).all()
    assert sorted(r.raw for r in rows) == sorted([samples.garbage(), samples.headers_only_broken()])
    assert all(r.reason for r in rows)
    assert db.session.scalar(sa.select(sa.func.count(Inquiry.id))) == 0


def test_every_sample_is_taken_without_a_crash_and_none_vanishes(db):
    all_raw = samples.all_samples()
    outcomes = {name: ingest(raw) for name, raw in all_raw.items()}
    assert set(outcomes.values()) <= {"created", "threaded", "duplicate", "ignored", "rejected"}
    stored = db.session.scalar(sa.select(sa.func.count(InboundMail.id)))
    assert stored == len(all_raw) - list(outcomes.values()).count("duplicate")


def test_crm_mail_ingest_reads_eml_mbox_and_maildir(db, runner, tmp_path):
    (tmp_path / "one.eml").write_bytes(samples.plain(message_id="<e1@x>"))
    (tmp_path / "box.mbox").write_bytes(samples.mbox([
        samples.russian_koi8r(message_id="<m1@x>"), samples.plain(message_id="<e1@x>"),
        samples.auto_reply(message_id="<m3@x>"), samples.garbage()]))
    samples.write_maildir(tmp_path / "Maildir", [samples.chinese_gb2312(message_id="<d1@x>")])
    result = runner.invoke(args=["mail", "ingest", str(tmp_path / "one.eml"), str(tmp_path / "box.mbox"),
                                 str(tmp_path / "Maildir")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary == {"created": 3, "threaded": 0, "duplicates": 1, "ignored": 1, "rejected": 1}
    languages = set(db.session.scalars(sa.select(Patient.preferred_language)))
    assert {"ru", "zh-Hans"} <= languages


def test_the_inbound_api_takes_one_raw_message(client, factory, db):
    from crm.services.users import create_api_token
    token = create_api_token(factory.user())
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    response = client.post("/api/v1/mail/inbound", data=samples.plain(message_id="<api@x>"), headers=headers)
    assert response.status_code == 202
    assert response.get_json() == {"created": 1, "threaded": 0, "duplicates": 0, "ignored": 0, "rejected": 0}
    again = client.post("/api/v1/mail/inbound", data=samples.plain(message_id="<api@x>"), headers=headers)
    assert again.get_json()["duplicates"] == 1
    wrong = client.post("/api/v1/mail/inbound", data=b"{}", headers={**headers, "Content-Type": "application/json"})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "validation_error"
    assert client.post("/api/v1/mail/inbound", data=b"x", headers={"Content-Type": "message/rfc822"}).status_code == 401


def test_an_attachment_of_a_refused_kind_is_named_on_the_thread_and_kept_in_the_raw_mail(db):
    from email.message import EmailMessage
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Ana <ana@example.org>", samples.CLINIC_ADDRESS, "Informe"
    msg["Message-ID"] = "<exe@example.org>"
    msg.set_content("Adjunto el informe.")
    msg.add_attachment(b"MZ" + b"\0" * 200, maintype="application", subtype="octet-stream", filename="informe.exe")
    msg.add_attachment(samples.MINIMAL_PDF, maintype="application", subtype="pdf", filename="informe.pdf")
    assert ingest(bytes(msg)) == "created"
    message = only(db, Message, Message.message_id == "<exe@example.org>")
    assert message.refused_attachments == ["informe.exe"]
    assert [d.filename for d in message.documents] == ["informe.pdf"]
    assert message.body_text.strip() == "Adjunto el informe."  # no text of ours in the patient's words
    assert b"informe.exe" in only(db, InboundMail, InboundMail.message_key == "<exe@example.org>").raw
