"""``crm mail poll`` reads a real IMAP server (Dovecot on loopback) and never takes a message twice."""
import json

import sqlalchemy as sa

from crm.models import Document, Inquiry, Message
from crm.services import mailbox
from tests import mail_samples as samples


def test_poll_takes_each_message_once_and_marks_it(db, app, imap_mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "IMAP_URL", imap_mailbox.url)
    first = imap_mailbox.deliver(samples.arabic_windows_1256_with_pdf())
    second = imap_mailbox.deliver(samples.plain(message_id="<p2@example.org>"))
    summary = mailbox.poll_imap()
    assert summary.as_dict()["created"] == 2
    flags = imap_mailbox.flags()
    assert {mailbox.TAKEN_FLAG, "\\Seen"} <= flags[first] and {mailbox.TAKEN_FLAG, "\\Seen"} <= flags[second]
    assert sum(mailbox.poll_imap().counts.values()) == 0  # nothing taken twice
    inquiry = db.session.scalars(sa.select(Inquiry).join(Inquiry.patient)
                                 .where(Inquiry.source == "email").order_by(Inquiry.id)).first()
    assert db.session.scalar(sa.select(Document.filename).where(Document.inquiry_id == inquiry.id)) \
        == samples.ARABIC_FILENAME


def test_a_message_taken_but_not_marked_is_a_duplicate_next_time(db, app, imap_mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "IMAP_URL", imap_mailbox.url)
    raw = samples.plain(message_id="<again@example.org>")
    assert mailbox.ingest(raw, source="file") == "created"
    db.session.commit()
    imap_mailbox.deliver(raw)  # e.g. the poller died between its commit and the flag
    assert mailbox.poll_imap().as_dict()["duplicates"] == 1
    assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.direction == "in")) == 1


def test_crm_mail_poll_prints_the_summary(db, app, runner, imap_mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "IMAP_URL", imap_mailbox.url)
    imap_mailbox.deliver(samples.russian_koi8r())
    result = runner.invoke(args=["mail", "poll"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["created"] == 1


def test_a_wrong_password_is_a_clear_error(db, app, runner, imap_mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "IMAP_URL", imap_mailbox.url.replace("intake-pass", "wrong"))
    result = runner.invoke(args=["mail", "poll"])
    assert result.exit_code == 1 and "could not be read" in result.output
