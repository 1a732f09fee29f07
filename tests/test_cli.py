"""The `crm` commands: users, tokens, demo, export, db upgrade, scheduler --once."""
import csv
import io
import subprocess

import sqlalchemy as sa
from sqlalchemy import func, select

from crm.models import Inquiry, Patient, StageChange, User
from crm.services.users import user_for_token
from tests.crm_process import CRM, REPO, crm, instance, read_database, upgraded  # noqa: F401


def test_users_create_reads_the_password_from_stdin(runner, db):
    result = runner.invoke(args=["users", "create", "nadia@itinera.example", "--name", "Nadia Saleh",
                                 "--role", "coordinator", "--center", "cardiology", "--language", "ar",
                                 "--language", "en"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "nadia@itinera.example"))
    assert [c.key for c in user.centers] == ["cardiology"] and user.languages == ["ar", "en"]
    assert user.password_hash.startswith("$argon2")


def test_users_create_explains_bad_input(runner, db):
    result = runner.invoke(args=["users", "create", "not-an-email", "--name", "X", "--role", "manager"],
                           input="short\n")
    assert result.exit_code == 1
    assert "email" in result.output and "password" in result.output
    result = runner.invoke(args=["users", "create", "a@itinera.example", "--name", "X", "--role",
                                 "coordinator", "--center", "nowhere"], input="a long enough password\n")
    assert result.exit_code == 1 and "centers" in result.output


def test_tokens_create_prints_a_working_token(runner, factory):
    user = factory.user(role="manager")
    result = runner.invoke(args=["tokens", "create", user.email])
    assert result.exit_code == 0
    assert user_for_token(result.output.strip()) == user
    assert runner.invoke(args=["tokens", "create", "ghost@itinera.example"]).exit_code == 1


def test_demo_is_deterministic_by_seed(fresh_app):
    snapshots = []
    for _ in range(2):
        app = fresh_app()
        result = app.test_cli_runner().invoke(args=["demo", "--inquiries", "60", "--seed", "5"])
        assert result.exit_code == 0, result.output
        assert "manager@itinera.example" in result.output
        with app.app_context():
            from crm.extensions import db
            snapshots.append([
                db.session.execute(select(Patient.given_name, Patient.family_name, Patient.country,
                                          Patient.preferred_language).order_by(Patient.id)).all(),
                db.session.execute(select(Inquiry.stage, Inquiry.service, Inquiry.outcome,
                                          Inquiry.center_id).order_by(Inquiry.id)).all(),
            ])
            assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 60
            stages = set(db.session.scalars(select(Inquiry.stage)))
            assert len(stages) >= 6
            # every case has a history that ends where it stands
            for inquiry in db.session.scalars(select(Inquiry)):
                history = db.session.scalars(select(StageChange.to_stage).where(
                    StageChange.inquiry_id == inquiry.id).order_by(StageChange.id)).all()
                assert history[0] == "new" and history[-1] == inquiry.stage
    assert snapshots[0] == snapshots[1]


def test_demo_if_empty_leaves_data_alone(fresh_app):
    app = fresh_app()
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "--inquiries", "5"])
    result = runner.invoke(args=["demo", "--inquiries", "5", "--if-empty"])
    assert "already has inquiries" in result.output and "coordinator@itinera.example" in result.output
    with app.app_context():
        from crm.extensions import db
        assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 5


def test_export_csv_has_every_inquiry(runner, factory, tmp_path):
    made = [factory.inquiry(reason="=HYPERLINK(\"http://evil\")") for _ in range(3)]
    out = tmp_path / "pipeline.csv"
    result = runner.invoke(args=["export", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    by_id = {int(r["id"]): r for r in rows}
    for inquiry in made:
        assert by_id[inquiry.id]["email"] == inquiry.patient.email
        assert by_id[inquiry.id]["reason"].startswith("'=")  # no formula injection
        assert by_id[inquiry.id]["phone"] == inquiry.patient.phone  # E.164 stays as it is
    from crm.extensions import db
    from crm.models import AuditEvent
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("export%"))).all()
    assert [(e.action, e.detail) for e in events] == [("export", f"csv cli rows={len(rows)}")]


def test_an_export_that_breaks_off_is_audited_as_failed(runner, factory, tmp_path, monkeypatch):
    from crm.extensions import db
    from crm.models import AuditEvent
    from crm.services import export
    for _ in range(3):
        factory.inquiry()
    original = export.row_for

    def breaks_on_the_third(inquiry, seen=[]):  # noqa: B006 - counts across calls
        seen.append(inquiry.id)
        if len(seen) == 3:
            raise OSError(28, "No space left on device")
        return original(inquiry)

    monkeypatch.setattr(export, "row_for", breaks_on_the_third)
    monkeypatch.setattr(export, "csv_lines", lambda *a, **kw: export.CsvExport(
        export.statement(None, *a[1:], everything=True), batch=2))
    out = tmp_path / "pipeline.csv"
    result = runner.invoke(args=["export", "csv", "--out", str(out)])
    assert result.exit_code != 0 and not out.exists()  # never half a file
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("export%"))).all()
    assert [(e.action, e.detail) for e in events] == [("export_failed", "csv cli rows=2")]


# --- as an operator runs them: real processes on a new database ------------------------------

def test_db_upgrade_creates_the_default_centers_so_staff_can_be_created_at_once(instance):
    from crm.models import Center
    from crm.services.centers import DEFAULT_CENTERS
    result = crm("db", "upgrade", env=instance)
    assert result.returncode == 0, result.stderr
    assert "default centers created: cardiology, digestive_health, neurology" in result.stdout
    result = crm("users", "create", "nadia@itinera.example", "--name", "Nadia Saleh", "--role", "coordinator",
                 "--center", "cardiology", env=instance, input="a long enough password\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("created coordinator nadia@itinera.example")

    def edit(db):  # an admin renames one center and retires another
        cardiology = db.session.scalar(sa.select(Center).where(Center.key == "cardiology"))
        cardiology.names = {**cardiology.names, "en": "Heart and Vascular Institute"}
        db.session.execute(sa.update(Center).where(Center.key == "neurology").values(is_active=False))
        db.session.commit()
    read_database(instance["CRM_DATABASE_URL"], edit)
    result = crm("db", "upgrade", env=instance)
    assert result.returncode == 0 and "created" not in result.stdout
    centers = read_database(instance["CRM_DATABASE_URL"], lambda db: {
        c.key: (c.names["en"], c.is_active) for c in db.session.scalars(sa.select(Center))})
    assert len(centers) == len(DEFAULT_CENTERS)  # only what was missing, once
    assert centers["cardiology"] == ("Heart and Vascular Institute", True)
    assert centers["neurology"] == ("Neurology and Neurosurgery", False)


def test_flask_db_upgrade_creates_the_default_centers_too(instance):
    from crm.models import Center
    result = subprocess.run([str(CRM.with_name("flask")), "--app", "wsgi", "db", "upgrade"], env=instance,
                            cwd=REPO, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    keys = read_database(instance["CRM_DATABASE_URL"], lambda db: set(db.session.scalars(sa.select(Center.key))))
    assert {"cardiology", "digestive_health", "neurology"} <= keys


def test_scheduler_once_prints_each_job_once(upgraded):
    from crm.jobs.scheduler import JOBS
    result = crm("scheduler", "--once", env=upgraded)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{job.name}: 0" for job in JOBS]
    assert result.stderr == ""  # the log adds warnings and failures only
