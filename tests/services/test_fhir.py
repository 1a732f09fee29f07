"""The FHIR R4 export of a case: a Bundle that the R4 (4.0.1) models of ``fhir.resources``
accept, whose references all resolve inside it, with the BSeR business status (the clinical
review's decision included), the patient's language and interpreter need, the messages both ways,
the appointments as booked, proposed or cancelled, the documents by kind and the consent."""
from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crm.models import AuditEvent, Message, Task
from crm.services import (appointments, conversation, fhir, finance, followups, intake, opinion, outbox,
                          pipeline, review, travel, uploads, visa_letter)
from tests import mail_samples as samples

REFERRER = {"referring_name": "Dr. Karim Nassar", "referring_email": "k.nassar@kfsh.example",
            "referring_institution": "King Faisal Specialist Hospital", "referring_country": "SA"}
REASON = "أعاني من عدم انتظام ضربات القلب منذ سنتين"
REPLY = "Thank you for writing to us. Please send your latest echocardiogram report."
PATIENT_WROTE = "شكراً لكم، سأرسل التقرير اليوم."
BOSTON = ZoneInfo("America/New_York")
#: 9:30 in Boston, daylight saving time (UTC-4): 13:30 UTC
VISIT = datetime(2031, 3, 14, 9, 30, tzinfo=BOSTON)
PLACE = "Heart and Vascular Center, 3rd floor"

