"""A stored file lives and dies with the transaction of the row that points to it: nothing is left
on disk that no row points to, and a file whose row is committed is never removed."""
from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.models import Document, InboundMail
from crm.services import crypto, mailbox, uploads
from tests import mail_samples as samples

LIMIT = 5 * 1024 * 1024


def on_disk(app) -> set[str]:
    return {p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir()}


def put(app, name="report.pdf") -> str:
    return uploads.store(samples.MINIMAL_PDF, name, upload_dir=app.config["UPLOAD_DIR"],
                         max_bytes=LIMIT).storage_name


def refuse_inserts(db, table: str, *, when: str = "TRUE") -> None:
    """The database itself refuses new rows of ``table`` (those matching ``when``, on ``NEW``):
    a real failure that comes after the files are stored, when the rows are written."""
    if db.engine.dialect.name == "sqlite":
        condition = "" if when == "TRUE" else f" WHEN {when}"
        db.session.execute(sa.text(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table}{condition} "
                                   "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
    else:
        db.session.execute(sa.text(
            f"CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF {when} THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$"))
        db.session.execute(sa.text(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                                   f"FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"))
    db.session.commit()


# --- the session and its transactions ------------------------------------------------------------

def test_a_file_whose_transaction_rolls_back_is_removed(app, db):
    before = on_disk(app)
    name = put(app)
    assert name in on_disk(app)
    db.session.rollback()
    assert on_disk(app) == before


def test_a_file_whose_session_closes_without_committing_is_removed(app, db):
    before = on_disk(app)
    put(app)
    db.session.close()
    assert on_disk(app) == before


def test_a_savepoint_rolled_back_removes_its_own_files_only(app, db):
    outer = put(app)
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            inner = put(app)
            raise RuntimeError("this part of the work fails")
    assert outer in on_disk(app) and inner not in on_disk(app)
    with db.session.begin_nested():
        released = put(app)
    db.session.commit()
    assert {outer, released} <= on_disk(app)


def test_a_committed_file_is_never_removed_by_what_rolls_back_after(app, db):
    kept = put(app)
    db.session.commit()
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            put(app)
            raise RuntimeError("a later savepoint fails")
    put(app)
    db.session.rollback()
    db.session.close()
    assert kept in on_disk(app)


def test_the_files_of_a_released_savepoint_go_when_the_transaction_around_it_rolls_back(app, db):
    before = on_disk(app)
    with db.session.begin_nested():
        put(app)
        with db.session.begin_nested():
            put(app)
    assert len(on_disk(app) - before) == 2
    db.session.rollback()
    assert on_disk(app) == before


def test_outside_an_app_context_the_file_is_the_callers(tmp_path):
    keys = crypto.build_keyring({"ENV_NAME": "testing"})  # no app: the keys are given
    stored = uploads.store(samples.MINIMAL_PDF, "a.pdf", upload_dir=tmp_path, max_bytes=LIMIT, keys=keys)
    assert uploads.read_stored(tmp_path, stored.storage_name, keys=keys) == samples.MINIMAL_PDF


# --- mail ----------------------------------------------------------------------------------------

def mail_with_pdf(sender: str, message_id: str, subject: str = "Informe") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, samples.CLINIC_ADDRESS, subject
    msg["Message-ID"] = message_id
    msg.set_content("Adjunto el informe.")
    msg.add_attachment(samples.MINIMAL_PDF, maintype="application", subtype="pdf", filename="informe.pdf")
    return bytes(msg)


def test_a_mail_batch_that_fails_after_storing_attachments_leaves_only_the_files_of_what_was_kept(app, db):
    refuse_inserts(db, "messages", when="NEW.subject = 'refuse me'")
    before = on_disk(app)
    good = mail_with_pdf("Ana <ana@example.org>", "<kept@example.org>")
    bad = mail_with_pdf("Irina <irina@example.ru>", "<refused@example.ru>", subject="refuse me")
    # taken together first: the batch fails when its rows are written, after both attachments
    # were stored; then each is taken alone: Ana's is kept, Irina's goes to the quarantine
    summary = mailbox.ingest_all([good, bad], source="file")
    assert summary.as_dict()["created"] == 1 and summary.as_dict()["rejected"] == 1
    documents = db.session.scalars(sa.select(Document.storage_name).where(Document.source == "email")).all()
    assert len(documents) == 1
    assert on_disk(app) - before == set(documents)  # exactly the file a row points to
    assert uploads.read_stored(app.config["UPLOAD_DIR"], documents[0]) == samples.MINIMAL_PDF
    quarantined = db.session.scalars(sa.select(InboundMail).where(InboundMail.outcome == "rejected")).one()
    assert quarantined.message_key == "<refused@example.ru>"


def test_a_mail_whose_attachment_cannot_be_filed_leaves_no_file(app, db):
    refuse_inserts(db, "documents")
    before = on_disk(app)
    assert mailbox.ingest_all([mail_with_pdf("Ana <ana@example.org>", "<nofile@example.org>")],
                              source="file").as_dict()["rejected"] == 1
    assert on_disk(app) == before


def test_the_sweep_removes_old_files_no_document_points_to_and_keeps_the_rest(app, db, factory, tmp_path):
    import os
    import time

    from crm.jobs.sweeps import remove_orphan_files
    from crm.services import conversation
    folder = Path(app.config["UPLOAD_DIR"])
    inquiry = factory.inquiry()
    stored = uploads.store(samples.MINIMAL_PDF, "scan.pdf", upload_dir=folder, max_bytes=LIMIT)
    conversation.add_document(inquiry, stored, source="staff")
    db.session.commit()
    orphan, fresh_orphan = (folder / f"{n:032x}" for n in (0xDEAD, 0xBEEF))
    partial = folder / ".partial-abc123"
    for path in (orphan, fresh_orphan, partial):
        path.write_bytes(b"left by a process killed between the file and its row")
    two_days_ago = time.time() - 2 * 86400
    for path in (orphan, partial, folder / stored.storage_name):
        os.utime(path, (two_days_ago, two_days_ago))
    assert remove_orphan_files() == 2
    left = on_disk(app)
    assert stored.storage_name in left and fresh_orphan.name in left  # a young one may be mid-upload
    assert orphan.name not in left and partial.name not in left
