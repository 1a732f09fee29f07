"""One inquiry as a FHIR R4 (4.0.1) Bundle, for another hospital's system or an integration.

The Bundle is of type ``collection``: a case handed over as a set of resources, not an attested
clinical ``document`` (that would need a Composition, signed off by a clinician). Every resource
has a stable id (``inquiry-123``, ``task-45``) and a ``urn:uuid:`` fullUrl derived from it and
from ``BASE_URL``: the same case exported twice gives the same ids and URLs, and every reference
points to an entry of the Bundle.

What goes in: the patient (with their language and, when it is not the center's, the
interpreter-required extension); the referral as a ServiceRequest (requested by the referring
physician, performed by the center); each follow-up task, with the referral's business status in
the codes of HL7's electronic referral guide (BSeR); each message in and out, whole (the export
is an authorized clinical interchange, and it is audited); each appointment, proposed, booked or
cancelled, with its physician and place; each document (its staff download address and hashes,
never its bytes: the visa letter holds passport numbers), typed by what it is (a record sent, the
written opinion and its addenda, a letter); the consent to be contacted. The staff's internal
notes, the travel plan's passports and the ledger stay out."""
from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import date, datetime, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import labels
from ..extensions import db
from ..i18n import LANGUAGE_LABELS, force_locale
from ..models import (Appointment, Document, FinancialClearance, Inquiry, Message, OpinionAddendum,
                      OpinionRequest, OutboundMail, Task, TravelPlan, User)
from ..models import appointment as appointment_states
from ..models.base import utcnow
from ..models.inquiry import ACCEPT, DECLINE, ClinicalReview
from ..models.mail import FAILED, QUEUED
from ..models.task import CANCELLED, DONE
from . import appointments, audit, uploads
from .errors import NotFound
from .facts import Facts
from .visibility import as_id

FHIR_VERSION = "4.0.1"
#: The media type of the export (FHIR R4's ``fhirVersion`` parameter names the release).
MEDIA_TYPE = "application/fhir+json; fhirVersion=4.0"
#: The language the center works in: a patient who prefers another needs an interpreter (the
#: case page says so too).
CENTER_LANGUAGE = "en"

INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
#: BSeR's Task business status codes (value set
#: http://hl7.org/fhir/us/bser/ValueSet/TaskBusinessStatusVS, BSeR STU1 1.0.0).
BSER_BUSINESS_STATUS = "http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS"
#: The codes used here are those BSeR STU1 and the STU2 ballot share, with the same display.
BSER_CODES = {"2.0": "Service Request Created", "3.0": "Service Request Accepted",
              "4.0": "Service Request Declined", "6.0": "Service Request Fulfillment Cancelled",
              "7.0": "Service Request Fulfillment Completed"}
#: The stages before the center's physicians have accepted the case.
_BEFORE_ACCEPTANCE = ("new", "intake", "records", "clinical_review")
_REVIEW_STAGE = "clinical_review"
_CLOSED_BUSINESS_STATUS = {"completed": "7.0", "not_accepted": "4.0", "referred_elsewhere": "4.0",
                           "declined_by_patient": "6.0", "no_response": "6.0", "duplicate": "6.0"}

BCP47 = "urn:ietf:bcp:47"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
US_CORE_DOCUMENT_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
URI = "urn:ietf:rfc:3986"
MEDIUM = {"email": {"system": PARTICIPATION_MODE, "code": "EMAILWRIT", "display": "email"},
          "portal": {"system": PARTICIPATION_MODE, "code": "ONLINEWRIT", "display": "online written"}}
#: An Appointment row's state as FHIR's Appointment.status.
APPOINTMENT_STATUS = {appointment_states.PROPOSED: "proposed", appointment_states.CONFIRMED: "booked",
                      appointment_states.CANCELLED: "cancelled"}
