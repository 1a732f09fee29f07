"""Break-glass: a coordinator opens one case outside their centers for a limited time with a
reason; every request on it is audited, the admins are mailed and listed; it expires by itself;
it goes through the one visibility rule, at a fixed number of queries."""
from datetime import timedelta

from sqlalchemy import event, select, update

from crm.models import AuditEvent, BreakGlassGrant, OutboundMail, User
from crm.models.base import utcnow
from crm.services import break_glass
from crm.services.errors import NotFound
from crm.services.visibility import get_inquiry, visible_inquiries
from tests.conftest import AuthActions, csrf_from


def ask(client, reference, reason):
    page = client.get("/break-glass/")
    return client.post("/break-glass/", data={"reference": reference, "reason": reason,
                                              "csrf_token": csrf_from(page)})


REASON = "Patient arrived at the emergency room; the neurology coordinator cannot be reached."


def actions(db, user, inquiry=None):
    stmt = select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.actor_id == user.id)
    if inquiry is not None:
        stmt = stmt.where(AuditEvent.inquiry_id == inquiry.id)
    return [tuple(row) for row in db.session.execute(stmt.order_by(AuditEvent.id))]


def test_a_reason_is_required_and_nothing_is_granted_without_one(client, auth, factory, db):
    coordinator = factory.user(centers=("cardiology",))
    case = factory.inquiry(center="neurology")
    auth.login(coordinator)
    for reason, message in [("", "This field is required."), ("   ", "This field is required."),
                            ("urgent", "at least 15 characters")]:
        response = ask(client, case.reference, reason)
        assert response.status_code == 422 and message in response.get_data(as_text=True), reason
    unknown = ask(client, "ITN-999999", REASON)
    assert unknown.status_code == 422 and "No case has this reference" in unknown.get_data(as_text=True)
    assert ask(client, "'; drop table users", REASON).status_code == 422
    assert db.session.scalar(select(BreakGlassGrant.id)) is None
    assert db.session.scalar(select(OutboundMail.id).where(OutboundMail.kind == "break_glass")) is None
    assert client.get(f"/inquiries/{case.id}").status_code == 404


def test_access_works_is_audited_in_full_admins_are_told_and_other_cases_stay_hidden(
        app, client, auth, factory, db):
    admins = [factory.user(role="admin"), factory.user(role="admin", ui_locale="fr")]
    coordinator = factory.user(centers=("cardiology",))
    case, other = factory.inquiry(center="neurology"), factory.inquiry(center="neurology")
    auth.login(coordinator)
    assert client.get(f"/inquiries/{case.id}").status_code == 404
    response = ask(client, case.reference.lower(), REASON)
    assert response.status_code == 303 and response.headers["Location"] == f"/inquiries/{case.id}"
    page = client.get(f"/inquiries/{case.id}")
    assert page.status_code == 200 and "Emergency access to" in page.get_data(as_text=True)
    assert client.get(f"/patients/{case.patient_id}").status_code == 200
    assert client.get(f"/inquiries/{other.id}").status_code == 404  # only that one case
    assert client.get(f"/patients/{other.patient_id}").status_code == 404
    listed = client.get("/inquiries/").get_data(as_text=True)
    assert case.reference in listed and other.reference not in listed
    grant = db.session.scalar(select(BreakGlassGrant))
    assert grant.reason == REASON and grant.user_id == coordinator.id
    assert grant.expires_at - grant.created_at == timedelta(minutes=60)
    trail = actions(db, coordinator, case)
    assert trail[0] == ("break_glass_granted", f"grant={grant.id} minutes=60")
    assert ("view", "") in trail
    assert ("break_glass_used", f"grant={grant.id} GET inquiries.detail 200") in trail
    assert ("break_glass_used", f"grant={grant.id} GET patients.detail 200") in trail
    db.session.refresh(grant)
    assert grant.views == 2
    mails = db.session.scalars(select(OutboundMail).where(OutboundMail.kind == "break_glass")
                               .order_by(OutboundMail.id)).all()
    assert [m.to_addr.split("<")[1].rstrip(">") for m in mails] == [a.email for a in admins]
    assert case.reference in mails[0].subject and coordinator.name in mails[0].subject
    assert mails[1].language == "fr"
    assert REASON not in mails[0].body_text and case.patient.family_name not in mails[0].body_text
    admin_client = app.test_client()
    AuthActions(admin_client).login(admins[0])
    screen = admin_client.get("/admin/").get_data(as_text=True)
    assert 'id="break-glass"' in screen and case.reference in screen and REASON in screen
    assert admin_client.get(f"/inquiries/{case.id}").status_code == 403  # admins still see no case


