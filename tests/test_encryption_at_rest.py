"""Encryption at rest, proven on the bytes: passport numbers and documents seeded through the real
services and screens are nowhere in the raw database (the SQLite file and its WAL; every column
of every PostgreSQL table) or the upload folder, while the app still shows and downloads them;
plaintext from before encryption stays readable and ``crm keys rotate`` encrypts it; a rotation
can be stopped and resumed, and afterwards only the new key is needed."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import re
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy import LargeBinary, Text, inspect, select, text, type_coerce
from sqlalchemy.engine import make_url

from crm.extensions import db as _db
from crm.models import Document, InboundMail, Inquiry, OutboundAttachment, TravelPlan
from crm.services import crypto, keys, mailbox, travel, uploads, visa_letter
from crm.services.conversation import add_document
from tests.conftest import AuthActions, Factory
from tests.crm_process import instance, upgraded  # noqa: F401 - fixtures
from tests.web.test_portal import link_from_mail, minimal_pdf, upload

PATIENT_PASSPORT = "ZX9876543"
COMPANION_PASSPORT = "QW5551234"
CANARY = b"ITINERA-CANARY-5521"
PORTAL_PDF = minimal_pdf().replace(b"%PDF-1.4\n", b"%PDF-1.4\n%Echocardiogram of " + CANARY + b"\n", 1)
MAILED_PDF = minimal_pdf().replace(b"%PDF-1.4\n", b"%PDF-1.4\n%Holter report MAIL-CANARY-8830\n", 1)
PLAN = {"arrival_date": "2031-03-10", "departure_date": "2031-03-24", "passport_name": "LAYLA HADDAD",
        "passport_number": PATIENT_PASSPORT, "passport_country": "SA", "passport_expires_on": "2033-01-01"}


def raw_database(app) -> bytes:
    """Every byte the database holds as it is stored: the SQLite file with its WAL, or each value
    of each column of each PostgreSQL table read as stored (no model type decrypts it)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        return b"".join(Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm")
                        if Path(f"{path}{suffix}").exists())
    chunks = []
    with app.app_context():
        with _db.engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    for value in row:
                        if isinstance(value, (bytes, memoryview)):
                            chunks.append(bytes(value))
                        elif value is not None:
                            chunks.append(str(value).encode())
        _db.engine.dispose()
    return b"\n".join(chunks)


def raw_uploads(app) -> bytes:
    return b"".join(path.read_bytes() for path in Path(app.config["UPLOAD_DIR"]).iterdir() if path.is_file())


def mail_with(pdf: bytes, sender="Layla Haddad <layla.h@example.com>") -> bytes:
    """The patient's mail with a PDF attached: it lands in her case."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "international@itinera.example", "Holter"
    msg["Message-ID"] = f"<{os.urandom(6).hex()}@example.org>"
    msg.set_content("Adjunto el informe del Holter.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="holter.pdf")
    return bytes(msg)


def encoded_lines(raw_mail: bytes) -> list[bytes]:
    """The base64 lines of a mail's PDF attachment as they travel: each a piece of the document."""
    part = raw_mail.split(b'filename="holter.pdf"', 1)[1]
    return [line for line in part.split(b"\n") if re.fullmatch(rb"[A-Za-z0-9+/=]{40,}\r?", line)]


@pytest.fixture
def live_app(fresh_app, tmp_path):
    app = fresh_app(UPLOAD_DIR=str(tmp_path / "uploads"), OUTBOX_DIR=str(tmp_path / "outbox"))
    with app.app_context():
        yield app


def seed(app):
    """A case with passports, a portal upload, a mailed attachment and the visa letter, through
    the services and the portal's page; returns (inquiry id, the coordinator's sign-in, portal
    document id)."""
    factory = Factory(_db)
    coordinator = factory.user(centers=("cardiology",))
    inquiry = factory.inquiry(given_name="Layla", family_name="Haddad", email="layla.h@example.com")
    travel.save_plan(inquiry, PLAN, actor=coordinator)
    travel.add_companion(inquiry, {"full_name": "OMAR HADDAD", "relationship": "spouse",
                                   "passport_number": COMPANION_PASSPORT, "passport_country": "SA",
                                   "passport_expires_on": "2032-05-05"}, actor=coordinator)
    _db.session.commit()
    patient = app.test_client()
    token = link_from_mail(_db, inquiry)
    _db.session.rollback()  # every SQLite transaction takes the write lock: the request needs it
    assert upload(patient, token, PORTAL_PDF, "echo.pdf").status_code == 303
    visa_letter.generate(inquiry, actor=coordinator)
    _db.session.commit()
    visa_letter.send(inquiry, actor=coordinator)
    _db.session.commit()
    portal_doc = _db.session.scalar(select(Document.id).where(Document.inquiry_id == inquiry.id,
                                                              Document.source == "portal"))
    inquiry_id, signs_in = inquiry.id, SimpleNamespace(email=coordinator.email)
    _db.session.rollback()
    return inquiry_id, signs_in, portal_doc


