"""Appointments as data: proposed, confirmed (mailed to the patient in their language and
local time, with an ``.ics`` calendar file) or cancelled; a time in the past is refused."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import force_locale
from ..models import Appointment, Center, Inquiry, User
from ..models.appointment import CANCELLED, CONFIRMED, PROPOSED
from ..models.base import utcnow
from . import audit, conversation
from .errors import ValidationError
from .validation import clean_text
from .visibility import as_id

ICS_TYPE = "text/calendar"
MIN_MINUTES, MAX_MINUTES = 10, 8 * 60


def appointments_of(inquiry: Inquiry) -> list[Appointment]:
    """Every appointment of the case, soonest first, with its center."""
    return list(db.session.scalars(select(Appointment).where(Appointment.inquiry_id == inquiry.id)
                                   .options(joinedload(Appointment.center))
                                   .order_by(Appointment.starts_at, Appointment.id)))


def first_visit(appointments: list[Appointment]) -> Appointment | None:
    """The first appointment not cancelled: the visit deadlines count back from it."""
    return next((a for a in appointments if a.is_active), None)


def get_appointment(inquiry: Inquiry, appointment_id) -> Appointment:
    appointment = db.session.get(Appointment, as_id(appointment_id))
    if appointment is None or appointment.inquiry_id != inquiry.id:
        raise ValidationError("appointment", _l("Choose one of this case's appointments."))
    return appointment


def _clean(inquiry: Inquiry, *, when, location, physician, center_key, note, duration) -> dict:
    errors: dict = {}
    if when is None:
        errors["date"] = _l("Give the date and the time of the appointment.")
    elif when.tzinfo is None:
        raise ValueError("the appointment time must be timezone-aware")
    elif when <= utcnow():
        errors["date"] = _l("This time is in the past: give a date and time still to come.")
    location = clean_text(location, "location", errors, max_len=300)
    if not location and "location" not in errors:
        errors["location"] = _l("Say where the appointment is.")
    physician = clean_text(physician, "clinician", errors, max_len=200) or ""
    note = clean_text(note, "note", errors, max_len=2000) or ""
    try:
        duration = int(duration or 60)
    except (TypeError, ValueError):
        duration = -1
    if not MIN_MINUTES <= duration <= MAX_MINUTES:
        errors["duration"] = _l("An appointment lasts from %(min)d minutes to %(max)d hours.",
                                min=MIN_MINUTES, max=MAX_MINUTES // 60)
    center = inquiry.center
    if center_key:
        center = db.session.scalar(select(Center).where(Center.key == center_key, Center.is_active.is_(True)))
        if center is None:
            errors["center"] = _l("Choose one of the centers offered.")
    if errors:
        raise ValidationError(fields=errors)
    return {"starts_at": when, "location": location, "physician": physician, "note": note,
            "duration_minutes": duration, "center": center}


def book(inquiry: Inquiry, *, actor: User, when: datetime | None, location: str, physician: str = "",
         center_key: str | None = None, note: str = "", duration=60, confirm: bool = True) -> Appointment:
    """A new appointment: confirmed and mailed to the patient (``confirm``), or kept as proposed
    until it is confirmed. Refused whole when the time is past or the patient cannot be mailed.
    Flushes."""
    values = _clean(inquiry, when=when, location=location, physician=physician, center_key=center_key,
                    note=note, duration=duration)
    appointment = Appointment(inquiry=inquiry, created_by_id=actor.id, state=PROPOSED, created_at=utcnow(),
                              **values)
    db.session.add(appointment)
    db.session.flush()
    if confirm:
        _confirm(inquiry, appointment, actor=actor)
    else:
        audit.record("change", actor=actor, inquiry=inquiry, detail=f"appointment={appointment.id} proposed")
    inquiry.updated_at = utcnow()
    return appointment


def confirm(inquiry: Inquiry, appointment_id, *, actor: User) -> Appointment:
    """A proposed appointment is confirmed and mailed with its calendar file. Flushes."""
    appointment = get_appointment(inquiry, appointment_id)
    if appointment.state != PROPOSED:
        raise ValidationError("appointment", _l("Only a proposed appointment can be confirmed."))
    if appointment.starts_at <= utcnow():
        raise ValidationError("appointment", _l("This appointment's time has passed: cancel it and book "
                                                "a new one."))
    _confirm(inquiry, appointment, actor=actor)
    return appointment


def _confirm(inquiry: Inquiry, appointment: Appointment, *, actor: User) -> None:
    now = utcnow()
    appointment.state, appointment.confirmed_at, appointment.confirmed_by_id = CONFIRMED, now, actor.id
    db.session.flush()
    conversation.send_appointment(inquiry, appointment, actor=actor,
                                  attachments=[attachment(appointment, inquiry)])
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"appointment={appointment.id} confirmed")


def cancel(inquiry: Inquiry, appointment_id, *, actor: User) -> Appointment:
    """Cancel an appointment; a confirmed one's cancellation is mailed (its calendar file
    removes the event). Flushes."""
    appointment = get_appointment(inquiry, appointment_id)
    if appointment.state == CANCELLED:
        raise ValidationError("appointment", _l("This appointment is cancelled already."))
    was_confirmed = appointment.state == CONFIRMED
    appointment.state, appointment.cancelled_at, appointment.cancelled_by_id = CANCELLED, utcnow(), actor.id
    if was_confirmed:
        appointment.sequence += 1
        db.session.flush()
        conversation.send_appointment(inquiry, appointment, actor=actor,
                                      attachments=[attachment(appointment, inquiry)])
    db.session.flush()
    inquiry.updated_at = utcnow()
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"appointment={appointment.id} cancelled")
    return appointment


def ics_filename(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}.ics"


def attachment(appointment: Appointment, inquiry: Inquiry) -> tuple[str, str, bytes]:
    """The calendar file to mail, in the patient's language."""
    return (ics_filename(appointment), ICS_TYPE, ics(appointment, inquiry))