def test_a_refused_action_through_the_grant_is_recorded_too(client, auth, factory, db):
    coordinator = factory.user(centers=("cardiology",))
    case = factory.inquiry(center="neurology")
    auth.login(coordinator)
    ask(client, case.reference, REASON)
    page = client.get(f"/inquiries/{case.id}")
    response = client.post(f"/inquiries/{case.id}/transition", data={
        "to": "no_such_stage", "version": "1", "csrf_token": csrf_from(page)})
    assert 400 <= response.status_code < 500 or response.status_code == 303
    details = [d for a, d in actions(db, coordinator, case) if a == "break_glass_used"]
    assert any(d.endswith(f"POST inquiries.transition {response.status_code}") for d in details)


def test_the_grant_expires_by_itself_and_the_sweep_records_it_once(app, client, auth, factory, db):
    coordinator = factory.user(centers=("cardiology",))
    case = factory.inquiry(center="neurology")
    auth.login(coordinator)
    ask(client, case.reference, REASON)
    assert client.get(f"/inquiries/{case.id}").status_code == 200
    past = utcnow() - timedelta(seconds=1)
    db.session.execute(update(BreakGlassGrant).values(expires_at=past))
    db.session.execute(update(User).where(User.id == coordinator.id).values(break_glass_until=past))
    db.session.commit()
    assert client.get(f"/inquiries/{case.id}").status_code == 404
    assert case.reference not in client.get("/inquiries/").get_data(as_text=True)
    assert break_glass.expire_grants() == 1
    db.session.commit()
    assert break_glass.expire_grants() == 0
    expired = [d for a, d in actions(db, coordinator, case) if a == "break_glass_expired"]
    assert len(expired) == 1 and expired[0].endswith("views=1")


def test_the_grant_lasts_as_configured(app, factory, db):
    coordinator = factory.user(centers=("cardiology",))
    case = factory.inquiry(center="neurology")
    app.config["BREAK_GLASS_MINUTES"] = 5
    try:
        _inquiry, grant = break_glass.request_access(coordinator, case.reference, REASON)
    finally:
        app.config["BREAK_GLASS_MINUTES"] = 60
    assert grant.expires_at - grant.created_at == timedelta(minutes=5)
    assert get_inquiry(coordinator, case.id) == case
    # a case in reach needs no grant; asking again while it runs gives the same grant
    assert break_glass.request_access(coordinator, factory.inquiry(center="cardiology").reference, REASON)[1] is None
    assert break_glass.request_access(coordinator, case.reference, REASON)[1].id == grant.id
    later = grant.expires_at + timedelta(seconds=1)
    from crm.services.visibility import granted_inquiries
    assert granted_inquiries(coordinator, now=later) == {}


def test_only_coordinators_ask(client, factory):
    for role in ("manager", "admin"):
        other = client.application.test_client()
        AuthActions(other).login(factory.user(role=role))
        assert other.get("/break-glass/").status_code == 403


def count_queries(db, client, url):
    statements = []

    def record(*args, **kwargs):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, url
    return len(statements)


def test_the_lists_keep_a_fixed_number_of_queries_with_grants(client, auth, factory, db):
    coordinator = factory.user(centers=("cardiology",))
    auth.login(coordinator)
    urls = ["/inquiries/", "/inquiries/board", "/tasks/"]
    cases = [factory.inquiry(center=("neurology", "cancer", "transplant")[n % 3]) for n in range(6)]
    factory.inquiry(center="cardiology")  # the lists are not empty without grants either
    without = {url: count_queries(db, client, url) for url in urls}
    for case in cases[:1]:
        break_glass.request_access(coordinator, case.reference, REASON)
    db.session.commit()
    one = {url: count_queries(db, client, url) for url in urls}
    for case in cases[1:]:
        break_glass.request_access(coordinator, case.reference, REASON)
    db.session.commit()
    many = {url: count_queries(db, client, url) for url in urls}
    assert many == one  # as many queries with six grants as with one
    assert all(one[url] <= without[url] + 1 for url in urls)  # the grants: one query per request
    seen = {i.id for i in db.session.scalars(visible_inquiries(coordinator))}
    assert {c.id for c in cases} <= seen
    try:
        get_inquiry(factory.user(centers=("cardiology",)), cases[0].id)
        raise AssertionError("another coordinator reached the case")
    except NotFound:
        pass
