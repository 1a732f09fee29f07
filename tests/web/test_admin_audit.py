"""The admins' audit screen: filters by who, action, outcome, record, patient and dates; pages
newest first; the CSV download (formula-safe, whole, itself audited); everyone else refused;
bad filters a clear 422; each filter answered through an index."""
import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.models import AuditEvent
from crm.models.base import utcnow
from crm.services import audit
from crm.services.formatting import staff_zone
from tests.conftest import AuthActions


@pytest.fixture
def trail(app, db, factory):
    """A coordinator's views and changes, a portal view, a refused access; an admin signed in."""
    coordinator = factory.user(centers=("cardiology",), name="Nadia Coordinator")
    mine = factory.inquiry(center="cardiology", actor=coordinator)
    other = factory.inquiry(center="neurology")
    audit.record("view", actor=coordinator, inquiry=mine)
    audit.record("view", actor=coordinator, record_type="inquiry", record_id=other.id, outcome="denied")
    audit.record("view", actor=None, inquiry=mine, origin="portal")
    audit.record("change", actor=coordinator, inquiry=mine, detail="=HYPERLINK(\"http://evil\")")
    db.session.commit()
    admin = factory.user(role="admin")
    client = app.test_client()
    AuthActions(client).login(admin)
    return {"coordinator": coordinator, "mine": mine, "other": other, "admin": admin, "client": client}


def shown(response) -> list[str]:
    """The ids of the events listed on the page, top to bottom."""
    import re
    html = response.get_data(as_text=True)
    table = html.split('id="audit-events"', 1)[1].split("</table>", 1)[0] if 'id="audit-events"' in html else ""
    return re.findall(r'<td class="text-body-secondary">(\d+)</td>', table)


def ids(db, **where) -> list[str]:
    stmt = sa.select(AuditEvent.id).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, name) == value)
    return [str(i) for i in db.session.scalars(stmt)]


def test_the_screen_lists_and_filters(db, trail):
    client, coordinator, mine, other = trail["client"], trail["coordinator"], trail["mine"], trail["other"]
    expected = ids(db)
    everything = client.get("/admin/audit")
    assert everything.status_code == 200 and "Nadia Coordinator" in everything.get_data(as_text=True)
    assert shown(everything) == expected[:50]
    for query, where in [
        (f"who=user:{coordinator.id}", {"actor_id": coordinator.id}),
        ("who=service:portal", {"service": "portal"}),
        ("action=change", {"action": "change"}),
        ("outcome=denied", {"outcome": "denied"}),
        (f"patient={mine.patient_id}", {"patient_id": mine.patient_id}),
        (f"record_type=inquiry&record_id={other.id}", {"record_type": "inquiry", "record_id": other.id}),
    ]:
        expected = ids(db, **where)[:50]
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, query
        assert shown(response) == expected and expected, query
    today = utcnow().astimezone(staff_zone()).date()
    assert shown(client.get(f"/admin/audit?date_from={today}&date_to={today}&action=change")) == ids(db, action="change")
    tomorrow = today + timedelta(days=1)
    assert shown(client.get(f"/admin/audit?date_from={tomorrow}")) == []
    # the denied access names the record asked for, not the patient
    denied = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.outcome == "denied"))
    assert (denied.record_id, denied.inquiry_id, denied.patient_id) == (other.id, None, None)


def test_pages_go_on_below_the_last_event_shown(db, trail):
    for n in range(60):
        audit.record("view", actor=trail["coordinator"], inquiry=trail["mine"], detail=f"n={n}")
    db.session.commit()
    client = trail["client"]
    expected = ids(db, action="view")
    first = client.get("/admin/audit?action=view")
    listed = shown(first)
    assert listed == expected[:50]
    older = client.get(f"/admin/audit?action=view&before={listed[-1]}")
    assert shown(older) == expected[50:100] and len(expected) > 50
    assert "before=" in first.get_data(as_text=True)
    assert client.get("/admin/audit?before=nonsense").status_code == 200  # the first page


@pytest.mark.parametrize("query, message", [
    ("date_from=2026-13-45", "Not a valid date value."),
    ("date_from=2026-05-02&date_to=2026-05-01", "The end date comes before the start date."),
    ("patient=-4", "Number must be between"),
    ("patient=abc", "Not a valid integer value."),
    ("record_id=12", "Choose what kind of record this id is."),
    ("who=user:99999", "Not a valid choice."),
    ("action=drop_table", "Not a valid choice."),
])
def test_bad_filters_are_a_clear_422(trail, query, message):
    for url in ("/admin/audit", "/admin/audit/export.csv"):
        response = trail["client"].get(f"{url}?{query}")
        assert response.status_code == 422 and message in response.get_data(as_text=True), (url, query)


def test_the_csv_is_whole_formula_safe_and_audited(db, trail):
    response = trail["client"].get(f"/admin/audit/export.csv?who=user:{trail['coordinator'].id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["id", "created_at", "actor_id", "actor"] and rows[0][-2:] == ["prev_hash", "hash"]
    assert [r[0] for r in rows[1:]] == ids(db, actor_id=trail["coordinator"].id)
    change = next(r for r in rows[1:] if r[6] == "change")
    assert change[14] == "'=HYPERLINK(\"http://evil\")"  # never a formula in a spreadsheet
    assert change[3] == trail["coordinator"].email
    export = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export",
                                                           AuditEvent.record_type == "audit_trail"))
    assert export.actor_id == trail["admin"].id and export.detail == f"csv filters=actor_id rows={len(rows) - 1}"
    assert export.address == "127.0.0.1"
    assert audit.verify().ok


def test_only_admins_open_it(app, factory):
    for role in ("coordinator", "manager"):
        client = app.test_client()
        AuthActions(client).login(factory.user(role=role))
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/audit/export.csv").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/admin/audit").status_code == 302


def test_each_filter_is_answered_through_an_index(db, trail):
    """On SQLite (PostgreSQL rightly scans a table this small): each filter's query plan walks
    its index, newest first, with no sort of the rows."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan is checked on SQLite; PostgreSQL rightly scans a table this small")
    from crm.services.audit_search import Filters, statement
    today = utcnow().date()
    for filters, index in [(Filters(), "ix_audit_events_created"),
                           (Filters(actor_id=1, date_from=today), "ix_audit_events_actor"),
                           (Filters(service="portal"), "ix_audit_events_service"),
                           (Filters(patient_id=1), "ix_audit_events_patient"),
                           (Filters(record_type="inquiry", record_id=1), "ix_audit_events_record"),
                           (Filters(action="view"), "ix_audit_events_action"),
                           (Filters(outcome="denied"), "ix_audit_events_outcome")]:
        compiled = statement(filters).limit(51).compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(row[-1] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert index in plan and "TEMP B-TREE" not in plan, (filters, plan)
