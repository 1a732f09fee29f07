"""Every access to patients' data leaves its event on the audit trail: a table of requests (staff
pages, actions, downloads, lists, the API, the portal, sign-in), each with the events it must
write, in and out of the user's reach; every route is accounted for; no patient value and no
email typed at the sign-in reaches the trail."""
import io

import pytest
import sqlalchemy as sa

from crm.extensions import limiter
from crm.jobs.scheduler import JOBS, run_job
from crm.main.access_audit import ENDPOINT_RECORDS, LISTS, RECORD_ARGS
from crm.models import AuditEvent, Document, InboundMail
from crm.services import audit
from crm.services.users import create_api_token
from tests.conftest import AuthActions, csrf_from
from tests.web.test_portal import PDF, link_from_mail

#: Routes that show no patient's data (accounts, centers, the dashboard's aggregates, health).
NO_PATIENT_DATA = {
    "static", "main.index", "main.healthz", "main.readyz", "main.set_language", "auth.login", "auth.code",
    "auth.setup", "auth.logout", "account.index", "account.password", "account.recovery_codes",
    "account.reset_two_step", "account.two_step", "account.two_step_off", "admin.index", "admin.create_user",
    "admin.edit_user", "admin.edit_center", "admin.audit_trail", "admin.audit_export", "dashboard.index",
    "api.get_dashboard", "break_glass.index", "tasks.set_away", "inquiries.search", "public.thanks",
    "portal.new_link"}
#: Routes whose events come from the view or its service (the portal's service account, the
#: request form, a new case, an export streamed after the request).
OWN_EVENTS = {"inquiries.create", "inquiries.export_csv", "api.create_inquiry", "api.mail_inbound",
              "public.request_form"}


def test_every_route_is_accounted_for(app):
    unaccounted = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if (endpoint in NO_PATIENT_DATA or endpoint in OWN_EVENTS or endpoint in LISTS
                or endpoint in ENDPOINT_RECORDS or endpoint.startswith("portal.")
                or set(rule.arguments) & set(RECORD_ARGS)):
            continue
        unaccounted.append(endpoint)
    assert unaccounted == [], "a route that may show patients' data without an audit event"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def world(app, factory, db):
    """A coordinator of cardiology with a case in reach and one out of reach, a document on the
    first, the patient's portal link, an API token, a manager and an admin."""
    coordinator = factory.user(centers=("cardiology",))
    mine = factory.inquiry(center="cardiology", actor=coordinator)
    other = factory.inquiry(center="neurology")
    token = link_from_mail(db, mine)
    patient = app.test_client()
    page = patient.get(f"/p/{token}")
    patient.post(f"/p/{token}/upload", data={"csrf_token": csrf_from(page), "item": "other",
                                            "file": (io.BytesIO(PDF), "labs.pdf")},
                 content_type="multipart/form-data")
    document = db.session.scalar(sa.select(Document).where(Document.inquiry_id == mine.id))
    api_token = create_api_token(coordinator)
    db.session.commit()
    staff = app.test_client()
    AuthActions(staff).login(coordinator)
    admin_user = factory.user(role="admin")
    admin = app.test_client()
    AuthActions(admin).login(admin_user)
    return {"coordinator": coordinator, "mine": mine, "other": other, "token": token, "patient": patient,
            "document": document, "api_token": api_token, "staff": staff, "admin": admin,
            "admin_user": admin_user}


def last_id(db):
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def events_after(db, before):
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)).all()


def post(client, url, data=None):
    return client.post(url, data={"csrf_token": client.csrf, **(data or {})})