#: The mails ``services.appointments`` sends about an appointment (with its calendar file).
APPOINTMENT_MAILS = ("appointment", "appointment_cancelled")
ATTENDER = {"system": PARTICIPATION_TYPE, "code": "ATND", "display": "attender"}
CONSULT_NOTE = {"system": LOINC, "code": "11488-4", "display": "Consult note"}
CLINICAL_NOTE = {"system": US_CORE_DOCUMENT_CATEGORY, "code": "clinical-note", "display": "Clinical Note"}
#: What the center made of a document (``Document.kind``): its name, a standard code when one
#: clearly fits (the written opinion and its addenda are a specialist's consult notes), and its
#: category. A record the patient or their physician sent has no kind: it is typed by the record
#: of the checklist it answered.
DOCUMENT_KINDS = {
    "opinion": ("Written second opinion", CONSULT_NOTE, {"coding": [CLINICAL_NOTE]}),
    "addendum": ("Addendum to the written second opinion", CONSULT_NOTE, {"coding": [CLINICAL_NOTE]}),
    "visa_letter": ("Visa invitation letter", None, {"text": "Travel"}),
    "guarantee_letter": ("Sponsor's guarantee letter", None, {"text": "Financial"}),
}


def find_inquiry(inquiry_id) -> Inquiry:
    """Any inquiry by its id, for the operator's command line (which sees every case), else
    ``NotFound``; the API goes through the visibility rule instead."""
    inquiry = db.session.get(Inquiry, as_id(inquiry_id))
    if inquiry is None:
        raise NotFound()
    return inquiry


def export_inquiry(inquiry: Inquiry, *, actor: User | None) -> dict:
    """The inquiry as a FHIR R4 Bundle (plain JSON values); the export is added to the audit
    trail, with the Bundle's id. Nothing is flushed: the caller commits."""
    bundle = build_bundle(inquiry)
    audit.record("export", actor=actor, inquiry=inquiry, detail=f"fhir bundle={bundle['id']}")
    return bundle


def build_bundle(inquiry: Inquiry, *, now: datetime | None = None) -> dict:
    """The Bundle of ``inquiry``, without auditing (``export_inquiry`` is what callers use)."""
    with force_locale(CENTER_LANGUAGE):  # code labels in the center's language
        return _CaseBundle(inquiry, current_app.config["BASE_URL"]).build(now or utcnow())


def business_status(inquiry: Inquiry, review: ClinicalReview | None = None) -> str:
    """Where the referral stands, as a BSeR Task business status code; ``review``, the case's
    latest clinical review round: in clinical review, the physician's decision is the referral's
    (accepted, or declined until the case is closed as not accepted)."""
    if inquiry.stage == "closed":
        return _CLOSED_BUSINESS_STATUS.get(inquiry.outcome, "6.0")
    if inquiry.stage == _REVIEW_STAGE and review is not None and review.decision == DECLINE:
        return "4.0"
    if inquiry.stage == _REVIEW_STAGE and review is not None and review.decision == ACCEPT:
        return "3.0"
    return "2.0" if inquiry.stage in _BEFORE_ACCEPTANCE else "3.0"


def needs_interpreter(patient) -> bool:
    """A patient whose preferred language is not the center's needs an interpreter."""
    return (patient.preferred_language or CENTER_LANGUAGE) != CENTER_LANGUAGE


