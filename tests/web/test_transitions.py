"""The case page's move form refuses what the API refuses (an illegal move, a stale version),
each with its own message, and changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.models import AuditEvent, Inquiry, StageChange
from tests.conftest import csrf_from

ILLEGAL = "This move is not allowed from the current stage."
STALE = "Someone else changed this case while you were editing it."


@pytest.fixture
def coordinator(factory, auth):
    user = factory.user(centers=("cardiology",))
    auth.login(user)
    return user


def move(client, inquiry_id, to, version):
    page = client.get(f"/inquiries/{inquiry_id}")
    return client.post(f"/inquiries/{inquiry_id}/transition",
                       data={"csrf_token": csrf_from(page), "to": to, "version": version})


def moves_of(db, inquiry) -> int:
    return db.session.scalar(select(func.count(StageChange.id)).where(StageChange.inquiry_id == inquiry.id))


def test_the_form_refuses_an_illegal_move_and_a_stale_version_each_with_its_message(
        client, coordinator, factory, db):
    inquiry = factory.inquiry()
    assert move(client, inquiry.id, "intake", 1).status_code == 303
    before = moves_of(db, inquiry)

    illegal = move(client, inquiry.id, "in_care", 2)
    assert illegal.status_code == 303 and illegal.headers["Location"].endswith(f"/inquiries/{inquiry.id}")
    page = client.get(illegal.headers["Location"]).get_data(as_text=True)
    assert ILLEGAL in page and STALE not in page

    stale = move(client, inquiry.id, "records", 1)
    assert stale.status_code == 303
    page = client.get(stale.headers["Location"]).get_data(as_text=True)
    assert STALE in page and ILLEGAL not in page

    db.session.expire_all()
    case = db.session.get(Inquiry, inquiry.id)
    assert case.stage == "intake" and case.version == 2
    assert moves_of(db, inquiry) == before
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.inquiry_id == inquiry.id, AuditEvent.action == "transition")) == 1
