"""The audit trail's hash chain: a real trail verifies; an edited, deleted, inserted or moved row
is found and named (the triggers dropped first, as an attacker with the database would); the
triggers refuse changes; savepoints and the bulk mail import leave no gap and no fork; an event
added to the session directly is chained like the rest."""
import hashlib

import pytest
import sqlalchemy as sa

from crm.models import AuditEvent, Inquiry
from crm.models.audit import GENESIS, HASHED, row_hash
from crm.services import audit, mailbox, pipeline
from crm.services.intake import add_note, update_inquiry
from tests import mail_samples as samples


def trail(db):
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()


def netstring_hash(row: dict, prev: str) -> str:
    """The chain's format as the module documents it, written again here from the docstring."""
    def field(value):
        if value is None:
            return b"-,"
        if hasattr(value, "strftime"):
            value = value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data = str(value).encode()
        return str(len(data)).encode() + b":" + data + b","
    data = b"".join(field(v) for v in ("itinera-audit-1", *(row[name] for name in HASHED), prev))
    return hashlib.sha256(data).hexdigest()


def raw(db, statement, rows=None):
    """A statement on the database's connection, past the application's rules."""
    return db.session.connection().execute(statement, rows)


def drop_triggers(db):
    """What an attacker with access to the database does first (rolled back with the test)."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_delete"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_events_append_only ON audit_events"))


@pytest.fixture
def real_trail(db, factory):
    """A few days' work: cases created, edited, moved, noted, viewed; committed."""
    coordinator = factory.user(centers=("cardiology",))
    cases = [factory.inquiry(actor=coordinator) for _ in range(3)]
    for case in cases:
        update_inquiry(case, {"reason": "Palpitations since May"}, actor=coordinator,
                       expected_version=case.version)
        pipeline.transition_inquiry(case, "intake", actor=coordinator, expected_version=case.version)
        add_note(case, "Called the patient", actor=coordinator)
        audit.record("view", actor=coordinator, inquiry=case)
        db.session.commit()
    return coordinator, cases


def test_a_real_trail_verifies_and_follows_the_documented_format(db, real_trail):
    coordinator, cases = real_trail
    rows = trail(db)
    result = audit.verify(batch=7)  # several batches
    assert result.ok and result.count == len(rows) > 10
    assert (result.last_id, result.last_hash) == (rows[-1].id, rows[-1].hash)
    prev = GENESIS
    for row in rows:
        values = {name: getattr(row, name) for name in HASHED}
        assert row.prev_hash == prev and row.hash == netstring_hash(values, prev) == row_hash(values, prev)
        prev = row.hash
    views = [r for r in rows if r.action == "view"]
    assert {(r.actor_id, r.role, r.record_type, r.outcome) for r in views} == {
        (coordinator.id, "coordinator", "inquiry", "success")}
    assert [(r.inquiry_id, r.patient_id, r.record_id) for r in views] == [
        (c.id, c.patient_id, c.id) for c in cases]
    # ids follow one another: no gap
    assert [r.id for r in rows] == list(range(rows[0].id, rows[0].id + len(rows)))


def test_the_database_refuses_changes_to_the_trail(db, real_trail):
    row = trail(db)[0]
    for statement in (f"UPDATE audit_events SET detail = 'x' WHERE id = {row.id}",
                      f"DELETE FROM audit_events WHERE id = {row.id}",
                      *(["TRUNCATE audit_events"] if db.engine.dialect.name == "postgresql" else [])):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(sa.text(statement))
    assert audit.verify().ok


def test_an_edited_row_is_named(db, real_trail):
    rows = trail(db)
    target = rows[4]
    drop_triggers(db)
    raw(db, sa.update(AuditEvent).where(AuditEvent.id == target.id).values(detail="fields=nothing"))
    result = audit.verify()
    assert (result.ok, result.broken_id, result.problem, result.count) == (False, target.id, "changed", 4)


def test_an_edited_row_whose_hash_was_made_again_breaks_the_next_link(db, real_trail):
    rows = trail(db)
    target = rows[4]
    drop_triggers(db)
    values = {name: getattr(target, name) for name in HASHED} | {"actor_id": 999}
    raw(db, sa.update(AuditEvent).where(AuditEvent.id == target.id).values(
        actor_id=999, hash=row_hash(values, target.prev_hash)))
    result = audit.verify()
    assert (result.broken_id, result.problem, result.previous_id) == (rows[5].id, "unlinked", target.id)


def test_a_deleted_row_is_found(db, real_trail):
    rows = trail(db)
    drop_triggers(db)
    raw(db, sa.delete(AuditEvent).where(AuditEvent.id == rows[3].id))
    result = audit.verify()
    assert (result.broken_id, result.problem, result.previous_id) == (rows[4].id, "unlinked", rows[2].id)
    raw(db, sa.delete(AuditEvent).where(AuditEvent.id == rows[0].id))
    result = audit.verify()
    assert (result.broken_id, result.problem, result.previous_id) == (rows[1].id, "unlinked", None)


