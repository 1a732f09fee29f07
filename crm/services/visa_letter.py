"""The visa invitation letter: a PDF made with WeasyPrint from the patient's and companions'
passport details, on the hospital's letterhead, filed on the case for the coordinator to
review, then sent to the patient through the outbox."""
from __future__ import annotations

import time

from flask import current_app
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import force_locale
from ..models import Document, Inquiry, User
from ..models.base import utcnow
from . import appointments, audit, conversation, finance, followups, outbox, travel, uploads
from .errors import DomainError, ValidationError

VISA_LETTER = "visa_letter"
PDF = "application/pdf"
#: The letter is read by a U.S. consulate: written in English whatever the patient's language.
LETTER_LOCALE = "en"


class PdfUnavailable(DomainError):
    """WeasyPrint (or the pango library under it) cannot load on this server (503)."""

    code = "pdf_unavailable"
    status = 503
    default_message = _l("Letters cannot be made as PDF on this server: the PDF tool (WeasyPrint) "
                         "cannot load its system libraries. Ask an administrator to install pango "
                         "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0).")


def _weasyprint():
    """The WeasyPrint module, or ``PdfUnavailable`` when it or pango cannot load."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        current_app.logger.error("WeasyPrint cannot load: %s", error)
        raise PdfUnavailable() from None
    return weasyprint


def letter_html(inquiry: Inquiry, *, actor: User) -> str:
    """The letter as HTML (what the PDF is made of); ``ValidationError`` without passport data."""
    plan = travel.plan_of(inquiry)
    problems = travel.visa_letter_problems(plan, inquiry)
    if problems:
        raise ValidationError("visa_letter", " ".join(problems))
    visits = appointments.appointments_of(inquiry)
    visit = appointments.first_visit(visits)
    clearance = finance.clearance_of(inquiry)
    config = current_app.config
    patient = inquiry.patient
    with force_locale(LETTER_LOCALE):
        locale = get_locale()
        countries = locale.territories
        context = {
            "inquiry": inquiry, "patient": patient, "plan": plan, "visit": visit, "clearance": clearance,
            "hospital_name": config["HOSPITAL_NAME"], "hospital_lines": str(config["HOSPITAL_ADDRESS"]).splitlines(),
            "hospital_phone": config.get("HOSPITAL_PHONE"), "signatory": actor.name,
            "today": format_date(utcnow().date(), "long"),
            "country": countries.get(patient.country or "", patient.country or ""),
            "passport_country": countries.get(plan.passport_country or "", plan.passport_country or ""),
            "born": format_date(patient.date_of_birth, "long") if patient.date_of_birth else None,
            "expires": format_date(plan.passport_expires_on, "long") if plan.passport_expires_on else None,
            "arrival": format_date(plan.arrival_date, "long") if plan.arrival_date else None,
            "departure": format_date(plan.departure_date, "long") if plan.departure_date else None,
            "visit_date": format_date(visit.starts_at.astimezone(followups.calendar().zone).date(), "long")
            if visit else None,
            "center": inquiry.center.name_in(locale) if inquiry.center else None,
            "companions": [{"name": c.full_name, "relationship": travel.relationship_label(c.relationship_to_patient),
                            "born": format_date(c.date_of_birth, "long") if c.date_of_birth else "—",
                            "country": countries.get(c.passport_country or "", c.passport_country or ""),
                            "passport": c.passport_number,
                            "expires": format_date(c.passport_expires_on, "long") if c.passport_expires_on else "—"}
                           for c in plan.companions],
            "lang": "en", "dir": "ltr",
        }
        # the app's templates, without the web's context processors: a job or the CLI may make it too
        return current_app.jinja_env.get_template("letters/visa.html").render(context)


def render_pdf(html: str) -> bytes:
    """The HTML as a PDF (WeasyPrint; no network: the letter has no outside resources)."""
    weasyprint = _weasyprint()
    started = time.perf_counter()
    pdf = weasyprint.HTML(string=html, base_url=current_app.config["TEMPLATE_FOLDER"]).write_pdf()
    current_app.logger.info("visa letter rendered in %.2f s", time.perf_counter() - started)
    return pdf


def generate(inquiry: Inquiry, *, actor: User) -> Document:
    """Write the letter as a PDF and file it on the case (kind ``visa_letter``), for the
    coordinator to read before sending. Refused without passport data. Flushes."""
    html = letter_html(inquiry, actor=actor)
    pdf = render_pdf(html)
    stored = uploads.store(pdf, f"visa-letter-{inquiry.reference}.pdf", upload_dir=current_app.config["UPLOAD_DIR"],
                           max_bytes=max(len(pdf), 1))
    document = conversation.add_document(inquiry, stored, source="staff")
    document.kind = VISA_LETTER
    plan = travel.plan_of(inquiry)
    plan.visa_letter, plan.visa_letter_sent_at = document, None
    db.session.flush()
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"visa_letter={document.id} generated")
    return document


def send(inquiry: Inquiry, *, actor: User):
    """Mail the letter the coordinator reviewed to the patient, attached. Flushes."""
    plan = travel.plan_of(inquiry)
    if plan is None or plan.visa_letter is None:
        raise ValidationError("visa_letter", _l("Make the visa letter and read it before sending it."))
    conversation.check_reachable(inquiry)
    document = plan.visa_letter
    pdf = uploads.read_stored(current_app.config["UPLOAD_DIR"], document.storage_name, sha256=document.sha256)
    row = outbox.queue_patient_mail(inquiry, VISA_LETTER, actor=actor,  # kept encrypted in the outbox
                                    attachments=[(document.filename, PDF, pdf)])
    plan.visa_letter_sent_at = utcnow()
    db.session.flush()
    conversation.mail_sent(inquiry, row, actor=actor, kind=VISA_LETTER)
    return row