def test_seeded_plaintext_is_nowhere_at_rest_and_the_app_still_shows_it(live_app):
    app = live_app
    inquiry_id, coordinator, portal_doc = seed(app)
    raw_mail = mail_with(MAILED_PDF)
    assert mailbox.ingest_all([raw_mail], source="file").as_dict()["threaded"] == 1
    mailed_id = _db.session.scalar(select(Document.id).where(Document.source == "email"))
    _db.session.commit()

    database, files = raw_database(app), raw_uploads(app)
    pieces = encoded_lines(raw_mail)
    assert len(pieces) >= 3
    needles = [PATIENT_PASSPORT.encode(), COMPANION_PASSPORT.encode(), CANARY, b"MAIL-CANARY-8830", *pieces]
    for needle in needles:
        assert needle not in database, needle
        assert needle not in files, needle
    assert b"%PDF" not in files and b"%PDF" not in database  # no document, no visa letter, no attachment
    assert len(list(Path(app.config["UPLOAD_DIR"]).iterdir())) == 3  # upload, mailed, letter: all encrypted

    # the app reads it all back: the passports page, the downloads, the letter, the quarantine's raw mail
    staff = app.test_client()
    AuthActions(staff).login(coordinator)
    page = staff.get(f"/inquiries/{inquiry_id}/travel-plan/passports").get_data(as_text=True)
    assert PATIENT_PASSPORT in page and COMPANION_PASSPORT in page
    assert staff.get(f"/inquiries/{inquiry_id}/documents/{portal_doc}").data == PORTAL_PDF
    assert staff.get(f"/inquiries/{inquiry_id}/documents/{mailed_id}").data == MAILED_PDF
    letter_id = _db.session.scalar(select(Document.id).where(Document.kind == "visa_letter"))
    _db.session.rollback()
    pdf = staff.get(f"/inquiries/{inquiry_id}/documents/{letter_id}").data
    assert PATIENT_PASSPORT in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    _db.session.expire_all()
    assert _db.session.scalar(select(InboundMail.raw)) == raw_mail
    assert _db.session.scalar(select(OutboundAttachment.data)) == pdf
    plan = _db.session.scalar(select(TravelPlan))
    assert (plan.passport_number, plan.companions[0].passport_number) == (PATIENT_PASSPORT, COMPANION_PASSPORT)


def make_legacy(app, inquiry_id) -> Document:
    """What an upgraded database holds from before encryption: plaintext passport numbers, a
    plaintext raw mail and a plaintext stored file."""
    plans, companions = TravelPlan.__table__, _db.metadata.tables["travel_companions"]
    _db.session.execute(plans.update().values(passport_number=type_coerce("LEGACY7777", Text())))
    _db.session.execute(companions.update().values(passport_number=type_coerce("LEGACY8888", Text())))
    _db.session.execute(InboundMail.__table__.update().values(raw=type_coerce(b"From: x@example.org\r\n\r\n"
                                                                              b"LEGACY-MAIL-9999", LargeBinary())))
    name = os.urandom(16).hex()
    legacy_pdf = PORTAL_PDF.replace(CANARY, b"LEGACY-FILE-6666")
    (Path(app.config["UPLOAD_DIR"]) / name).write_bytes(legacy_pdf)
    document = add_document(_db.session.get(Inquiry, inquiry_id), uploads.StoredFile(
        storage_name=name, filename="old.pdf", content_type="application/pdf", size=len(legacy_pdf),
        sha256=hashlib.sha256(legacy_pdf).hexdigest()), source="staff")
    _db.session.commit()
    return document


LEGACY = [b"LEGACY7777", b"LEGACY8888", b"LEGACY-MAIL-9999", b"LEGACY-FILE-6666"]


