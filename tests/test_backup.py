"""`crm backup` and `crm restore`, run as real processes on SQLite and PostgreSQL: one archive
with the database and the documents and a manifest of checksums; a damaged archive refused in one
line; a database that is not empty kept unless --force; and a restore drill under write load: the
backup is one consistent moment of a database that kept changing, its audit trail verifies and
its documents decrypt to their SHA-256."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from crm.extensions import db as _db
from crm.models import AuditEvent, Document, Inquiry, Patient
from crm.services import audit, conversation, uploads
from crm.services.intake import create_inquiry
from tests.conftest import make_app
from tests.crm_process import assert_one_error_line, crm, crm_many, environment
from tests.web.test_portal import minimal_pdf

PDF = minimal_pdf()


def env_of(app) -> dict[str, str]:
    return environment(CRM_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], CRM_UPLOAD_DIR=app.config["UPLOAD_DIR"],
                       CRM_OUTBOX_DIR=app.config["OUTBOX_DIR"])


def counts(app) -> dict[str, int]:
    with app.app_context():
        with _db.engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            found = {table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() for table in tables}
        _db.engine.dispose()
    return found


def add_case(n: int, *, with_document: bool) -> None:
    """One inquiry of a new patient, with a document in the same transaction (as a portal upload)."""
    inquiry = create_inquiry({"given_name": "Load", "family_name": f"Patient{n}", "email": f"load{n}@example.com",
                              "country": "BR", "preferred_language": "pt-BR", "service": "treatment",
                              "center": "cardiology", "reason": "Arritmia"}, source="phone", actor=None)
    if with_document:
        from flask import current_app
        stored = uploads.store(PDF.replace(b"%PDF-1.4\n", b"%PDF-1.4\n%case " + str(n).encode() + b"\n"),
                               f"exame-{n}.pdf", upload_dir=current_app.config["UPLOAD_DIR"], max_bytes=10**6)
        conversation.add_document(inquiry, stored, source="staff")
    _db.session.commit()


@pytest.fixture
def live(fresh_app, tmp_path):
    """A migrated instance with a few cases and their documents."""
    app = fresh_app(UPLOAD_DIR=str(tmp_path / "uploads"), OUTBOX_DIR=str(tmp_path / "outbox"))
    with app.app_context():
        for n in range(3):
            add_case(n, with_document=True)
        _db.session.remove()
        _db.engine.dispose()
    return app


def new_instance(databases, tmp_path, name: str):
    """An app on a new, empty database (no table) and an empty documents folder."""
    return make_app(databases.new(), UPLOAD_DIR=str(tmp_path / name / "uploads"),
                    OUTBOX_DIR=str(tmp_path / name / "outbox"))


def back_up(app, tmp_path) -> Path:
    result = crm("backup", "--out", tmp_path / "backups", env=env_of(app))
    assert result.returncode == 0, result.stderr
    archive = Path(result.stdout.strip())
    assert archive.parent == tmp_path / "backups" and archive.name.endswith(".tar.gz")
    assert archive.stat().st_mode & 0o777 == 0o600
    return archive


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as reader:
        return json.load(reader.extractfile("manifest.json"))


def documents_readable(app) -> int:
    """Every document of the database decrypts to the SHA-256 on its row; how many there are."""
    with app.app_context():
        rows = _db.session.execute(select(Document.storage_name, Document.sha256)).all()
        for name, sha256 in rows:
            data = uploads.read_stored(app.config["UPLOAD_DIR"], name, sha256=sha256)
            assert hashlib.sha256(data).hexdigest() == sha256
        _db.session.remove()
        _db.engine.dispose()
    return len(rows)


def audit_trail_verifies(app) -> int:
    """The restored audit trail: `crm audit verify` (issue 14, item 2) when the command exists, its
    function otherwise; at least its rows in id order, none missing from the manifest's count."""
    env = env_of(app)
    if "audit" in crm("--help", env=env).stdout:
        result = crm("audit", "verify", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    with app.app_context():
        if hasattr(audit, "verify"):
            checked = audit.verify()
            assert checked.ok, (checked.broken_id, checked.problem)
        ids = _db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        _db.session.remove()
        _db.engine.dispose()
    assert ids == sorted(set(ids))
    return len(ids)


def test_a_backup_restores_into_an_empty_database_with_its_documents(live, databases, tmp_path):
    archive = back_up(live, tmp_path)
    manifest = manifest_of(archive)
    assert manifest["format"] == "itinera-backup" and manifest["documents"] == 3 and not manifest["missing_files"]
    now = counts(live)  # the snapshot's counts; the backup itself is audited after it
    assert manifest["tables"] == {**now, "audit_events": now["audit_events"] - 1}
    names = set(manifest["files"])
    assert {"database.sqlite3", "database.dump"} & names
    assert sum(name.startswith("uploads/") for name in names) == 3
    with tarfile.open(archive) as reader:  # the documents stay encrypted in the archive
        for member in reader:
            if member.name.startswith("uploads/"):
                assert b"%PDF" not in reader.extractfile(member).read()

    target = new_instance(databases, tmp_path, "restored")
    result = crm("restore", archive, env=env_of(target))
    assert result.returncode == 0, result.stderr
    assert "3 documents" in result.stdout
    restored = counts(target)
    audited = restored.pop("audit_events")
    assert restored == {table: n for table, n in manifest["tables"].items() if table != "audit_events"}
    assert audited == manifest["tables"]["audit_events"] + 1  # the restore is on the trail
    assert documents_readable(target) == 3
    audit_trail_verifies(target)


def test_a_damaged_archive_is_refused_in_one_line_and_nothing_is_restored(live, databases, tmp_path):
    archive = back_up(live, tmp_path)
    target = new_instance(databases, tmp_path, "target")
    env = env_of(target)
    # a document changed inside an otherwise valid archive
    with tarfile.open(archive) as reader:
        members = [(member, reader.extractfile(member).read()) for member in reader]
    tampered = tmp_path / "tampered.tar.gz"
    first = next(i for i, (member, _data) in enumerate(members) if member.name.startswith("uploads/"))
    member, data = members[first]
    members[first] = (member, data[:-1] + bytes([data[-1] ^ 1]))  # one bit of one document
    with tarfile.open(tampered, "w:gz") as writer:
        for member, data in members:
            writer.addfile(member, io.BytesIO(data))
    # cut short, or not an archive at all
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    garbage = tmp_path / "notes.tar.gz"
    garbage.write_bytes(gzip.compress(b"not a tar file at all" * 100))
    results = crm_many([(["restore", path], env) for path in (tampered, truncated, garbage,
                                                              tmp_path / "missing.tar.gz")])
    line = assert_one_error_line(results[0], "damaged", "does not match its checksum", "nothing was restored")
    assert "uploads/" in line
    assert_one_error_line(results[1], "damaged")
    assert_one_error_line(results[2], "damaged")
    assert_one_error_line(results[3], "There is no file")
    # nothing was written: no table, no document
    assert counts(target) == {}
    assert not Path(target.config["UPLOAD_DIR"]).exists() or not list(Path(target.config["UPLOAD_DIR"]).iterdir())


def test_a_database_that_is_not_empty_is_kept_unless_force(live, tmp_path):
    archive = back_up(live, tmp_path)
    env = env_of(live)
    with live.app_context():
        add_case(99, with_document=True)  # after the backup
        _db.session.remove()
        _db.engine.dispose()
    line = assert_one_error_line(crm("restore", archive, env=env), "not empty", "--force")
    assert "database" in line
    assert counts(live)["inquiries"] == 4
    result = crm("restore", archive, "--force", env=env)
    assert result.returncode == 0, result.stderr
    with live.app_context():
        assert _db.session.scalar(select(func.count(Inquiry.id))) == 3
        assert _db.session.scalar(select(Patient.id).where(Patient.email == "load99@example.com")) is None
        _db.session.remove()
        _db.engine.dispose()
    assert documents_readable(live) == 3
    assert len(list(Path(live.config["UPLOAD_DIR"]).iterdir())) == 3  # the later case's file went with it


def test_restore_drill_under_write_load(live, databases, tmp_path):
    """While a writer keeps opening cases (each with its patient and a document, one transaction
    each), `crm backup` runs; restored into a fresh database, the backup is one moment of it."""
    stop, written, errors = threading.Event(), [], []

    def writer():
        with live.app_context():
            try:
                n = 1000
                while not stop.is_set() and n < 1400:
                    add_case(n, with_document=True)
                    written.append(n)
                    n += 1
            except Exception as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)
            finally:
                _db.session.remove()
                _db.engine.dispose()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            time.sleep(0.05)
        before = len(written)
        archive = back_up(live, tmp_path)
        during = len(written)
        assert during > before  # the writer went on while the backup ran
        deadline = time.monotonic() + 30
        while len(written) < during + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    manifest = manifest_of(archive)

    target = new_instance(databases, tmp_path, "drill")
    result = crm("restore", archive, env=env_of(target))
    assert result.returncode == 0, result.stderr
    restored = counts(target)
    # the manifest's counts are the snapshot's, and the restored database holds exactly them
    assert {t: n for t, n in restored.items() if t != "audit_events"} == \
        {t: n for t, n in manifest["tables"].items() if t != "audit_events"}
    # one moment while the writer was writing: cases from before and during, not those after
    inquiries = restored["inquiries"]
    assert 3 + before <= inquiries <= 3 + during < 3 + len(written)
    with target.app_context():
        # every case has its patient and its document: no transaction is half in the backup
        orphans = _db.session.scalar(select(func.count(Inquiry.id)).outerjoin(Patient, Inquiry.patient_id == Patient.id)
                                     .where(Patient.id.is_(None)))
        without_document = _db.session.scalar(select(func.count(Inquiry.id)).where(
            ~select(Document.id).where(Document.inquiry_id == Inquiry.id).exists()))
        load_patients = _db.session.scalar(select(func.count(Patient.id)).where(Patient.email.like("load%")))
        _db.session.remove()
        _db.engine.dispose()
    assert (orphans, without_document, load_patients) == (0, 0, inquiries)
    assert manifest["documents"] == restored["documents"] == inquiries
    assert documents_readable(target) == inquiries
    assert audit_trail_verifies(target) == manifest["tables"]["audit_events"] + 1
