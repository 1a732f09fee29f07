"""Concurrent writers: no lost update, no "database is locked", stale versions refused."""
import threading

from sqlalchemy import select

from crm.extensions import db
from crm.models import Inquiry, Note
from crm.services.errors import StaleVersion
from crm.services.intake import add_note, create_inquiry, update_inquiry
from crm.services.users import create_user

WORKERS, EACH = 4, 10


def test_concurrent_read_modify_write_loses_nothing(fresh_app):
    app = fresh_app()
    with app.app_context():
        user = create_user("c@itinera.example", name="C", role="manager", password="an unlisted passphrase")
        inquiry = create_inquiry({"given_name": "A", "family_name": "B", "email": "a@example.com",
                                  "service": "treatment", "reason": "r"}, source="phone")
        db.session.commit()
        inquiry_id, user_id = inquiry.id, user.id
    errors, conflicts = [], []

    def worker(n):
        for i in range(EACH):
            with app.app_context():
                try:
                    actor = db.session.get(type(user), user_id)
                    target = db.session.get(Inquiry, inquiry_id)
                    # read-modify-write: append to the reason, as two coordinators editing would
                    update_inquiry(target, {"reason": f"{target.reason}|{n}.{i}"}, actor=actor,
                                   expected_version=target.version)
                    add_note(target, f"note {n}.{i}", actor=actor)
                    db.session.commit()
                except StaleVersion:
                    db.session.rollback()
                    conflicts.append((n, i))
                except Exception as error:  # noqa: BLE001 - any other failure fails the test
                    db.session.rollback()
                    errors.append(repr(error))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        inquiry = db.session.get(Inquiry, inquiry_id)
        pieces = inquiry.reason.split("|")[1:]
        notes = db.session.scalars(select(Note).where(Note.inquiry_id == inquiry_id)).all()
        # every committed write is there: nothing silently overwritten
        assert len(pieces) == len(notes) == WORKERS * EACH - len(conflicts)
        assert inquiry.version == 1 + len(pieces)