#: The codes FHIR R4 binds as *required* for the elements the export fills (hl7.org/fhir/R4).
R4_REQUIRED = {
    ("Bundle", "type"): {"document", "message", "transaction", "transaction-response", "batch",
                         "batch-response", "history", "searchset", "collection"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("ServiceRequest", "status"): {"draft", "active", "on-hold", "revoked", "completed",
                                   "entered-in-error", "unknown"},
    ("ServiceRequest", "intent"): {"proposal", "plan", "directive", "order", "original-order",
                                   "reflex-order", "filler-order", "instance-order", "option"},
    ("Task", "status"): {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
                         "in-progress", "on-hold", "failed", "completed", "entered-in-error"},
    ("Task", "intent"): {"unknown", "proposal", "plan", "order", "original-order", "reflex-order",
                         "filler-order", "instance-order", "option"},
    ("Communication", "status"): {"preparation", "in-progress", "not-done", "on-hold", "stopped",
                                  "completed", "entered-in-error", "unknown"},
    ("Appointment", "status"): {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled",
                                "noshow", "entered-in-error", "checked-in", "waitlist"},
    ("DocumentReference", "status"): {"current", "superseded", "entered-in-error"},
    ("Consent", "status"): {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"},
}


def r4_bundle(data: dict):
    """``data`` parsed by the R4 models: raises on anything R4 does not allow."""
    import fhir.resources
    from fhir.resources.bundle import Bundle
    assert fhir.resources.__fhir_version__ == "4.0.1"  # R4 itself, not R4B or R5
    return Bundle.parse_obj(json.loads(json.dumps(data)))


def resources(bundle: dict, kind: str | None = None) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if kind is None or e["resource"]["resourceType"] == kind]


def by_url(bundle: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def references(value) -> list[str]:
    """Every ``reference`` anywhere in ``value``."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for item in value.values() for r in references(item)]
    if isinstance(value, list):
        return [r for item in value for r in references(item)]
    return []


def resolve(bundle: dict, reference: dict) -> dict:
    return by_url(bundle)[reference["reference"]]


def db_tasks(inquiry) -> list[Task]:
    from crm.extensions import db
    return db.session.scalars(sa.select(Task).where(Task.inquiry_id == inquiry.id)).all()


def check_r4(bundle: dict) -> None:
    """Valid R4, references inside, the required codes and the invariants the models skip."""
    r4_bundle(bundle)
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    for url in urls:
        assert url.startswith("urn:uuid:") and uuid.UUID(url.removeprefix("urn:uuid:"))
    keys = [(r["resourceType"], r["id"]) for r in resources(bundle)]
    assert len(keys) == len(set(keys))
    assert set(references(bundle)) <= set(urls), set(references(bundle)) - set(urls)
    assert bundle["type"] in R4_REQUIRED[("Bundle", "type")]
    for resource in resources(bundle):
        for (kind, field), codes in R4_REQUIRED.items():
            if resource["resourceType"] == kind and field in resource:
                assert resource[field] in codes, (kind, field, resource[field])
        if resource["resourceType"] == "Appointment":
            for participant in resource["participant"]:
                assert participant["status"] in {"accepted", "declined", "tentative", "needs-action"}
            # app-3: only a proposed, cancelled or waitlisted appointment may lack start and end
            assert ("start" in resource and "end" in resource) or \
                resource["status"] in {"proposed", "cancelled", "waitlist"}
        if resource["resourceType"] == "Consent":
            assert "policy" in resource or "policyRule" in resource  # ppc-1
            assert resource["provision"]["type"] in {"deny", "permit"}


@pytest.fixture
def coordinator(factory):
    return factory.user(role="coordinator", centers=("cardiology",), languages=("ar", "en"),
                        name="Nadia Saleh")


@pytest.fixture
def case(app, db, factory, coordinator, monkeypatch, tmp_path):
    """A patient from Riyadh who writes Arabic, referred by her cardiologist through the online
    form (consent given), answered, asked for records, writing back, uploading her report in the
    portal, and booked an appointment (confirmed, mailed with its calendar file); the mail to her
    delivered."""
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    data = factory.inquiry_data(reason=REASON, **REFERRER, coordinator_id=coordinator.id)
    inquiry = intake.create_inquiry(data, source="web_form", consent=True)
    db.session.commit()
    conversation.send_reply(inquiry, REPLY, actor=coordinator)
    for stage in ("intake", "records"):
        pipeline.transition_inquiry(inquiry, stage, actor=coordinator, expected_version=inquiry.version)
    conversation.request_records(inquiry, ["imaging_reports"], actor=coordinator)
    db.session.commit()
    outbox.deliver_due()
    patient = inquiry.patient
    conversation.record_patient_message(inquiry, PATIENT_WROTE, channel="email", kind="email",
                                        subject="Re: your request", from_addr=patient.email, language="ar")
    stored = uploads.store(samples.MINIMAL_PDF, "echo report.pdf", upload_dir=app.config["UPLOAD_DIR"],
                           max_bytes=5 * 1024 * 1024)
    upload = conversation.record_patient_message(inquiry, "", channel="portal", kind="upload", language="ar")
    item = conversation.checklist(inquiry)[0]
    document = conversation.add_document(inquiry, stored, source="portal", message=upload, item=item)
    appointments.book(inquiry, actor=coordinator, when=VISIT, location=PLACE, physician="Dr. Amal Rahman")
    db.session.commit()
    return inquiry, document


def test_the_bundle_is_valid_fhir_r4_with_every_part_of_the_case(case, coordinator):
    inquiry, _document = case
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    assert bundle["type"] == "collection"
    kinds = {r["resourceType"] for r in resources(bundle)}
    assert kinds >= {"Patient", "ServiceRequest", "Task", "Communication", "Appointment",
                     "DocumentReference", "Consent", "Organization", "Practitioner", "PractitionerRole"}
    tasks = db_tasks(inquiry)
    assert sorted(r["id"] for r in resources(bundle, "Task")) == sorted(f"task-{t.id}" for t in tasks)
    assert {t.state for t in tasks} >= {"open", "done"}


def test_the_patient_keeps_her_language_and_needs_an_interpreter(case, coordinator):
    inquiry, _document = case
    patient = resources(fhir.export_inquiry(inquiry, actor=coordinator), "Patient")[0]
    assert patient["id"] == f"patient-{inquiry.patient.id}"
    communication = patient["communication"]
    assert communication == [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "ar",
                                                       "display": "Arabic"}], "text": "Arabic"},
                              "preferred": True}]
    assert patient["extension"] == [{
        "url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired", "valueBoolean": True}]
    assert patient["gender"] == "female" and patient["birthDate"] == "1980-04-02"
    assert patient["address"] == [{"country": "SA"}]
    assert {t["system"]: t["value"] for t in patient["telecom"]} == {"email": inquiry.patient.email,
                                                                      "phone": "+966501234567"}
    assert patient["name"][0]["given"] == ["Layla"]
    assert patient["name"][0]["family"] == inquiry.patient.family_name


@pytest.mark.parametrize("language, interpreter", [("en", False), ("zh-Hans", True), ("pt-BR", True)])
def test_a_patient_who_speaks_the_centers_language_needs_no_interpreter(factory, coordinator, language,
                                                                       interpreter):
    inquiry = factory.inquiry(preferred_language=language, email=None, phone="+1 617 555 0100",
                              country="US", sex=None, date_of_birth=None)
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    patient = resources(bundle, "Patient")[0]
    assert patient["communication"][0]["language"]["coding"][0]["code"] == language
    assert ("extension" in patient) is interpreter
    assert "gender" not in patient and "birthDate" not in patient
    assert patient["telecom"] == [{"system": "phone", "value": "+16175550100"}]


def test_the_referral_is_requested_by_the_physician_and_performed_by_the_center(case, coordinator):
    inquiry, _document = case
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    referral = resources(bundle, "ServiceRequest")[0]
    assert referral["id"] == f"inquiry-{inquiry.id}"
    assert referral["identifier"][0]["value"] == inquiry.reference
    assert referral["status"] == "active" and referral["intent"] == "order"
    assert referral["category"][0]["coding"][0] == {"system": "http://snomed.info/sct", "code": "3457005",
                                                    "display": "Patient referral"}
    assert referral["code"]["coding"][0]["code"] == "second_opinion_in_person"
    assert referral["code"]["text"] == "Second opinion (in person)"
    assert referral["reasonCode"] == [{"text": REASON}]
    assert resolve(bundle, referral["subject"])["resourceType"] == "Patient"
    role = resolve(bundle, referral["requester"])
    assert role["resourceType"] == "PractitionerRole"
    physician, institution = resolve(bundle, role["practitioner"]), resolve(bundle, role["organization"])
    assert physician["name"] == [{"text": "Dr. Karim Nassar"}]
    assert physician["telecom"] == [{"system": "email", "value": "k.nassar@kfsh.example", "use": "work"}]
    assert institution["name"] == "King Faisal Specialist Hospital"
    assert institution["address"] == [{"country": "SA"}]
    center = resolve(bundle, referral["performer"][0])
    assert center["resourceType"] == "Organization" and center["name"] == "Cardiology and Cardiac Surgery"
    assert center["identifier"][0]["value"] == "cardiology"


def test_a_patient_who_came_alone_requested_the_service_herself(factory, coordinator):
    inquiry = factory.inquiry(source="phone")
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    referral = resources(bundle, "ServiceRequest")[0]
    assert resolve(bundle, referral["requester"])["resourceType"] == "Patient"
    assert not resources(bundle, "Consent")  # nobody recorded a consent to be contacted
    assert not resources(bundle, "PractitionerRole")


def test_tasks_carry_the_referrals_bser_business_status(case, coordinator):
    inquiry, _document = case
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    by_id = {t.id: t for t in db_tasks(inquiry)}
    referral = resources(bundle, "ServiceRequest")[0]
    for task in resources(bundle, "Task"):
        row = by_id[int(task["id"].removeprefix("task-"))]
        assert task["status"] == {"done": "completed", "cancelled": "cancelled"}.get(
            row.state, "on-hold" if row.paused_at else "ready")
        assert task["intent"] == "order"
        # records still under review: the referral is not accepted yet
        assert task["businessStatus"]["coding"] == [{
            "system": "http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS", "code": "2.0",
            "display": "Service Request Created"}]
        assert resolve(bundle, task["focus"]) is resolve(bundle, task["basedOn"][0])
        assert resolve(bundle, task["focus"])["id"] == referral["id"]
        assert resolve(bundle, task["for"])["resourceType"] == "Patient"
        assert task["code"]["coding"][0]["code"] == row.kind
        assert task["restriction"]["period"]["end"].endswith("Z")
        if row.assignee_id:
            assert resolve(bundle, task["owner"])["name"] == [{"text": "Nadia Saleh"}]


@pytest.mark.parametrize("stage, outcome, code, status", [
    ("financial_clearance", None, "3.0", "active"),
    ("closed", "completed", "7.0", "completed"),
    ("closed", "not_accepted", "4.0", "revoked"),
    ("closed", "no_response", "6.0", "revoked"),
])
def test_business_status_follows_the_referral(factory, coordinator, db, stage, outcome, code, status):
    inquiry = factory.inquiry()
    steps = ["intake", "closed"] if stage == "closed" else ["intake", "records", "clinical_review", stage]
    for step in steps:
        if inquiry.stage == "clinical_review":
            factory.accept(inquiry, coordinator)
        pipeline.transition_inquiry(inquiry, step, actor=coordinator, expected_version=inquiry.version,
                                    outcome=outcome if step == "closed" else None)
    db.session.commit()
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    assert resources(bundle, "ServiceRequest")[0]["status"] == status
    tasks = resources(bundle, "Task")
    assert tasks and {t["businessStatus"]["coding"][0]["code"] for t in tasks} == {code}
    if stage == "closed":
        assert all(t["status"] in ("completed", "cancelled") for t in tasks)


def test_messages_in_and_out_are_communications_with_their_text(case, coordinator):
    inquiry, document = case
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    communications = resources(bundle, "Communication")
    out = [c for c in communications if resolve(bundle, c["recipient"][0])["resourceType"] == "Patient"]
    came_in = [c for c in communications if c not in out]
    assert len(out) >= 4 and len(came_in) == 2  # acknowledgement, reply, records request, appointment
    reply = next(c for c in out if c["category"][0]["coding"][0]["code"] == "reply")
    assert REPLY in reply["payload"][0]["contentString"]
    assert reply["status"] == "completed" and reply["sent"].endswith("Z")  # delivered
    assert resolve(bundle, reply["sender"])["name"] == [{"text": "Nadia Saleh"}]
    assert reply["medium"][0]["coding"][0]["code"] == "EMAILWRIT"
    assert reply["language"] == "ar"
    appointment_mail = next(c for c in out if c["category"][0]["coding"][0]["code"] == "appointment")
    assert appointment_mail["status"] == "in-progress"  # queued, not delivered yet
    written = next(c for c in came_in if c["category"][0]["coding"][0]["code"] == "email")
    assert written["payload"] == [{"contentString": PATIENT_WROTE}]
    assert written["topic"] == {"text": "Re: your request"}
    assert resolve(bundle, written["sender"])["resourceType"] == "Patient"
    assert resolve(bundle, written["recipient"][0])["resourceType"] == "Organization"
    assert written["received"].endswith("Z") and "sent" not in written
    uploaded = next(c for c in came_in if c["category"][0]["coding"][0]["code"] == "upload")
    assert uploaded["medium"][0]["coding"][0]["code"] == "ONLINEWRIT"
    attached = [resolve(bundle, p["contentReference"])["id"] for p in uploaded["payload"]]
    assert attached == [f"document-{document.id}"]
    for communication in communications:
        assert resolve(bundle, communication["about"][0])["resourceType"] == "ServiceRequest"


def test_an_appointment_booked_is_exported_with_its_time_physician_and_place(case, coordinator):
    inquiry, _document = case
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    [row] = appointments.appointments_of(inquiry)
    [appointment] = resources(bundle, "Appointment")  # its mail is not a second one
    assert appointment["id"] == f"appointment-{row.id}" and appointment["status"] == "booked"
    assert (appointment["start"], appointment["end"]) == ("2031-03-14T13:30:00Z", "2031-03-14T14:30:00Z")
    assert appointment["minutesDuration"] == 60  # the model's default
    assert resolve(bundle, appointment["basedOn"][0])["resourceType"] == "ServiceRequest"
    patient, physician, place = (resolve(bundle, p["actor"]) for p in appointment["participant"])
    assert patient["resourceType"] == "Patient"
    assert physician["resourceType"] == "Practitioner" and physician["name"] == [{"text": "Dr. Amal Rahman"}]
    assert place["resourceType"] == "Location" and place["name"] == PLACE
    center = resolve(bundle, place["managingOrganization"])
    assert center["resourceType"] == "Organization" and center["name"] == "Cardiology and Cardiac Surgery"
    assert [p["status"] for p in appointment["participant"]] == ["needs-action", "accepted", "accepted"]
    [mail] = [resolve(bundle, r) for r in appointment["supportingInformation"]]
    assert mail["resourceType"] == "Communication"
    assert mail["category"][0]["coding"][0]["code"] == "appointment"
    assert PLACE in mail["payload"][0]["contentString"]


@pytest.fixture
def scheduling(factory, coordinator, db, app, monkeypatch, tmp_path):
    """A case the physician accepted and finance cleared, being scheduled."""
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    inquiry = factory.inquiry(**REFERRER, coordinator_id=coordinator.id)
    return factory.walk(inquiry, "scheduling", coordinator)


def test_appointments_are_booked_proposed_or_cancelled_as_the_coordinator_left_them(scheduling, coordinator,
                                                                                   db):
    inquiry = scheduling
    booked = appointments.book(inquiry, actor=coordinator, when=VISIT, location=PLACE,
                               physician="Dr. Amal Rahman", duration=45, note="Come fasting.")
    proposed = appointments.book(inquiry, actor=coordinator, when=VISIT + timedelta(days=1),
                                 location="Neuro Clinic", physician="dr. amal  rahman",
                                 center_key="neurology", confirm=False)
    dropped = appointments.book(inquiry, actor=coordinator, when=VISIT + timedelta(days=2), location=PLACE)
    appointments.cancel(inquiry, dropped.id, actor=coordinator)
    db.session.commit()
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    found = {a["id"]: a for a in resources(bundle, "Appointment")}
    # one Appointment each, none again from its mails
    assert set(found) == {f"appointment-{a.id}" for a in (booked, proposed, dropped)}
    first, second, third = (found[f"appointment-{a.id}"] for a in (booked, proposed, dropped))
    assert [a["status"] for a in (first, second, third)] == ["booked", "proposed", "cancelled"]
    assert (first["start"], first["end"], first["minutesDuration"]) == (
        "2031-03-14T13:30:00Z", "2031-03-14T14:15:00Z", 45)
    assert first["patientInstruction"] == "Come fasting."
    assert (second["start"], second["end"]) == ("2031-03-15T13:30:00Z", "2031-03-15T14:30:00Z")
    assert third["start"] == "2031-03-16T13:30:00Z"
    # one physician, however the name was typed; each place run by its appointment's center
    physicians = [resolve(bundle, a["participant"][1]["actor"]) for a in (first, second)]
    assert physicians[0] is physicians[1]
    places = [resolve(bundle, a["participant"][-1]["actor"]) for a in (first, second, third)]
    assert [resolve(bundle, p["managingOrganization"])["identifier"][0]["value"] for p in places] == [
        "cardiology", "neurology", "cardiology"]
    assert places[0] is places[2]
    assert len(third["participant"]) == 2  # nobody named: the patient and the place
    # the center's side accepted what it booked; nothing is accepted of a proposal
    assert [p["status"] for p in first["participant"]] == ["needs-action", "accepted", "accepted"]
    assert [p["status"] for p in second["participant"]] == ["needs-action", "needs-action", "needs-action"]
    # each mail about an appointment supports it: none for the proposal, the booking and its cancellation
    mails = [[resolve(bundle, r)["category"][0]["coding"][0]["code"]
              for r in a.get("supportingInformation", ())] for a in (first, second, third)]
    assert mails == [["appointment"], [], ["appointment", "appointment_cancelled"]]


def test_an_appointment_mailed_before_appointments_were_data_is_still_exported_once(scheduling, coordinator,
                                                                                   db):
    """Mail the earlier version wrote (its details as text, no calendar file, no row) stays a
    proposed Appointment without a time; an appointment booked since is exported from its row."""
    inquiry = scheduling
    outbox.queue_patient_mail(inquiry, "appointment", actor=coordinator,
                              when_boston="Tuesday, January 12, 2027 at 9:30:00 AM Eastern Standard Time",
                              when_patient=None, location="Old Building, room 4", clinician="Dr. Old",
                              note="")
    db.session.flush()
    old_mail = db.session.scalars(sa.select(Message).where(Message.inquiry_id == inquiry.id,
                                                           Message.kind == "appointment")).one()
    booked = appointments.book(inquiry, actor=coordinator, when=VISIT, location=PLACE)
    db.session.commit()
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    found = {a["id"]: a for a in resources(bundle, "Appointment")}
    assert set(found) == {f"appointment-{booked.id}", f"appointment-mail-{old_mail.id}"}
    old = found[f"appointment-mail-{old_mail.id}"]
    assert old["status"] == "proposed" and "start" not in old and "end" not in old
    mail = resolve(bundle, old["supportingInformation"][0])
    assert mail["id"] == f"message-{old_mail.id}"
    assert "Old Building, room 4" in mail["payload"][0]["contentString"]
    assert found[f"appointment-{booked.id}"]["status"] == "booked"
    new_mails = [resolve(bundle, r)["id"] for r in found[f"appointment-{booked.id}"]["supportingInformation"]]
    assert f"message-{old_mail.id}" not in new_mails and len(new_mails) == 1


def test_a_document_is_referenced_by_its_staff_address_and_hashes(app, case, coordinator):
    inquiry, document = case
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    [reference] = resources(bundle, "DocumentReference")
    assert reference["id"] == f"document-{document.id}" and reference["status"] == "current"
    attachment = reference["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["title"] == "echo report.pdf"
    assert attachment["size"] == len(samples.MINIMAL_PDF)
    assert attachment["url"] == f"{app.config['BASE_URL']}/inquiries/{inquiry.id}/documents/{document.id}"
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(samples.MINIMAL_PDF).digest()).decode()
    assert "data" not in attachment  # the address, never the bytes
    sha256 = base64.urlsafe_b64encode(hashlib.sha256(samples.MINIMAL_PDF).digest()).decode().rstrip("=")
    assert reference["identifier"] == [{"system": "urn:ietf:rfc:3986", "value": f"ni:///sha-256;{sha256}"}]
    assert reference["type"] == {"text": "Imaging reports (CT, MRI, ultrasound, X-ray)"}
    assert resolve(bundle, reference["context"]["related"][0])["resourceType"] == "ServiceRequest"
    referral = resources(bundle, "ServiceRequest")[0]
    assert [resolve(bundle, r)["id"] for r in referral["supportingInfo"]] == [reference["id"]]


def test_a_document_whose_file_changed_gets_no_hash(app, case, coordinator):
    inquiry, document = case
    uploads.open_stored(app.config["UPLOAD_DIR"], document.storage_name).write_bytes(b"%PDF-1.4 not the same")
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    attachment = resources(bundle, "DocumentReference")[0]["content"][0]["attachment"]
    assert "hash" not in attachment and attachment["size"] == len(samples.MINIMAL_PDF)


def test_the_consent_to_be_contacted_is_exported(case, coordinator):
    inquiry, _document = case
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    [consent] = resources(bundle, "Consent")
    assert consent["id"] == f"consent-{inquiry.id}" and consent["status"] == "active"
    assert consent["scope"]["coding"][0]["code"] == "patient-privacy"
    assert consent["dateTime"] == inquiry.consent_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert resolve(bundle, consent["patient"])["resourceType"] == "Patient"
    assert consent["provision"]["type"] == "permit"


def test_ids_and_addresses_are_stable_from_one_export_to_the_next(case, coordinator):
    inquiry, _document = case
    first, second = (fhir.export_inquiry(inquiry, actor=coordinator) for _ in range(2))
    entries = [[(e["fullUrl"], e["resource"]["resourceType"], e["resource"]["id"]) for e in b["entry"]]
               for b in (first, second)]
    assert entries[0] == entries[1]
    assert first["id"] != second["id"]  # each export is its own Bundle


def test_the_export_is_audited_without_patient_values(case, coordinator, db):
    inquiry, _document = case
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    db.session.flush()
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)).all()
    assert (event.action, event.actor_id, event.inquiry_id, event.patient_id) == (
        "export", coordinator.id, inquiry.id, inquiry.patient.id)
    assert event.detail == f"fhir bundle={bundle['id']}"


def test_a_paused_task_is_on_hold(factory, coordinator, db):
    inquiry = factory.inquiry()
    followups.wait_on_patient(inquiry, at=inquiry.created_at + timedelta(minutes=5))
    db.session.commit()
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    [task] = resources(bundle, "Task")
    assert task["status"] == "on-hold" and task["statusReason"] == {"text": "Waiting on the patient"}


@pytest.mark.parametrize("decision, code", [("accept", "3.0"), ("decline", "4.0")])
def test_the_clinical_reviews_decision_is_the_referrals_business_status(factory, coordinator, db, decision,
                                                                        code):
    inquiry = factory.walk(factory.inquiry(), "clinical_review", coordinator)
    review.record_decision(inquiry, decision, actor=coordinator, expected_version=inquiry.version,
                           reviewer_name="Dr. Ana Ruiz, Cardiology",
                           reason="Outside what the center treats." if decision == "decline" else "")
    db.session.commit()
    assert inquiry.stage == "clinical_review"  # decided, not moved on or closed yet
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    tasks = resources(bundle, "Task")
    assert tasks and {t["businessStatus"]["coding"][0]["code"] for t in tasks} == {code}
    assert {t["businessStatus"]["text"] for t in tasks} == {fhir.BSER_CODES[code]}
    assert resources(bundle, "ServiceRequest")[0]["status"] == "active"  # open until the case is closed


def stored(app, name: str):
    return uploads.store(samples.MINIMAL_PDF, name, upload_dir=app.config["UPLOAD_DIR"], max_bytes=5 * 1024 * 1024)


def test_the_written_opinion_and_its_addendum_are_consult_notes_by_the_specialist(
        factory, coordinator, db, app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    inquiry = factory.walk(factory.inquiry(service="second_opinion_online", coordinator_id=coordinator.id),
                           "in_care", coordinator)
    opinion.save_request(inquiry, {"physician_questions": "Is an ablation indicated?",
                                   "specialist_name": "Dr. Sofia Marques", "specialty": "Electrophysiology"},
                         actor=coordinator)
    draft = opinion.upload_opinion(inquiry, stored(app, "opinion draft.pdf"), actor=coordinator)
    written = opinion.upload_opinion(inquiry, stored(app, "opinion.pdf"), actor=coordinator)
    opinion.release(inquiry, actor=coordinator)
    question = opinion.ask(inquiry, "May I fly after the procedure?", asked_by="patient")
    answer = opinion.answer(inquiry, question.id, stored(app, "addendum.pdf"), actor=coordinator).document
    db.session.commit()
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    found = {d["id"]: d for d in resources(bundle, "DocumentReference")}
    old, current, addendum = (found[f"document-{d.id}"] for d in (draft, written, answer))
    consult = {"system": "http://loinc.org", "code": "11488-4", "display": "Consult note"}
    us_core = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
    clinical_note = [{"coding": [{"system": us_core, "code": "clinical-note", "display": "Clinical Note"}]}]
    for reference in (old, current, addendum):
        assert reference["type"]["coding"][0] == consult and reference["category"] == clinical_note
    assert [c["code"] for c in current["type"]["coding"]] == ["11488-4", "opinion"]
    assert current["type"]["text"] == "Written second opinion"
    assert addendum["type"]["text"] == "Addendum to the written second opinion"
    # the upload it replaced before release is superseded, not a second opinion
    assert (old["status"], current["status"], addendum["status"]) == ("superseded", "current", "current")
    assert (current["docStatus"], addendum["docStatus"]) == ("final", "final") and "docStatus" not in old
    assert [(r["code"], resolve(bundle, r["target"])["id"]) for r in current["relatesTo"]] == [
        ("replaces", old["id"])]
    assert [(r["code"], resolve(bundle, r["target"])["id"]) for r in addendum["relatesTo"]] == [
        ("appends", current["id"])]
    for reference in (current, addendum):
        assert resolve(bundle, reference["author"][0])["name"] == [{"text": "Dr. Sofia Marques"}]
    # the case's answer, not what was sent in support of the request
    assert "supportingInfo" not in resources(bundle, "ServiceRequest")[0]


def test_an_opinion_not_released_yet_is_preliminary(factory, coordinator, db, app):
    inquiry = factory.walk(factory.inquiry(service="second_opinion_online"), "in_care", coordinator)
    document = opinion.upload_opinion(inquiry, stored(app, "opinion.pdf"), actor=coordinator)
    db.session.commit()
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    [reference] = resources(bundle, "DocumentReference")
    assert reference["id"] == f"document-{document.id}"
    assert (reference["status"], reference["docStatus"]) == ("current", "preliminary")
    assert "author" not in reference  # no specialist named yet


PASSPORT = "K12345678"
COMPANION_PASSPORT = "K7654321"


def test_letters_are_typed_and_the_visa_letter_is_only_referenced(factory, coordinator, db, app, monkeypatch,
                                                                 tmp_path):
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    inquiry = factory.walk(factory.inquiry(coordinator_id=coordinator.id), "travel", coordinator)
    sponsor = {"payer_type": "sponsor", "sponsor_kind": "embassy", "sponsor_name": "Embassy of Saudi Arabia",
               "guarantee_amount": "50000", "guarantee_currency": "USD"}
    finance.save(inquiry, sponsor, actor=coordinator, guarantee=stored(app, "guarantee.pdf"))
    finance.save(inquiry, sponsor, actor=coordinator, guarantee=stored(app, "guarantee, renewed.pdf"))
    travel.save_plan(inquiry, {"arrival_date": "2031-03-10", "departure_date": "2031-03-24",
                               "lodging": "Longwood Inn", "passport_name": "LAYLA HADDAD",
                               "passport_number": PASSPORT, "passport_country": "SA",
                               "passport_expires_on": "2033-01-01"}, actor=coordinator)
    travel.add_companion(inquiry, {"full_name": "OMAR HADDAD", "relationship": "spouse",
                                   "passport_number": COMPANION_PASSPORT, "passport_country": "SA",
                                   "passport_expires_on": "2032-05-05"}, actor=coordinator)
    letter = visa_letter.generate(inquiry, actor=coordinator)
    pdf = visa_letter.send(inquiry, actor=coordinator).attachments[0].data  # the letter as mailed
    db.session.commit()
    bundle = fhir.export_inquiry(inquiry, actor=coordinator)
    check_r4(bundle)
    found = {d["id"]: d for d in resources(bundle, "DocumentReference")}
    visa = found[f"document-{letter.id}"]
    assert visa["type"]["text"] == "Visa invitation letter" and visa["category"] == [{"text": "Travel"}]
    assert [c["code"] for c in visa["type"]["coding"]] == ["visa_letter"]  # no standard code claimed
    assert (visa["status"], visa["docStatus"]) == ("current", "final")  # sent to the patient
    assert visa["meta"]["security"][0]["code"] == "R"
    attachment = visa["content"][0]["attachment"]
    assert attachment["url"].endswith(f"/documents/{letter.id}") and "data" not in attachment
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()
    text = json.dumps(bundle)
    for secret in (PASSPORT, COMPANION_PASSPORT, base64.b64encode(pdf[:60]).decode()):
        assert secret not in text  # the passports are in the letter, and the letter is not in the Bundle
    letters = [d for d in found.values() if d["type"]["text"] == "Sponsor's guarantee letter"]
    assert [d["status"] for d in letters] == ["superseded", "current"]
    assert all(d["category"] == [{"text": "Financial"}] for d in letters)
    assert resolve(bundle, letters[1]["relatesTo"][0]["target"]) is letters[0]
    assert "supportingInfo" not in resources(bundle, "ServiceRequest")[0]  # none of these is a record sent in