def test_plaintext_from_before_is_read_and_crm_keys_rotate_encrypts_it_then_only_the_new_key_is_needed(live_app):
    app = live_app
    inquiry_id, coordinator, portal_doc = seed(app)
    assert mailbox.ingest_all([mail_with(MAILED_PDF)], source="file").as_dict()["threaded"] == 1
    _db.session.commit()
    legacy = make_legacy(app, inquiry_id)
    legacy_id, legacy_name = legacy.id, legacy.storage_name
    _db.session.rollback()
    # the scan finds plaintext where there is some (so its silence above means something)
    database, files = raw_database(app), raw_uploads(app)
    assert all(needle in database + files for needle in LEGACY)

    def readable():
        """What the coordinator sees: passports, the documents, the raw mail, all in plaintext."""
        staff = app.test_client()
        AuthActions(staff).login(coordinator)
        page = staff.get(f"/inquiries/{inquiry_id}/travel-plan/passports").get_data(as_text=True)
        old = staff.get(f"/inquiries/{inquiry_id}/documents/{legacy_id}")
        new = staff.get(f"/inquiries/{inquiry_id}/documents/{portal_doc}")
        _db.session.expire_all()
        raw = _db.session.scalar(select(InboundMail.raw))
        _db.session.rollback()
        return ("LEGACY7777" in page and "LEGACY8888" in page and b"LEGACY-FILE-6666" in old.data
                and new.data == PORTAL_PDF and raw.endswith(b"LEGACY-MAIL-9999"))

    assert readable()  # read as it is, before any rotation
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    dev_id = crypto.key_id_of(crypto.DEVELOPMENT_KEY).hex()
    # the passports, the raw mail and the legacy file were plaintext; the rest was already current
    assert f"Under key {dev_id}: 1 files and 3 values re-encrypted" in result.output
    database, files = raw_database(app), raw_uploads(app)
    assert not any(needle in database + files for needle in LEGACY)
    assert readable()

    # a new key: the old one only reads until the rotation has run; then it is not needed
    new_key = os.urandom(32)
    app.config.update(ENCRYPTION_KEY=base64.b64encode(new_key).decode(),
                      ENCRYPTION_OLD_KEYS=base64.b64encode(crypto.DEVELOPMENT_KEY).decode())
    assert readable()
    total = keys.work_to_do()  # 4 documents; 2 passports, the raw mail, the letter's attachment
    _db.session.rollback()
    assert total == 8
    stops = iter(range(3))

    def stopped(count):  # the operator's Ctrl-C after three batches
        if next(stops, None) is None:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        keys.rotate(batch=1, progress=stopped)
    _db.session.rollback()
    result = runner.invoke(args=["keys", "rotate", "--batch", "2"])  # goes on where it stopped
    assert result.exit_code == 0, result.output
    new_id = crypto.key_id_of(new_key).hex()
    done = re.search(r"(\d+) files and (\d+) values re-encrypted, (\d+) already were", result.output)
    files_left, values_left, already = map(int, done.groups())
    # the four batches done before the stop are not done again
    assert f"Under key {new_id}" in result.output and (files_left + values_left, already) == (total - 4, 4)
    app.config.update(ENCRYPTION_OLD_KEYS="")  # the development key forgotten
    assert readable()
    assert staff_download(app, coordinator, inquiry_id) == PORTAL_PDF
    # and under the old key alone, nothing reads any more: everything moved
    app.config.update(ENCRYPTION_KEY=base64.b64encode(crypto.DEVELOPMENT_KEY).decode())
    with pytest.raises(crypto.DecryptionError):
        _db.session.scalar(select(TravelPlan.passport_number))
    _db.session.rollback()
    with pytest.raises(uploads.UnreadableFile):
        uploads.read_stored(app.config["UPLOAD_DIR"], legacy_name)


def staff_download(app, coordinator, inquiry_id) -> bytes:
    staff = app.test_client()
    AuthActions(staff).login(coordinator)
    doc = _db.session.scalar(select(Document.id).where(Document.source == "portal"))
    _db.session.rollback()
    return staff.get(f"/inquiries/{inquiry_id}/documents/{doc}").data


def test_a_document_that_cannot_be_decrypted_is_a_clear_503_never_a_500(live_app):
    app = live_app
    inquiry_id, coordinator, portal_doc = seed(app)
    name = _db.session.scalar(select(Document.storage_name).where(Document.id == portal_doc))
    _db.session.rollback()
    staff = app.test_client()
    AuthActions(staff).login(coordinator)
    # a file copied over another's name (or altered) does not decrypt: bound to its own name
    other = _db.session.scalar(select(Document.storage_name).where(Document.kind == "visa_letter"))
    _db.session.rollback()
    folder = Path(app.config["UPLOAD_DIR"])
    (folder / name).write_bytes((folder / other).read_bytes())
    response = staff.get(f"/inquiries/{inquiry_id}/documents/{portal_doc}")
    assert response.status_code == 503
    assert "cannot be read on this server" in response.get_data(as_text=True)


def test_crm_keys_rotate_shows_a_progress_bar_on_a_terminal(upgraded):
    import pty
    import subprocess

    from tests.crm_process import CRM
    leader, follower = pty.openpty()
    try:
        process = subprocess.run([str(CRM), "keys", "rotate"], env=upgraded, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=follower, text=True, timeout=180)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: all was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert process.returncode == 0, shown
    assert b"Re-encrypting" in shown
    assert "re-encrypted" in process.stdout and "Re-encrypting" not in process.stdout