class _CaseBundle:
    """Builds one case's Bundle: resources are added once each, under a stable id."""

    def __init__(self, inquiry: Inquiry, base_url: str):
        self.inquiry, self.patient = inquiry, inquiry.patient
        self.base = base_url.rstrip("/")
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.base}/fhir")
        self.resources: dict[tuple[str, str], dict] = {}

    # --- references ------------------------------------------------------------------------

    def full_url(self, kind: str, rid: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self.namespace, f'{kind}/{rid}')}"

    def ref(self, resource: dict | None) -> dict | None:
        if resource is None:
            return None
        return {"reference": self.full_url(resource["resourceType"], resource["id"]),
                "display": resource.get("_display")}

    def add(self, resource: dict) -> dict:
        key = (resource["resourceType"], resource["id"])
        return self.resources.setdefault(key, resource)

    def system(self, name: str) -> str:
        """A URI of this deployment's own: a code system or identifier system."""
        return f"{self.base}/fhir/{name}"

    # --- the case --------------------------------------------------------------------------

    def build(self, now: datetime) -> dict:
        inquiry = self.inquiry
        tasks = list(db.session.scalars(select(Task).where(Task.inquiry_id == inquiry.id)
                                        .order_by(Task.id)))
        messages = list(db.session.scalars(
            select(Message).where(Message.inquiry_id == inquiry.id)
            .options(selectinload(Message.outbound).selectinload(OutboundMail.attachments))
            .order_by(Message.created_at, Message.id)))
        documents = list(db.session.scalars(
            select(Document).where(Document.inquiry_id == inquiry.id)
            .options(selectinload(Document.checklist_item)).order_by(Document.id)))
        visits = appointments.appointments_of(inquiry)
        self.business_status = business_status(inquiry, Facts(inquiry).review)
        staff_ids = {inquiry.coordinator_id, *(t.assignee_id for t in tasks),
                     *(m.author_id for m in messages)} - {None}
        self.staff = {user.id: user for user in db.session.scalars(
            select(User).where(User.id.in_(staff_ids)))} if staff_ids else {}

        self.patient_resource = self.add(self.patient_of())
        self.center = self.add(self.center_of(inquiry.center)) if inquiry.center else None
        self.referral = self.add({"resourceType": "ServiceRequest", "id": f"inquiry-{inquiry.id}",
                                  "_display": inquiry.reference})
        made = _Made(inquiry, documents)
        document_refs = {doc.id: self.ref(self.add(self.document_of(doc, made))) for doc in documents}
        self.referral.update(self.referral_of(
            [document_refs[doc.id] for doc in documents if doc.kind is None]))  # what was sent in
        if inquiry.consent_at is not None:
            self.add(self.consent_of())
        for task in tasks:
            self.add(self.task_of(task))
        by_message: dict[int, list[dict]] = {}
        for doc in documents:
            if doc.message_id is not None:
                by_message.setdefault(doc.message_id, []).append(document_refs[doc.id])
        by_calendar_file = {appointments.ics_filename(visit): visit for visit in visits}
        mails_of: dict[int, list[dict]] = {}
        unkept: list[tuple[Message, dict]] = []
        for message in messages:
            communication = self.add(self.communication_of(message, by_message.get(message.id, [])))
            if message.direction != "out" or message.kind not in APPOINTMENT_MAILS:
                continue
            visit = _visit_mailed(message, by_calendar_file)
            if visit is not None:
                mails_of.setdefault(visit.id, []).append(self.ref(communication))
            elif message.kind == "appointment":
                unkept.append((message, communication))
        for visit in visits:
            self.add(self.appointment_of(visit, mails_of.get(visit.id, [])))
        for message, communication in unkept:
            self.add(self.mailed_appointment_of(message, communication))

        order = ("Patient", "ServiceRequest", "Organization", "Location", "Practitioner", "PractitionerRole",
                 "Consent", "Task", "Communication", "Appointment", "DocumentReference")
        resources = sorted(self.resources.values(), key=lambda r: order.index(r["resourceType"]))
        bundle_id = str(uuid.uuid4())
        return _pruned({
            "resourceType": "Bundle", "id": bundle_id,
            "meta": {"lastUpdated": _instant(now)},
            "identifier": {"system": URI, "value": f"urn:uuid:{bundle_id}"},
            "type": "collection", "timestamp": _instant(now),
            "entry": [{"fullUrl": self.full_url(r["resourceType"], r["id"]),
                       "resource": {k: v for k, v in r.items() if k != "_display"}} for r in resources],
        })

    # --- resources -------------------------------------------------------------------------

    def patient_of(self) -> dict:
        patient = self.patient
        language = patient.preferred_language or CENTER_LANGUAGE
        label = LANGUAGE_LABELS.get(language)
        return {
            "resourceType": "Patient", "id": f"patient-{patient.id}", "_display": patient.full_name,
            "extension": [{"url": INTERPRETER_REQUIRED, "valueBoolean": True}]
            if needs_interpreter(patient) else [],
            "identifier": [{"type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "MR"}]},
                            "system": self.system("sid/mrn"), "value": patient.mrn}] if patient.mrn else [],
            "active": True,
            "name": [{"use": "official", "text": patient.full_name, "family": patient.family_name,
                      "given": [patient.given_name]}],
            "telecom": [{"system": "email", "value": patient.email} if patient.email else None,
                        {"system": "phone", "value": patient.phone} if patient.phone else None],
            "gender": patient.sex,  # the contract's sexes are FHIR's administrative genders
            "birthDate": _date(patient.date_of_birth),
            "address": [{"country": patient.country}] if patient.country else [],
            "communication": [{"language": {"coding": [{"system": BCP47, "code": language,
                                                        "display": str(label) if label else None}],
                                            "text": str(label) if label else language},
                               "preferred": True}],
        }

    def center_of(self, center) -> dict:
        name = center.name_in(CENTER_LANGUAGE)
        return {"resourceType": "Organization", "id": f"center-{center.id}", "_display": name,
                "identifier": [{"system": self.system("sid/center"), "value": center.key}],
                "active": center.is_active, "name": name}

    def staff_of(self, user_id: int | None) -> dict | None:
        user = self.staff.get(user_id)
        if user is None:
            return None
        return self.add({"resourceType": "Practitioner", "id": f"staff-{user.id}", "_display": user.name,
                         "active": user.is_active, "name": [{"text": user.name}],
                         "telecom": [{"system": "email", "value": user.email, "use": "work"}]})

    def requester(self) -> dict:
        """The referring physician (a PractitionerRole at their institution), their institution
        alone, or, when nobody referred the patient, the patient who asked."""
        inquiry = self.inquiry
        organization = None
        if inquiry.referring_institution:
            organization = self.add({
                "resourceType": "Organization", "id": f"referrer-organization-{inquiry.id}",
                "_display": inquiry.referring_institution, "name": inquiry.referring_institution,
                "address": [{"country": inquiry.referring_country}] if inquiry.referring_country else []})
        if not (inquiry.referring_name or inquiry.referring_email):
            return organization or self.patient_resource
        practitioner = self.add({
            "resourceType": "Practitioner", "id": f"referrer-{inquiry.id}",
            "_display": inquiry.referring_name or inquiry.referring_email,
            "name": [{"text": inquiry.referring_name}] if inquiry.referring_name else [],
            "telecom": [{"system": "email", "value": inquiry.referring_email, "use": "work"}]
            if inquiry.referring_email else [],
            "address": [{"country": inquiry.referring_country}]
            if inquiry.referring_country and organization is None else []})
        return self.add({"resourceType": "PractitionerRole", "id": f"referrer-role-{inquiry.id}",
                         "_display": practitioner["_display"], "practitioner": self.ref(practitioner),
                         "organization": self.ref(organization)})

    def physician_of(self, name: str | None) -> dict | None:
        """A physician known only by name (an appointment's, the opinion's specialist): one
        Practitioner per name, its id derived from the name."""
        name = " ".join((name or "").split())
        if not name:
            return None
        return self.add({"resourceType": "Practitioner", "id": f"physician-{_digest(name.casefold())}",
                         "_display": name, "name": [{"text": name}]})

    def location_of(self, place: str, center: dict | None) -> dict:
        """Where an appointment is, run by its center: one Location per place and center."""
        place = " ".join(place.split())
        key = f"{center['id'] if center else ''}|{place.casefold()}"
        return self.add({"resourceType": "Location", "id": f"location-{_digest(key)}", "_display": place,
                         "mode": "instance", "name": place, "managingOrganization": self.ref(center)})

    def referral_of(self, supporting: list[dict]) -> dict:
        inquiry = self.inquiry
        service = str(labels.SERVICE_LABELS.get(inquiry.service, inquiry.service))
        closed = inquiry.stage == "closed"
        return {
            "identifier": [{"system": self.system("sid/inquiry"), "value": inquiry.reference}],
            "status": ("completed" if inquiry.outcome == "completed" else "revoked") if closed else "active",
            "intent": "order",
            "category": [{"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}]}],
            "code": {"coding": [{"system": self.system("CodeSystem/service"), "code": inquiry.service,
                                 "display": service}], "text": service},
            "subject": self.ref(self.patient_resource),
            "authoredOn": _instant(inquiry.created_at),
            "requester": self.ref(self.requester()),
            "performer": [self.ref(self.center)],
            "reasonCode": [{"text": inquiry.reason}] if inquiry.reason else [],
            "supportingInfo": supporting,
        }

    def task_of(self, task: Task) -> dict:
        if task.state == DONE:
            status = "completed"
        elif task.state == CANCELLED:
            status = "cancelled"
        elif task.paused_at is not None:
            status = "on-hold"  # its clock is stopped while the case waits on the patient
        else:
            status = "ready" if task.assignee_id else "requested"
        code = self.business_status
        label = str(labels.TASK_LABELS.get(task.kind, task.kind))
        return {
            "resourceType": "Task", "id": f"task-{task.id}",
            "basedOn": [self.ref(self.referral)],
            "status": status,
            "statusReason": {"text": "Waiting on the patient"} if status == "on-hold" else None,
            "businessStatus": {"coding": [{"system": BSER_BUSINESS_STATUS, "code": code,
                                           "display": BSER_CODES[code]}], "text": BSER_CODES[code]},
            "intent": "order",
            "code": {"coding": [{"system": self.system("CodeSystem/task-kind"), "code": task.kind,
                                 "display": label}], "text": label},
            "focus": self.ref(self.referral),
            "for": self.ref(self.patient_resource),
            "executionPeriod": {"start": _instant(task.created_at), "end": _instant(task.completed_at)},
            "authoredOn": _instant(task.created_at),
            "lastModified": _instant(task.completed_at or task.created_at),
            "requester": self.ref(self.center),
            "owner": self.ref(self.staff_of(task.assignee_id)),
            "restriction": {"period": {"end": _instant(task.due_at)}},
        }

    def communication_of(self, message: Message, attachments: list[dict]) -> dict:
        patient = self.ref(self.patient_resource)
        staff = self.ref(self.staff_of(message.author_id)) or self.ref(self.center)
        if message.direction == "out":
            sender, recipient = staff, patient
            outbound = message.outbound
            if outbound is not None and outbound.status == QUEUED:
                status, sent = "in-progress", None
            elif outbound is not None and outbound.status == FAILED:
                status, sent = "not-done", None
            else:
                status = "completed"
                sent = outbound.sent_at if outbound is not None and outbound.sent_at else message.created_at
            received = None
        else:
            sender, recipient, status, sent, received = None, self.ref(self.center), "completed", None, \
                message.created_at
            if message.channel == "portal" or (message.from_addr and self.patient.email and
                                               message.from_addr.lower() == self.patient.email.lower()):
                sender = patient  # else someone else wrote, or the mail system (a bounce)
        kind = str(labels.MESSAGE_KIND_LABELS.get(message.kind, message.kind))
        return {
            "resourceType": "Communication", "id": f"message-{message.id}",
            "language": message.language,
            "status": status,
            "statusReason": {"text": "Not delivered"} if status == "not-done" else None,
            "category": [{"coding": [{"system": self.system("CodeSystem/message-kind"),
                                      "code": message.kind, "display": kind}], "text": kind}],
            "medium": [{"coding": [MEDIUM[message.channel]]}] if message.channel in MEDIUM else [],
            "subject": patient,
            "topic": {"text": message.subject} if message.subject else None,
            "about": [self.ref(self.referral)],
            "sent": _instant(sent), "received": _instant(received),
            "recipient": [recipient],
            "sender": sender,
            "payload": ([{"contentString": message.body_text}] if message.body_text else [])
            + [{"contentReference": ref} for ref in attachments],
        }

    def appointment_of(self, visit: Appointment, mails: list[dict]) -> dict:
        """An appointment kept as data: proposed (held, not sent yet), booked (confirmed and
        mailed) or cancelled, with its time, its physician and its place at its center. The
        center's side has accepted a booked one; the patient's answer is not recorded here."""
        center = self.add(self.center_of(visit.center)) if visit.center is not None else None
        physician = self.physician_of(visit.physician)
        booked = "accepted" if visit.confirmed_at is not None else "needs-action"
        where = ", ".join(filter(None, [center["name"] if center else None, visit.location]))
        return {
            "resourceType": "Appointment", "id": f"appointment-{visit.id}",
            "status": APPOINTMENT_STATUS[visit.state],
            "description": f"Appointment with {physician['name'][0]['text']} at {where}" if physician
            else f"Appointment at {where}",
            "start": _instant(visit.starts_at), "end": _instant(visit.ends_at),
            "minutesDuration": visit.duration_minutes,
            "created": _instant(visit.created_at),
            "patientInstruction": visit.note,
            "basedOn": [self.ref(self.referral)],
            "supportingInformation": mails,
            "participant": [
                {"actor": self.ref(self.patient_resource), "required": "required", "status": "needs-action"},
                {"type": [{"coding": [ATTENDER]}], "actor": self.ref(physician), "required": "required",
                 "status": booked} if physician else None,
                {"actor": self.ref(self.location_of(visit.location, center)), "required": "required",
                 "status": booked},
            ],
        }

    def mailed_appointment_of(self, message: Message, communication: dict) -> dict:
        """An appointment mailed before appointments were kept as data (its mail has no
        calendar file of an Appointment row): its time and place are only the text of that
        message, so it has no start or end, which FHIR allows only as ``proposed`` (app-3)."""
        return {
            "resourceType": "Appointment", "id": f"appointment-mail-{message.id}",
            "status": "proposed",
            "description": "Appointment details sent to the patient",
            "created": _instant(message.created_at),
            "comment": ("Sent to the patient as booked. The time and place are kept only as the text "
                        "of that message (see supportingInformation), so this record has no start or end."),
            "basedOn": [self.ref(self.referral)],
            "supportingInformation": [self.ref(communication)],
            "participant": [{"actor": self.ref(self.patient_resource), "status": "needs-action"}],
        }

    def document_ref(self, document_id: int | None) -> dict | None:
        return self.ref(self.resources.get(("DocumentReference", f"document-{document_id}")))

    def document_type(self, doc: Document) -> dict | None:
        if doc.kind in DOCUMENT_KINDS:
            name, standard = DOCUMENT_KINDS[doc.kind][:2]
            return {"coding": [standard, {"system": self.system("CodeSystem/document-kind"), "code": doc.kind,
                                          "display": name}], "text": name}
        item = doc.checklist_item
        item_label = str(labels.RECORD_ITEM_LABELS[item.item]) \
            if item is not None and item.item in labels.RECORD_ITEM_LABELS else None
        return {"text": item_label} if item_label else None

    def document_of(self, doc: Document, made: "_Made") -> dict:
        # the staff download route's path, as the app's URL map builds it
        path = current_app.url_map.bind("localhost").build(
            "inquiries.document", {"inquiry_id": self.inquiry.id, "document_id": doc.id})
        superseded = made.superseded(doc)
        replaced = made.replaced_by(doc)
        # documents are added in the order of their ids: one replaced or appended to is in already
        relates = [{"code": "replaces", "target": self.document_ref(earlier)} for earlier in replaced]
        if doc.kind == "addendum" and made.opinion_document_id is not None:
            relates.append({"code": "appends", "target": self.document_ref(made.opinion_document_id)})
        author = self.physician_of(made.specialist) if doc.kind in ("opinion", "addendum") else None
        if doc.kind == "visa_letter":
            author = self.center
        return {
            "resourceType": "DocumentReference", "id": f"document-{doc.id}", "_display": doc.filename,
            # a letter with passport numbers in it: a receiving system should restrict who reads it
            "meta": {"security": [{"system": CONFIDENTIALITY, "code": "R", "display": "restricted"}]}
            if doc.kind == "visa_letter" else None,
            # the content's SHA-256 as a named-information URI (RFC 6920)
            "identifier": [{"system": URI, "value": "ni:///sha-256;" + base64.urlsafe_b64encode(
                bytes.fromhex(doc.sha256)).decode().rstrip("=")}],
            "status": "superseded" if superseded else "current",
            "docStatus": None if superseded else made.doc_status(doc),
            "type": self.document_type(doc),
            "category": [DOCUMENT_KINDS[doc.kind][2]] if doc.kind in DOCUMENT_KINDS else [],
            "subject": self.ref(self.patient_resource),
            "date": _instant(doc.created_at),
            "author": [self.ref(author)],
            "custodian": self.ref(self.center),
            "relatesTo": [r for r in relates if r["target"] is not None],
            "description": doc.filename,
            "content": [{"attachment": {
                "contentType": doc.content_type, "url": f"{self.base}{path}",
                "size": doc.size, "hash": _sha1_of(doc), "title": doc.filename,
                "creation": _instant(doc.created_at)}}],
            "context": {"related": [self.ref(self.referral)]},
        }

    def consent_of(self) -> dict:
        """The consent to be contacted about the request (the public form asks for it)."""
        inquiry = self.inquiry
        return {
            "resourceType": "Consent", "id": f"consent-{inquiry.id}",
            "status": "active",
            "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy",
                                  "display": "Privacy Consent"}]},
            "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}],
                          "text": "Consent to be contacted about this request"}],
            "patient": self.ref(self.patient_resource),
            "dateTime": _instant(inquiry.consent_at),
            "performer": [self.ref(self.patient_resource)],
            "organization": [self.ref(self.center)],
            "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN", "display": "opt-in"}]},
            "provision": {"type": "permit", "period": {"start": _instant(inquiry.consent_at)},
                          "action": [{"coding": [{"system": CONSENT_ACTION, "code": "collect"}]},
                                     {"coding": [{"system": CONSENT_ACTION, "code": "use"}]}],
                          "data": [{"meaning": "related", "reference": self.ref(self.referral)}]},
        }


