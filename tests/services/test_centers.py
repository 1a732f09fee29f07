"""The default centers: created when missing, with their routing keywords; a center that exists
is never changed (``crm db upgrade`` runs this on every upgrade)."""
from crm.models import Center
from crm.services.centers import DEFAULT_CENTERS, ensure_default_centers


def test_existing_centers_keep_what_an_admin_changed(db):
    cardiology = db.session.scalars(db.select(Center).filter_by(key="cardiology")).one()
    cardiology.keywords = {}  # routing by words switched off on purpose
    cardiology.names = {**cardiology.names, "en": "Heart Center"}
    db.session.flush()
    ensure_default_centers()
    db.session.refresh(cardiology)
    assert cardiology.keywords == {} and cardiology.names["en"] == "Heart Center"


def test_missing_centers_are_created_with_their_keywords(db):
    neurology = db.session.scalars(db.select(Center).filter_by(key="neurology")).one()
    db.session.delete(neurology)
    db.session.flush()
    centers = ensure_default_centers()
    assert [c.key for c in centers][:len(DEFAULT_CENTERS)] == [key for key, _ in DEFAULT_CENTERS]
    created = next(c for c in centers if c.key == "neurology")
    assert created.keywords["en"] and created.id is not None