# (name, client, request, [(action, record_type, record, outcome)]); record "mine"/"other"/"patient"/…
# names the id expected in record_id (None: a list).
CASES = [
    ("case page", "staff", lambda w, c: c.get(f"/inquiries/{w['mine'].id}"),
     [("view", "inquiry", "mine", "success")]),
    ("case page out of reach", "staff", lambda w, c: c.get(f"/inquiries/{w['other'].id}"),
     [("view", "inquiry", "other", "denied")]),
    ("a case that does not exist", "staff", lambda w, c: c.get("/inquiries/987654"),
     [("view", "inquiry", 987654, "denied")]),
    ("edit form", "staff", lambda w, c: c.get(f"/inquiries/{w['mine'].id}/edit"),
     [("view", "inquiry", "mine", "success")]),
    ("note added", "staff", lambda w, c: post(c, f"/inquiries/{w['mine'].id}/notes", {"body": "Called"}),
     [("change", "inquiry", "mine", "success")]),
    ("empty note refused", "staff", lambda w, c: post(c, f"/inquiries/{w['mine'].id}/notes", {"body": ""}),
     [("change", "inquiry", "mine", "failed")]),
    ("stale move refused", "staff", lambda w, c: post(c, f"/inquiries/{w['mine'].id}/transition",
                                                      {"to": "intake", "version": "99"}),
     [("change", "inquiry", "mine", "failed")]),
    ("move out of reach", "staff", lambda w, c: post(c, f"/inquiries/{w['other'].id}/transition",
                                                     {"to": "intake", "version": "1"}),
     [("change", "inquiry", "other", "denied")]),
    ("document", "staff", lambda w, c: c.get(f"/inquiries/{w['mine'].id}/documents/{w['document'].id}"),
     [("download", "inquiry", "mine", "success")]),
    ("patient page", "staff", lambda w, c: c.get(f"/patients/{w['mine'].patient_id}"),
     [("view", "patient", "patient", "success")]),
    ("patient out of reach", "staff", lambda w, c: c.get(f"/patients/{w['other'].patient_id}"),
     [("view", "patient", "other_patient", "denied")]),
    ("patient edit form", "staff", lambda w, c: c.get(f"/patients/{w['mine'].patient_id}/edit"),
     [("view", "patient", "patient", "success")]),
    ("list", "staff", lambda w, c: c.get("/inquiries/?stage=new&center=cardiology"),
     [("view", "inquiry_list", None, "success")]),
    ("board", "staff", lambda w, c: c.get("/inquiries/board"), [("view", "inquiry_list", None, "success")]),
    ("tasks", "staff", lambda w, c: c.get("/tasks/"), [("view", "task_list", None, "success")]),
    ("duplicates", "staff", lambda w, c: c.get("/patients/duplicates"), [("view", "patient_list", None, "success")]),
    ("CSV export", "staff", lambda w, c: c.get("/inquiries/export.csv"), [("export", None, None, "success")]),
    ("API case", "api", lambda w, c: c.get(f"/api/v1/inquiries/{w['mine'].id}"),
     [("view", "inquiry", "mine", "success")]),
    ("API case out of reach", "api", lambda w, c: c.get(f"/api/v1/inquiries/{w['other'].id}"),
     [("view", "inquiry", "other", "denied")]),
    ("API list", "api", lambda w, c: c.get("/api/v1/inquiries?stage=new"), [("view", "inquiry_list", None, "success")]),
    ("API tasks", "api", lambda w, c: c.get("/api/v1/tasks"), [("view", "task_list", None, "success")]),
    ("FHIR export", "api", lambda w, c: c.get(f"/api/v1/inquiries/{w['mine'].id}/fhir"),
     [("export", "inquiry", "mine", "success")]),
    ("an admin is refused a case", "admin", lambda w, c: c.get(f"/inquiries/{w['mine'].id}"),
     [("view", "inquiry", "mine", "denied")]),
    ("portal", "patient", lambda w, c: c.get(f"/p/{w['token']}"), [("view", "inquiry", "mine", "success")]),
    ("portal reply", "patient", lambda w, c: post(c, f"/p/{w['token']}/reply", {"body": "Gracias"}),
     [("view", "inquiry", "mine", "success"), ("change", "inquiry", "mine", "success")]),
]


class Api:
    def __init__(self, client, token):
        self.client, self.token = client, token

    def get(self, url):
        return self.client.get(url, headers={"Authorization": f"Bearer {self.token}"})


def with_csrf(client, page):
    """The client, with the CSRF token of a page read before (its own event not counted)."""
    client.csrf = csrf_from(client.get(page))
    return client


