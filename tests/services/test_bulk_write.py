"""``write_new_rows``: a bulk import's new rows written each table at once, exactly as the
unit of work would write them, and the session carrying on as after a flush."""
import sqlalchemy as sa
from sqlalchemy import inspect

from crm.models import Inquiry, Message, OutboundMail, PortalLink, Task, User
from crm.models.base import utcnow, write_new_rows
from crm.services import conversation, intake, portal_links


def open_cases(factory, count=2):
    """New cases as mail intake makes them: added to the session, nothing written yet."""
    inquiries = []
    for n in range(count):
        data = factory.inquiry_data(center=None, reason=f"second opinion on heart surgery {n}")
        inquiries.append(intake.open_inquiry(data, source="email"))
    return inquiries


def stored(db, instance) -> dict:
    """The row of ``instance`` as the database has it, by column."""
    table = inspect(instance).mapper.local_table
    row = db.session.execute(sa.select(table).where(table.c.id == instance.id)).mappings().one()
    return dict(row)


def in_memory(instance) -> dict:
    mapper = inspect(instance).mapper
    return {prop.columns[0].key: getattr(instance, prop.key) for prop in mapper.column_attrs}


def test_new_rows_are_written_with_their_values_and_references(db, factory):
    existing = factory.inquiry()
    inquiries = open_cases(factory)
    for inquiry in inquiries:
        link = portal_links.new_link(inquiry)
        write_new_rows(db.session())  # the token needs the link's id
        conversation.acknowledge(inquiry, link=link)
    extra = Task(inquiry=existing, kind="call_patient", state="open", created_at=utcnow(), due_at=utcnow())
    db.session.add(extra)
    new = list(db.session.new)
    assert {type(row).__name__ for row in new} >= {"Task", "OutboundMail", "Message"}
    write_new_rows(db.session())

    assert not db.session.new
    for row in new:
        assert inspect(row).persistent
        assert stored(db, row) == in_memory(row), type(row).__name__
    for inquiry in inquiries:
        assert stored(db, inquiry)["patient_id"] == inquiry.patient.id
        (task,) = db.session.scalars(sa.select(Task).where(Task.inquiry_id == inquiry.id)).all()
        assert task.kind == "first_response"
        outbound = db.session.scalars(sa.select(OutboundMail)
                                      .where(OutboundMail.inquiry_id == inquiry.id)).one()
        sent = db.session.scalars(sa.select(Message).where(Message.outbound_id == outbound.id)).one()
        assert sent.inquiry_id == inquiry.id and outbound.kind == "acknowledgement"
        link = db.session.scalars(sa.select(PortalLink).where(PortalLink.inquiry_id == inquiry.id)).one()
        assert link.patient_id == inquiry.patient_id
    assert stored(db, extra)["inquiry_id"] == existing.id


def test_written_rows_carry_on_as_after_a_flush(db, factory):
    inquiry, = open_cases(factory, 1)
    write_new_rows(db.session())
    inquiry.reason = "changed after the write"
    task = Task(inquiry=inquiry, kind="answer_patient", state="open", created_at=utcnow(), due_at=utcnow())
    db.session.add(task)
    assert task in inquiry.tasks  # the rules read the case's task list, written or not
    write_new_rows(db.session())
    db.session.commit()  # nothing is written twice
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).reason == "changed after the write"
    kinds = sorted(task.kind for task in db.session.get(Inquiry, inquiry.id).tasks)
    assert kinds == ["answer_patient", "first_response"]


def test_rows_it_cannot_write_alike_are_left_to_the_flush(db, factory):
    # a new task pointing to a case that is not in the session yet (only the flush's cascade adds it)
    inquiry, = open_cases(factory, 1)
    orphan_case = Inquiry(patient=inquiry.patient, service="second_opinion_online", stage="new",
                          source="phone", reason="")
    assert orphan_case not in db.session
    task = Task(inquiry=orphan_case, kind="first_response", state="open", created_at=utcnow(),
                due_at=utcnow())
    db.session.add(task)
    # and a new coordinator with a center (a many-to-many collection)
    user = User(email="new.coordinator@itinera.example", name="New", role="coordinator",
                password_hash="x", centers=[factory.center("cardiology")])
    db.session.add(user)
    write_new_rows(db.session())
    db.session.commit()
    assert stored(db, task)["inquiry_id"] == orphan_case.id is not None
    assert [c.key for c in db.session.get(User, user.id).centers] == ["cardiology"]


def test_rows_written_in_a_savepoint_that_rolls_back_are_forgotten_as_flushed_rows_are(db, factory):
    kept, = open_cases(factory, 1)
    write_new_rows(db.session())  # written in the test's transaction: stays
    savepoint = db.session.begin_nested()
    undone, = open_cases(factory, 1)
    write_new_rows(db.session())
    undone_id = undone.id
    inner = db.session.begin_nested()  # a later savepoint that fails does not undo the rows before it
    inner.rollback()
    assert undone in db.session and kept in db.session
    savepoint.rollback()
    assert undone not in db.session and inspect(undone).transient
    assert kept in db.session and inspect(kept).persistent
    again, = open_cases(factory, 1)  # on SQLite it takes the id the undone case had: no clash
    write_new_rows(db.session())
    if db.session.get_bind().dialect.name == "sqlite":
        assert again.id == undone_id
    db.session.commit()
    assert {i.id for i in db.session.scalars(sa.select(Inquiry))} >= {kept.id, again.id}
    assert db.session.get(Inquiry, again.id).reason == again.reason
