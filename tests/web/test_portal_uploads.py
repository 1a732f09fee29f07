"""Portal uploads: a failed one leaves no file behind, a successful one's file stays; only an
upload that completes the records asked for (or a message) ends the wait on the patient."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.extensions import limiter
from crm.models import ChecklistItem, Document, Inquiry, Task
from crm.models.base import utcnow
from crm.services import conversation, pipeline
from tests.conftest import AuthActions, csrf_from
from tests.services.test_stored_files import refuse_inserts
from tests.web.test_portal import PDF, link_from_mail, upload


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def coordinator(factory, app):
    user = factory.user(centers=("cardiology",))
    AuthActions(app.test_client()).login(user)
    return user


def on_disk(app) -> set[str]:
    return {p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir()}


def documents_of(db, inquiry) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Document.storage_name).where(Document.inquiry_id == inquiry.id)))


# --- files left behind -----------------------------------------------------------------------------

def test_an_upload_whose_transaction_fails_leaves_no_file_and_a_good_one_keeps_its_file(
        client, factory, db, app):
    inquiry = factory.inquiry(preferred_language="en")
    token = link_from_mail(db, inquiry)
    before = on_disk(app)
    assert upload(client, token, PDF, "first.pdf").status_code == 303
    [kept] = documents_of(db, inquiry)
    assert on_disk(app) - before == {kept}

    refuse_inserts(db, "documents")  # the database refuses the row after the file is stored
    failed = upload(client, token, PDF, "second.pdf")
    assert failed.status_code == 500
    assert "Something went wrong on our side" in failed.get_data(as_text=True)
    assert documents_of(db, inquiry) == [kept]
    assert on_disk(app) - before == {kept}  # the second file is gone, the first one stays
    from crm.services.uploads import read_stored
    with app.app_context():
        assert read_stored(app.config["UPLOAD_DIR"], kept) == PDF  # whole (stored encrypted)


# --- what counts as the patient answering ----------------------------------------------------------

@pytest.fixture
def waiting_case(factory, db, coordinator):
    """A case in records waiting on two records, with a clock of its own paused meanwhile."""
    inquiry = factory.inquiry(preferred_language="en")
    for stage in ("intake", "records"):
        pipeline.transition_inquiry(inquiry, stage, actor=coordinator, expected_version=inquiry.version)
        db.session.commit()
    now = utcnow()
    db.session.add(Task(inquiry_id=inquiry.id, kind="stalled_case", state="open", created_at=now,
                        due_at=now + timedelta(days=3), assignee_id=coordinator.id))
    db.session.commit()
    conversation.request_records(inquiry, ["medical_summary", "lab_results"], actor=coordinator)
    db.session.commit()
    items = {i.item: i.id for i in db.session.scalars(
        select(ChecklistItem).where(ChecklistItem.inquiry_id == inquiry.id))}
    return inquiry, items, link_from_mail(db, inquiry, kind="records_request")


def clocks(db, inquiry) -> dict:
    db.session.expire_all()
    case = db.session.get(Inquiry, inquiry.id)
    tasks = {t.kind: t for t in db.session.scalars(select(Task).where(Task.inquiry_id == inquiry.id,
                                                                      Task.state == "open"))}
    return {"waiting": case.waiting_since is not None, "tasks": tasks}


def test_a_partial_upload_ticks_its_item_and_the_case_still_waits(client, db, waiting_case):
    inquiry, items, token = waiting_case
    assert clocks(db, inquiry)["tasks"]["stalled_case"].paused_at is not None

    assert upload(client, token, PDF, "labs.pdf", item=str(items["lab_results"])).status_code == 303
    assert db.session.get(ChecklistItem, items["lab_results"]).received_at is not None
    assert db.session.get(ChecklistItem, items["medical_summary"]).received_at is None
    now = clocks(db, inquiry)
    assert now["waiting"]
    assert now["tasks"]["stalled_case"].paused_at is not None  # its clock still waits
    assert now["tasks"]["records_chase"].paused_at is None  # the chase goes on
    assert "review_records" not in now["tasks"]

    assert upload(client, token, PDF, "other.pdf").status_code == 303  # not on the checklist
    assert clocks(db, inquiry)["waiting"]
    assert clocks(db, inquiry)["tasks"]["stalled_case"].paused_at is not None


def test_the_upload_that_completes_the_records_ends_the_wait(client, db, waiting_case):
    inquiry, items, token = waiting_case
    assert upload(client, token, PDF, "labs.pdf", item=str(items["lab_results"])).status_code == 303
    paused = clocks(db, inquiry)["tasks"]["stalled_case"]
    was_due = paused.due_at
    assert upload(client, token, PDF, "summary.pdf", item=str(items["medical_summary"])).status_code == 303
    now = clocks(db, inquiry)
    assert not now["waiting"]
    stalled = now["tasks"]["stalled_case"]
    # resumed with the business time it had left: not due any earlier in business hours (a due
    # time after closing and the closing itself are the same business moment)
    from datetime import timedelta

    from crm.services.followups import calendar
    assert stalled.paused_at is None
    assert calendar().business_time_between(stalled.due_at, was_due) == timedelta(0)
    assert "records_chase" not in now["tasks"] and "review_records" in now["tasks"]


def test_a_message_from_the_patient_ends_the_wait_even_before_the_records_are_in(client, db, waiting_case):
    inquiry, items, token = waiting_case
    assert upload(client, token, PDF, "labs.pdf", item=str(items["lab_results"])).status_code == 303
    page = client.get(f"/p/{token}")
    assert client.post(f"/p/{token}/reply", data={"csrf_token": csrf_from(page),
                                                  "body": "The summary comes next week."}).status_code == 303
    now = clocks(db, inquiry)
    assert not now["waiting"] and now["tasks"]["stalled_case"].paused_at is None


def test_the_coordinator_ticking_off_the_last_record_ends_the_wait(db, waiting_case, coordinator):
    inquiry, items, _token = waiting_case
    inquiry = db.session.get(Inquiry, inquiry.id)
    conversation.mark_received(inquiry, items["lab_results"], actor=coordinator)
    db.session.commit()
    assert clocks(db, inquiry)["waiting"]
    conversation.mark_received(inquiry, items["medical_summary"], actor=coordinator)  # came by post
    db.session.commit()
    now = clocks(db, inquiry)
    assert not now["waiting"] and now["tasks"]["stalled_case"].paused_at is None
    assert db.session.scalar(select(func.count(Task.id)).where(
        Task.inquiry_id == inquiry.id, Task.kind == "review_records", Task.state == "open")) == 1