@pytest.mark.parametrize("name", [case[0] for case in CASES])
def test_each_access_writes_its_events(app, db, world, name):
    _name, who, call, expected = next(case for case in CASES if case[0] == name)
    if who == "api":
        client = Api(app.test_client(), world["api_token"])
    else:
        client = with_csrf(world[who], f"/p/{world['token']}" if who == "patient" else "/account/")
    ids = {"mine": world["mine"].id, "other": world["other"].id, "patient": world["mine"].patient_id,
           "other_patient": world["other"].patient_id}
    before = last_id(db)
    response = call(world, client)
    assert response.status_code < 500
    events = events_after(db, before)
    got = [(e.action, e.record_type, e.record_id, e.outcome) for e in events]
    want = [(action, kind, ids.get(record, record), outcome) for action, kind, record, outcome in expected]
    assert got == want
    actor = {"staff": world["coordinator"], "api": world["coordinator"], "admin": world["admin_user"]}.get(who)
    for event in events:
        assert event.created_at is not None and event.hash
        if actor is None:
            assert (event.actor_id, event.service, event.role) == (None, "portal", "service")
        else:
            assert (event.actor_id, event.role, event.service) == (actor.id, actor.role, None)
            assert event.address == "127.0.0.1"
        if event.outcome == "denied":
            assert event.inquiry_id is None and event.patient_id is None  # named by record only
        elif event.record_type == "inquiry":
            assert (event.inquiry_id, event.patient_id) == (world["mine"].id, world["mine"].patient_id)
        elif event.record_type == "patient":
            assert event.patient_id == world["mine"].patient_id
        assert world["mine"].patient.family_name not in event.detail
        assert "Gracias" not in event.detail and "cardiology" not in event.detail.split("filters=")[-1]
    assert audit.verify().ok


def test_sign_in_and_failed_sign_in(app, db, factory):
    user = factory.user()
    client = app.test_client()
    before = last_id(db)
    page = client.get("/login")
    client.post("/login", data={"email": user.email, "password": "wrong one", "csrf_token": csrf_from(page)})
    client.post("/login", data={"email": "someone.else@hospital.example", "password": "guess",
                                "csrf_token": csrf_from(page)})
    AuthActions(client).login(user)
    events = [(e.action, e.actor_id, e.role, e.service, e.outcome, e.detail) for e in events_after(db, before)]
    assert events == [("sign_in_failed", user.id, "coordinator", None, "failed", ""),
                      ("sign_in_failed", None, None, "anonymous", "failed", "unknown_account"),
                      ("sign_in", user.id, "coordinator", None, "success", "")]
    rows = db.session.execute(sa.select(AuditEvent.__table__)).all()
    assert not any("someone.else" in str(value) for row in rows for value in row)


def test_the_records_reminder_job_reads_as_the_scheduler(app, db, factory):
    from datetime import timedelta

    from crm.models import Task
    from crm.models.base import utcnow
    from crm.services import conversation, pipeline
    coordinator = factory.user()
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    for stage in ("intake", "records"):
        pipeline.transition_inquiry(inquiry, stage, actor=coordinator, expected_version=inquiry.version)
    conversation.request_records(inquiry, ["lab_results"], actor=coordinator)
    chase = db.session.scalar(sa.select(Task).where(Task.inquiry_id == inquiry.id, Task.kind == "records_chase"))
    chase.due_at = utcnow() - timedelta(minutes=1)  # due now
    db.session.commit()
    before = last_id(db)
    job = next(job for job in JOBS if job.name == "send_records_reminders")
    assert run_job(app, job) == 1
    events = [e for e in events_after(db, before) if e.inquiry_id == inquiry.id]
    assert [(e.service, e.role, e.actor_id, e.action) for e in events] == [("scheduler", "service", None, "change")]
    assert events[0].detail.startswith("mail=reminder") and events[0].patient_id == inquiry.patient_id


def test_a_quarantined_message_download_is_audited(app, db, world):
    from crm.services import mailbox
    mailbox.ingest(b"not a message at all", source="file")
    db.session.commit()
    record = db.session.scalar(sa.select(InboundMail).where(InboundMail.outcome == "rejected"))
    before = last_id(db)
    assert world["admin"].get(f"/admin/mail/{record.id}.eml").status_code == 200
    assert [(e.action, e.actor_id) for e in events_after(db, before)] == [("download", world["admin_user"].id)]