class _Made:
    """What the center made of a case's documents: which opinion, visa letter and guarantee
    letter are the current ones (a new upload or letter replaces the earlier), whether each is
    with the patient, and the opinion's specialist. Read only when such documents exist, and
    never the travel plan's passports."""

    def __init__(self, inquiry: Inquiry, documents: list[Document]):
        kinds = {doc.kind for doc in documents}
        self.by_kind = {kind: [doc.id for doc in documents if doc.kind == kind] for kind in kinds}
        self.current: dict[str, int | None] = {}
        self.released: set[int] = set()
        self.opinion_document_id, self.specialist = None, None
        if kinds & {"opinion", "addendum"}:
            row = db.session.execute(select(OpinionRequest.opinion_document_id, OpinionRequest.released_at,
                                            OpinionRequest.specialist_name)
                                     .where(OpinionRequest.inquiry_id == inquiry.id)).first()
            if row is not None:
                self.opinion_document_id, self.specialist = row.opinion_document_id, row.specialist_name
                self.current["opinion"] = row.opinion_document_id
                if row.released_at is not None:
                    self.released.add(row.opinion_document_id)
            # an addendum is filed as it is sent, answering its question
            self.released |= set(db.session.scalars(
                select(OpinionAddendum.document_id).join(OpinionRequest)
                .where(OpinionRequest.inquiry_id == inquiry.id, OpinionAddendum.answered_at.is_not(None))))
        if "visa_letter" in kinds:
            row = db.session.execute(select(TravelPlan.visa_letter_id, TravelPlan.visa_letter_sent_at)
                                     .where(TravelPlan.inquiry_id == inquiry.id)).first()
            if row is not None:
                self.current["visa_letter"] = row.visa_letter_id
                if row.visa_letter_sent_at is not None:
                    self.released.add(row.visa_letter_id)
        if "guarantee_letter" in kinds:
            self.current["guarantee_letter"] = db.session.scalar(
                select(FinancialClearance.guarantee_document_id)
                .where(FinancialClearance.inquiry_id == inquiry.id))

    def superseded(self, doc: Document) -> bool:
        """An earlier opinion, visa letter or guarantee letter, replaced by the current one."""
        current = self.current.get(doc.kind)
        return current is not None and doc.id != current

    def replaced_by(self, doc: Document) -> list[int]:
        """The documents the current one of its kind replaced."""
        if doc.kind not in self.current or self.current[doc.kind] != doc.id:
            return []
        return [other for other in self.by_kind[doc.kind] if other != doc.id]

    def doc_status(self, doc: Document) -> str | None:
        """The opinion, its addenda and the visa letter: ``final`` once with the patient, else
        ``preliminary`` (still being read by the center before it goes out)."""
        if doc.kind not in ("opinion", "addendum", "visa_letter"):
            return None
        return "final" if doc.id in self.released else "preliminary"


def _visit_mailed(message: Message, by_calendar_file: dict[str, Appointment]) -> Appointment | None:
    """The Appointment row an appointment mail was about: the one whose calendar file it
    carries (mail from before appointments were data has none)."""
    outbound = message.outbound
    for attachment in outbound.attachments if outbound is not None else ():
        if attachment.content_type == appointments.ICS_TYPE and attachment.filename in by_calendar_file:
            return by_calendar_file[attachment.filename]
    return None


def _digest(text: str) -> str:
    """A short stable id part for a name (FHIR ids: 64 characters at most)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sha1_of(doc: Document) -> str | None:
    """The stored file's SHA-1 (of its plaintext) in base64, as FHIR's Attachment.hash wants it;
    None when the file is gone, cannot be decrypted, or is not the one received (its SHA-256
    differs from the record's)."""
    try:
        data = uploads.read_stored(current_app.config["UPLOAD_DIR"], doc.storage_name, sha256=doc.sha256)
    except (NotFound, uploads.UnreadableFile, OSError):
        return None
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _pruned(value):
    """FHIR has no empty values: None, empty strings, lists and objects are left out."""
    if isinstance(value, dict):
        pruned = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [item for item in map(_pruned, value) if item not in (None, "", [], {})]
    return value