def ics(appointment: Appointment, inquiry: Inquiry) -> bytes:
    """The appointment as an iCalendar file (RFC 5545) in the patient's language: the time in
    Boston's zone (a calendar shows it in the reader's own); a cancelled one cancels the event."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    start = appointment.starts_at.astimezone(zone)
    cancelled = appointment.state == CANCELLED
    sender = current_app.config["MAIL_FROM"]
    domain = sender.rpartition("@")[2].strip("> ") or "itinera.invalid"
    with force_locale(inquiry.patient.preferred_language):
        center = appointment.center.name_in(get_locale()) if appointment.center else _("International Patient Center")
        summary = _("Appointment: %(center)s (%(reference)s)", center=center, reference=inquiry.reference)
        lines = [_("With: %(name)s", name=appointment.physician)] if appointment.physician else []
        if appointment.note:
            lines.append(appointment.note)
        lines.append(_("Please arrive 30 minutes early and bring your passport and any recent results."))
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Itinera//International Patient Center//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"appointment-{appointment.id}@{domain}")
    event.add("dtstamp", utcnow())
    event.add("dtstart", start)
    event.add("dtend", appointment.ends_at.astimezone(zone))
    event.add("summary", summary)
    event.add("location", appointment.location)
    event.add("description", "\n".join(lines))
    event.add("sequence", appointment.sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones(first_date=start.date() - timedelta(days=366),
                                   last_date=start.date() + timedelta(days=366))
    return calendar.to_ical()


def boston_time(day: date | None, clock) -> datetime | None:
    """A date and a wall-clock time typed for Boston, as an aware datetime (None if either is missing)."""
    if day is None or clock is None:
        return None
    return datetime.combine(day, clock, ZoneInfo(current_app.config["TIMEZONE"]))
