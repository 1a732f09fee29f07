"""Triage and routing on screen; managers mark a coordinator away."""
from sqlalchemy import select

from crm.models import Inquiry
from crm.services.intake import create_inquiry
from tests.conftest import csrf_from


def test_triage_queue_and_routing_by_hand(client, auth, factory, db):
    coordinator = factory.user(centers=("orthopaedics",))
    auth.login(coordinator)
    inquiry = create_inquiry(factory.inquiry_data(center=None, reason="Please call me back",
                                                  family_name="Unsure"), source="email")
    db.session.commit()
    board = client.get("/inquiries/board").get_data(as_text=True)
    assert 'class="badge text-bg-warning">1<' in board
    queue = client.get("/inquiries/?unrouted=1").get_data(as_text=True)
    assert "Unsure" in queue
    page = client.get(f"/inquiries/{inquiry.id}")
    html = page.get_data(as_text=True)
    assert "Route this inquiry" in html and "No center matched" in html
    response = client.post(f"/inquiries/{inquiry.id}/route", data={
        "csrf_token": csrf_from(page), "center": "orthopaedics", "version": inquiry.version})
    assert response.status_code == 303
    html = client.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    assert "Routed by hand to Orthopaedics, coordinator %s." % coordinator.name in html
    assert "Unsure" not in client.get("/inquiries/?unrouted=1").get_data(as_text=True)


def test_suggestion_is_shown_with_its_reasons(client, auth, factory, db):
    auth.login(factory.user(centers=("cardiology", "neurology")))
    inquiry = create_inquiry(factory.inquiry_data(center=None, reason="epilepsy and arrhythmia"),
                             source="email")
    db.session.commit()
    html = client.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    assert "matched “arrhythmia”" in html and "matched “epilepsy”" in html


def test_automatic_routing_is_on_the_timeline(client, auth, factory, db):
    coordinator = factory.user(centers=("cardiology",), languages=("es",), name="Lucía Médica")
    auth.login(coordinator)
    inquiry = create_inquiry(factory.inquiry_data(center=None, preferred_language="es",
                                                  reason="Tengo una arritmia"), source="web_form")
    db.session.commit()
    html = client.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    assert "Routed to Cardiology and Cardiac Surgery, coordinator Lucía Médica." in html
    assert "matched “arritmia”" in html and "speaks Spanish" in html


def test_manager_marks_a_coordinator_away_in_one_step(client, auth, factory, db):
    leaving = factory.user(centers=("cancer",), name="Leaving Soon")
    staying = factory.user(centers=("cancer",))
    case = factory.inquiry(center="cancer", coordinator_id=leaving.id)
    auth.login(factory.user(role="manager"))
    page = client.get("/tasks/")
    assert "Leaving Soon" in page.get_data(as_text=True)
    response = client.post(f"/tasks/team/{leaving.id}/away", data={"csrf_token": csrf_from(page), "away": "1"})
    assert response.status_code == 303
    assert "Leaving Soon is away; 1 open case was handed over." in client.get("/tasks/").get_data(as_text=True)
    db.session.refresh(case)
    assert case.coordinator_id == staying.id
    coordinator_page = client.get("/tasks/")
    assert client.post(f"/tasks/team/{leaving.id}/away",
                       data={"csrf_token": csrf_from(coordinator_page), "away": "0"}).status_code == 303
    db.session.refresh(leaving)
    assert leaving.is_away is False


def test_coordinators_cannot_mark_colleagues_away(client, auth, factory):
    colleague = factory.user()
    auth.login(factory.user())
    page = client.get("/tasks/")
    response = client.post(f"/tasks/team/{colleague.id}/away", data={"csrf_token": csrf_from(page), "away": "1"})
    assert response.status_code == 403


def test_admin_edits_center_keywords_and_they_route(client, auth, factory, db):
    auth.login(factory.user(role="admin"))
    center = factory.center("womens_health")
    page = client.get(f"/admin/centers/{center.id}")
    assert "endometri" in page.get_data(as_text=True).lower()
    data = {"csrf_token": csrf_from(page), "key": "womens_health", "is_active": "y",
            "name_en": "Women's Health", "kw_en": "zebra syndrome, unicornitis"}
    assert client.post(f"/admin/centers/{center.id}", data=data).status_code == 303
    db.session.refresh(center)
    assert center.keywords["en"] == ["zebra syndrome", "unicornitis"]
    factory.user(centers=("womens_health",))
    inquiry = create_inquiry(factory.inquiry_data(center=None, reason="I have Zebra Syndrome"), source="email")
    assert inquiry.center.key == "womens_health"
    db.session.rollback()
    assert db.session.scalar(select(Inquiry.id).where(Inquiry.id == -1)) is None
