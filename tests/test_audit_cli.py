"""``crm audit verify``, run as an operator runs it: one line with the count verified, or one
error line naming the first broken row and exit status 1."""
import re

import sqlalchemy as sa

from crm.models import AuditEvent
from tests import mail_samples as samples
from tests.crm_process import assert_one_error_line, crm, instance, read_database, upgraded  # noqa: F401


def test_verify_a_real_trail_then_a_tampered_one(upgraded, tmp_path):
    for n in range(3):
        (tmp_path / f"{n}.eml").write_bytes(samples.plain(sender=f"P{n} <p{n}.cli@example.org>",
                                                          message_id=f"<cli{n}@x>"))
    assert crm("mail", "ingest", *(tmp_path / f"{n}.eml" for n in range(3)), env=upgraded).returncode == 0
    assert crm("export", "csv", "--out", tmp_path / "out.csv", env=upgraded).returncode == 0
    url = upgraded["CRM_DATABASE_URL"]
    rows = read_database(url, lambda db: db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash, AuditEvent.service, AuditEvent.action)
        .order_by(AuditEvent.id)).all())
    assert {(r.service, r.action) for r in rows} >= {("mail", "create"), ("cli", "export")}
    result = crm("audit", "verify", env=upgraded)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"{len(rows)} audit events verified: the chain is whole up to #{rows[-1].id}, "
                             f"hash {rows[-1].hash}.\n")

    def tamper(db):
        if db.engine.dialect.name == "sqlite":
            db.session.execute(sa.text("DROP TRIGGER audit_events_no_update"))
        else:
            db.session.execute(sa.text("DROP TRIGGER audit_events_append_only ON audit_events"))
        db.session.connection().execute(sa.update(AuditEvent).where(AuditEvent.id == rows[1].id)
                                        .values(detail="source=phone"))
        db.session.commit()

    read_database(url, tamper)
    result = crm("audit", "verify", "--batch", "2", env=upgraded)
    line = assert_one_error_line(result, f"#{rows[1].id}", "changed")
    assert result.stdout == "" and re.match(r"error: audit event #\d+ does not match its hash", line)


def test_verify_wants_an_upgraded_database(instance):
    assert_one_error_line(crm("audit", "verify", env=instance), "crm db upgrade")
