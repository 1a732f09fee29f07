"""Routing: suggestions with reasons, confident ones route by themselves, the rest wait in
triage; a coordinator who speaks the patient's language, else the least loaded; away."""
import pytest
from sqlalchemy import select

from crm.models import RoutingDecision, Task
from crm.services import routing
from crm.services.errors import StaleVersion
from crm.services.intake import create_inquiry


def decisions(db, inquiry):
    return db.session.scalars(select(RoutingDecision).where(RoutingDecision.inquiry_id == inquiry.id)
                              .order_by(RoutingDecision.id)).all()


def test_spanish_arritmia_goes_to_the_spanish_speaking_cardiology_coordinator(factory, db):
    factory.user(centers=("cardiology",), languages=("en",), name="English Only")
    hablante = factory.user(centers=("cardiology",), languages=("en", "es"), name="Hablante")
    inquiry = create_inquiry(factory.inquiry_data(
        center=None, preferred_language="es", country="MX", phone="+52 55 1234 5678",
        reason="Me diagnosticaron una arritmia y quisiera una segunda opinión."), source="web_form")
    assert inquiry.center.key == "cardiology"
    assert inquiry.coordinator_id == hablante.id
    (decision,) = decisions(db, inquiry)
    assert decision.kind == "auto"
    assert {"kind": "keyword", "value": "arritmia", "center": "cardiology"} in decision.reasons
    assert {"kind": "language", "value": "es"} in decision.reasons
    (task,) = db.session.scalars(select(Task).where(Task.inquiry_id == inquiry.id)).all()
    assert task.assignee_id == hablante.id


def test_words_in_any_language_route(factory, db):
    factory.user(centers=("neurology", "cancer", "cardiology"))
    for reason, center in [("My father has had seizures, the doctors suspect epilepsy", "neurology"),
                           ("我父亲被诊断为肝癌，希望得到第二诊疗意见", "cancer"),
                           ("Мне поставили диагноз мерцательная аритмия", "cardiology")]:
        inquiry = create_inquiry(factory.inquiry_data(center=None, reason=reason), source="email")
        assert inquiry.center is not None and inquiry.center.key == center, reason


def test_unsure_requests_wait_in_triage_with_the_suggestion(factory, db):
    inquiry = create_inquiry(factory.inquiry_data(center=None, reason="I would like an appointment."),
                             source="email")
    assert inquiry.center is None and inquiry.coordinator is None
    (decision,) = decisions(db, inquiry)
    assert decision.kind == "triage" and decision.center_id is None


def test_competing_centers_are_left_to_a_person(factory, db):
    inquiry = create_inquiry(factory.inquiry_data(
        center=None, date_of_birth="2019-05-01",
        reason="My son has epilepsy and a heart arrhythmia"), source="email")
    suggestion = routing.suggest_center(inquiry)
    assert not suggestion.confident and inquiry.center is None
    assert {r["center"] for r in suggestion.reasons} >= {"neurology", "cardiology", "pediatrics"}


def test_least_loaded_when_nobody_speaks_the_language(factory, db):
    busy = factory.user(centers=("neurology",), languages=("en",))
    free = factory.user(centers=("neurology",), languages=("en",))
    for _ in range(2):
        factory.inquiry(center="neurology", coordinator_id=busy.id)
    inquiry = create_inquiry(factory.inquiry_data(center="neurology", preferred_language="ru"),
                             source="phone")
    assert inquiry.coordinator_id == free.id
    assert {"kind": "load", "value": 0} in decisions(db, inquiry)[0].reasons


def test_away_coordinators_get_nothing_and_hand_over_their_work(factory, db):
    manager = factory.user(role="manager")
    leaving = factory.user(centers=("cancer",), languages=("ar",))
    staying = factory.user(centers=("cancer",), languages=("en",))
    cases = [factory.inquiry(center="cancer", coordinator_id=leaving.id) for _ in range(3)]
    assert routing.set_away(leaving, True, actor=manager) == 3  # marked away, work handed over
    assert routing.pick_coordinator(cases[0].center, "ar")[0] == staying
    for inquiry in cases:
        db.session.refresh(inquiry)
        assert inquiry.coordinator_id == staying.id
        assert decisions(db, inquiry)[-1].kind == "reassigned"
    open_tasks = db.session.scalars(select(Task).where(Task.inquiry_id.in_([c.id for c in cases]),
                                                       Task.state == "open")).all()
    assert {t.assignee_id for t in open_tasks} == {staying.id}


def test_only_managers_mark_coordinators_away(factory):
    from crm.services.errors import Forbidden, NotFound
    coordinator, colleague = factory.user(), factory.user()
    with pytest.raises(Forbidden):
        routing.set_away(colleague, True, actor=coordinator)
    with pytest.raises(NotFound):
        routing.set_away(factory.user(role="manager"), True, actor=factory.user(role="manager"))
    assert colleague.is_away is False


def test_routing_by_hand_checks_the_version(factory, db):
    coordinator = factory.user(centers=("orthopaedics",))
    inquiry = create_inquiry(factory.inquiry_data(center=None, reason="Hello"), source="email")
    center = factory.center("orthopaedics")
    routing.route_by_hand(inquiry, center, actor=coordinator, expected_version=inquiry.version)
    assert inquiry.center.key == "orthopaedics" and inquiry.coordinator_id == coordinator.id
    assert decisions(db, inquiry)[-1].kind == "manual"
    with pytest.raises(StaleVersion):
        routing.route_by_hand(inquiry, center, actor=coordinator, expected_version=1)


def test_reasons_name_the_words_the_patient_wrote(factory, db):
    spanish = create_inquiry(factory.inquiry_data(center=None, reason="Tengo arritmias desde hace años"),
                             source="email")
    assert {"kind": "keyword", "value": "arritmias", "center": "cardiology"} in decisions(db, spanish)[0].reasons
    chinese = create_inquiry(factory.inquiry_data(center=None, reason="我父亲被诊断为心律失常，医生建议手术"),
                             source="email")
    words = [r["value"] for r in routing.suggest_center(chinese).reasons]
    assert words and all(len(w) <= 6 for w in words)  # the term, not the whole sentence
