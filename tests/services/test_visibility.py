"""The one visibility rule."""
import pytest
from sqlalchemy import select

from crm.models import AuditEvent
from crm.services.errors import NotFound
from crm.services.visibility import get_inquiry, get_patient, visible_inquiries



def test_coordinators_see_their_centers_their_own_and_unrouted(factory, db):
    cardio = factory.user(centers=("cardiology",))
    neuro = factory.user(centers=("neurology",))
    heart = factory.inquiry(center="cardiology")
    brain = factory.inquiry(center="neurology")
    unrouted = factory.inquiry(center=None)
    assigned = factory.inquiry(center="cancer", coordinator_id=cardio.id)
    seen = {i.id for i in db.session.scalars(visible_inquiries(cardio))}
    assert {heart.id, unrouted.id, assigned.id} <= seen
    assert brain.id not in seen
    with pytest.raises(NotFound):
        get_inquiry(cardio, brain.id)
    with pytest.raises(NotFound):
        get_patient(cardio, brain.patient_id)
    assert get_inquiry(neuro, brain.id) == brain


def test_managers_see_everything_admins_nothing(factory, db):
    manager, admin = factory.user(role="manager"), factory.user(role="admin")
    inquiry = factory.inquiry(center="transplant")
    assert get_inquiry(manager, inquiry.id) == inquiry
    with pytest.raises(NotFound):
        get_inquiry(admin, inquiry.id)
    assert db.session.scalars(visible_inquiries(admin)).first() is None


def test_inactive_users_see_nothing(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    coordinator.is_active = False
    with pytest.raises(NotFound):
        get_inquiry(coordinator, inquiry.id)


def test_garbage_ids_are_not_found(factory):
    manager = factory.user(role="manager")
    for value in ("abc", None, "1; drop table", 10**12):
        with pytest.raises(NotFound):
            get_inquiry(manager, value)


def test_audit_trail_is_append_only(factory, db):
    factory.inquiry()
    event = db.session.scalars(select(AuditEvent)).first()
    assert event is not None
    event.detail = "tampered"
    with pytest.raises(Exception):
        db.session.flush()
    db.session.rollback()
