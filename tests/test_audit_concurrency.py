"""The audit chain under concurrent writers (threads, each with its own connection) and across
the migration that made it a chain: it never forks, never waits on a case's row lock, and an
upgraded trail verifies."""
import threading
import time

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from crm.extensions import db
from crm.models import AuditEvent, Inquiry, User
from crm.services import audit
from crm.services.intake import add_note, create_inquiry
from crm.services.users import create_user
from crm.services.visibility import get_inquiry

WORKERS, EACH = 4, 12


def setup(app):
    with app.app_context():
        user = create_user("c@itinera.example", name="C", role="manager", password="an unlisted passphrase")
        inquiry = create_inquiry({"given_name": "A", "family_name": "B", "email": "a@example.com",
                                  "service": "treatment", "reason": "r"}, source="phone", actor=user)
        db.session.commit()
        return user.id, inquiry.id


def run(threads):
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_concurrent_appends_never_fork_the_chain(fresh_app):
    app = fresh_app()
    user_id, inquiry_id = setup(app)
    errors = []

    def worker(n):
        for i in range(EACH):
            with app.app_context():
                try:
                    actor = db.session.get(User, user_id)
                    case = db.session.get(Inquiry, inquiry_id)
                    audit.record("view", actor=actor, inquiry=case, detail=f"w{n}.{i}")
                    if i % 3 == 0:  # a savepoint rolled back in the middle: its event is gone
                        try:
                            with db.session.begin_nested():
                                audit.record("view", actor=actor, inquiry=case, detail="rolled back")
                                raise LookupError
                        except LookupError:
                            pass
                    add_note(case, f"note {n}.{i}", actor=actor)  # a write with its own event
                    db.session.commit()
                except Exception as error:  # noqa: BLE001 - any failure fails the test
                    db.session.rollback()
                    errors.append(repr(error))

    run([threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)])
    assert errors == []
    with app.app_context():
        result = audit.verify()
        rows = db.session.execute(sa.select(AuditEvent.id, AuditEvent.detail).order_by(AuditEvent.id)).all()
        assert result.ok and result.count == len(rows)
        assert [r.id for r in rows] == list(range(1, len(rows) + 1))
        details = [r.detail for r in rows]
        assert "rolled back" not in details
        assert sorted(d for d in details if d.startswith("w")) == sorted(
            f"w{n}.{i}" for n in range(WORKERS) for i in range(EACH))
        assert details.count("note") == WORKERS * EACH


def test_a_view_of_a_case_locked_by_a_change_does_not_wait_for_it(fresh_app):
    """One coordinator changes a case (its row locked until commit) while another opens it: the
    one who opens it is answered at once, and the change then commits (no deadlock between the
    case's row lock and the chain's lock)."""
    app = fresh_app()
    user_id, inquiry_id = setup(app)
    locked, viewed = threading.Event(), threading.Event()
    errors, timings = [], {}

    def change():
        with app.app_context():
            try:
                actor = db.session.get(User, user_id)
                case = get_inquiry(actor, inquiry_id, for_update=True)
                add_note(case, "during the view", actor=actor)
                db.session.flush()
                locked.set()
                viewed.wait(1)  # on SQLite the view waits for this transaction: go on after a second
                db.session.commit()
                timings["change"] = time.monotonic()
            except Exception as error:  # noqa: BLE001
                db.session.rollback()
                errors.append(repr(error))
                locked.set()

    def view():
        locked.wait(5)
        with app.app_context():
            try:
                actor = db.session.get(User, user_id)
                case = db.session.get(Inquiry, inquiry_id)
                audit.record("view", actor=actor, inquiry=case)
                db.session.commit()
                timings["view"] = time.monotonic()
            except Exception as error:  # noqa: BLE001
                db.session.rollback()
                errors.append(repr(error))
            finally:
                viewed.set()

    run([threading.Thread(target=change), threading.Thread(target=view)])
    assert errors == []
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert timings["change"] < timings["view"]  # one writer at a time (BEGIN IMMEDIATE): it queues
    else:
        assert timings["view"] < timings["change"]
    with app.app_context():
        assert audit.verify().ok


def test_an_upgraded_trail_is_chained(fresh_app):
    """Rows written before the chain existed get their place in it, in id order."""
    app = fresh_app(migrated=False)
    with app.app_context():
        script = ScriptDirectory(app.config["MIGRATIONS_DIR"])
        chain = next(r for r in script.walk_revisions() if r.path.endswith("_audit_chain.py"))
        upgrade(directory=app.config["MIGRATIONS_DIR"], revision=chain.down_revision)
        with db.engine.begin() as connection:
            for n, (origin, action) in enumerate([("1.2.3.4", "view"), ("api 5.6.7.8", "view"), ("cli", "export"),
                                                  ("portal", "view"), (None, "sign_in_failed")]):
                connection.execute(sa.text(
                    "INSERT INTO audit_events (created_at, actor_id, action, patient_id, inquiry_id, origin, detail) "
                    f"VALUES ('2026-01-0{n + 1} 10:00:00.123456', NULL, :action, NULL, NULL, :origin, '')"),
                    {"action": action, "origin": origin})
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        result = audit.verify()
        assert result.ok and result.count == 5
        rows = db.session.execute(sa.select(AuditEvent.service, AuditEvent.address, AuditEvent.outcome,
                                            AuditEvent.role).order_by(AuditEvent.id)).all()
        assert rows == [("public", "1.2.3.4", "success", "service"), ("system", "5.6.7.8", "success", "service"),
                        ("cli", None, "success", "service"), ("portal", None, "success", "service"),
                        ("system", None, "failed", "service")]
        # appended after them, and the triggers are back
        audit.record("view", actor=None, detail="after the upgrade")
        db.session.commit()
        assert audit.verify().count == 6
        try:
            with db.engine.begin() as connection:
                connection.execute(sa.text("DELETE FROM audit_events"))
        except sa.exc.DBAPIError as error:
            assert "append-only" in str(error)
        else:
            raise AssertionError("the trail could be deleted after the upgrade")