def test_inserted_and_moved_rows_are_found(db, real_trail):
    rows = trail(db)
    columns = [*HASHED, "prev_hash", "hash"]
    # a forged row at the end: linked, but its hash is not the hash of its contents
    forged = {name: getattr(rows[2], name) for name in columns} | {"id": rows[-1].id + 1,
                                                                    "prev_hash": rows[-1].hash}
    raw(db, sa.insert(AuditEvent.__table__), [forged])
    result = audit.verify()
    assert (result.broken_id, result.problem) == (rows[-1].id + 1, "changed")
    # a row copied from earlier (a replay): its link is not to the row before it
    drop_triggers(db)
    raw(db, sa.delete(AuditEvent).where(AuditEvent.id == rows[-1].id + 1))
    replay = {name: getattr(rows[2], name) for name in columns} | {"id": rows[-1].id + 1}
    raw(db, sa.insert(AuditEvent.__table__), [replay])
    assert (audit.verify().broken_id, audit.verify().problem) == (rows[-1].id + 1, "unlinked")
    raw(db, sa.delete(AuditEvent).where(AuditEvent.id == rows[-1].id + 1))
    assert audit.verify().ok
    # two rows swapped (their ids exchanged)
    a, b = rows[3].id, rows[6].id
    raw(db, sa.update(AuditEvent).where(AuditEvent.id == a).values(id=-1))
    raw(db, sa.update(AuditEvent).where(AuditEvent.id == b).values(id=a))
    raw(db, sa.update(AuditEvent).where(AuditEvent.id == -1).values(id=b))
    result = audit.verify()
    assert (result.ok, result.broken_id) == (False, a)


def test_a_savepoint_rolled_back_leaves_no_gap_and_no_stale_end(db, factory):
    coordinator = factory.user(centers=("cardiology",))
    case = factory.inquiry(actor=coordinator)
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    audit.record("view", actor=coordinator, inquiry=case, detail="kept 1")
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            audit.record("view", actor=coordinator, inquiry=case, detail="rolled back")
            raise RuntimeError
    # written early inside a savepoint (a query of the trail), then rolled back: the event noted
    # before the savepoint is written again, the one noted inside it is gone
    audit.record("view", actor=coordinator, inquiry=case, detail="kept 2")
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            audit.record("view", actor=coordinator, inquiry=case, detail="rolled back too")
            assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.id > before)) == 3
            raise RuntimeError
    with db.session.begin_nested():
        audit.record("view", actor=coordinator, inquiry=case, detail="kept 3")
    db.session.commit()
    written = db.session.execute(sa.select(AuditEvent.id, AuditEvent.detail).where(AuditEvent.id > before)
                                 .order_by(AuditEvent.id)).all()
    assert written == [(before + 1, "kept 1"), (before + 2, "kept 2"), (before + 3, "kept 3")]
    assert audit.verify().ok


def test_a_rolled_back_transaction_writes_nothing(db, factory):
    coordinator = factory.user(centers=("cardiology",))
    case = factory.inquiry(actor=coordinator)
    count = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    audit.record("view", actor=coordinator, inquiry=case)
    db.session.rollback()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == count


def test_an_event_added_to_the_session_is_chained_and_a_bulk_insert_refused(db, factory):
    case = factory.inquiry()
    db.session.add(AuditEvent(action="view", inquiry_id=case.id, detail="added directly"))
    db.session.commit()
    row = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.detail == "added directly"))
    assert row.hash and row.service == "system" and audit.verify().ok
    with pytest.raises(RuntimeError, match="audit.record"):
        db.session.execute(sa.insert(AuditEvent), [{"action": "view", "detail": "", "outcome": "success",
                                                    "prev_hash": GENESIS, "hash": GENESIS}])


def test_the_bulk_mail_import_is_chained_even_when_a_batch_is_taken_again(db, monkeypatch):
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    attach = mailbox._attach

    def breaks_on_russian(inquiry, message, parsed):
        if "Irina" in (parsed.from_name or ""):
            raise RuntimeError("a bug met by this message only")
        return attach(inquiry, message, parsed)

    monkeypatch.setattr(mailbox, "_attach", breaks_on_russian)
    raws = [samples.plain(sender=f"P{n} <p{n}.bulk@example.org>", message_id=f"<b{n}@x>") for n in range(30)]
    raws.insert(10, samples.russian_koi8r(sender="Irina <irina.bulk@example.ru>", message_id="<ru@x>"))
    raws.append(samples.plain(sender="P0 <p0.bulk@example.org>", message_id="<b0r@x>", in_reply_to="<b0@x>",
                              subject="Re: hello", body="More"))
    summary = mailbox.ingest_all(raws, source="file")
    db.session.commit()
    assert summary.as_dict()["created"] == 30 and summary.as_dict()["rejected"] == 1
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)).all()
    created = [e for e in events if e.action == "create"]
    assert len(created) == 30 and {(e.service, e.role, e.actor_id) for e in created} == {("mail", "service", None)}
    cases = dict(db.session.execute(sa.select(Inquiry.id, Inquiry.patient_id)).all())
    assert all(e.inquiry_id in cases and e.patient_id == cases[e.inquiry_id] for e in created)
    threaded = [e for e in events if e.detail == "mail=threaded"]
    assert len(threaded) == 1 and threaded[0].service == "mail"
    assert [e.id for e in events] == list(range(before + 1, before + 1 + len(events)))
    assert audit.verify().ok
