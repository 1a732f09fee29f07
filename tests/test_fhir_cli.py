"""`crm export fhir INQUIRY_ID`, run as the real console script against a database of the
session's kind: the Bundle on stdout, the export audited; an unknown id is one error line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent
from crm.services import intake
from tests.services.test_fhir import check_r4, resources

CRM = Path(sys.executable).with_name("crm")  # the console script installed beside the interpreter


def crm(*args, app) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_")}
    env.update(CRM_ENV="testing", CRM_DATABASE_URL=app.config["DATABASE_URL"],
               CRM_UPLOAD_DIR=app.config["UPLOAD_DIR"])
    return subprocess.run([str(CRM), *map(str, args)], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_export_fhir_prints_the_bundle_and_audits_it(fresh_app, tmp_path):
    app = fresh_app(UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        inquiry = intake.create_inquiry(
            {"given_name": "Wei", "family_name": "Zhang", "email": "wei.zhang@example.cn", "country": "CN",
             "preferred_language": "zh-Hans", "service": "second_opinion_online", "center": "neurology",
             "reason": "头痛三个月", "referring_name": "Dr. Li Na",
             "referring_institution": "Peking Union Medical College Hospital"},
            source="web_form", consent=True)
        db.session.commit()
        inquiry_id, patient_id = inquiry.id, inquiry.patient_id
        db.session.remove()

    result = crm("export", "fhir", inquiry_id, app=app)
    assert result.returncode == 0, result.stderr
    bundle = json.loads(result.stdout)
    check_r4(bundle)
    assert resources(bundle, "ServiceRequest")[0]["id"] == f"inquiry-{inquiry_id}"
    patient = resources(bundle, "Patient")[0]
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "zh-Hans"
    assert resources(bundle, "Consent")
    assert "头痛三个月" in result.stdout  # the text as it was written, not escaped

    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).all()
        assert (event.inquiry_id, event.patient_id, event.actor_id, event.origin) == (
            inquiry_id, patient_id, None, "cli")
        assert event.detail == f"fhir bundle={bundle['id']}"
        db.session.remove()


def test_an_unknown_inquiry_is_one_error_line(fresh_app, tmp_path):
    app = fresh_app(UPLOAD_DIR=str(tmp_path / "uploads"))
    for wrong in ("424242", "abc", "0"):
        result = crm("export", "fhir", wrong, app=app)
        assert result.returncode == 1, (wrong, result.stdout, result.stderr)
        assert result.stdout == ""
        assert result.stderr.splitlines() == [f"error: There is no inquiry with the id {wrong}."]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "export")) == 0
        db.session.remove()
