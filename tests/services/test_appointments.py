"""Appointments as data: proposed, confirmed (mailed with an .ics in the patient's language and
local time), cancelled (the cancellation mailed); a time in the past refused, nothing saved."""
from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import icalendar
import pytest
from babel.dates import format_datetime
from sqlalchemy import select

from crm.mail.transport import build_email
from crm.models import Appointment, OutboundMail
from crm.models.base import utcnow
from crm.services import appointments
from crm.services.errors import ValidationError

BOSTON = ZoneInfo("America/New_York")
WHEN = datetime(2031, 3, 14, 9, 30, tzinfo=BOSTON)


def mails(db, inquiry, kind):
    return list(db.session.scalars(select(OutboundMail).where(OutboundMail.inquiry_id == inquiry.id,
                                                              OutboundMail.kind == kind)))


def test_a_confirmed_appointment_is_mailed_with_a_calendar_file_in_the_patients_language(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry(preferred_language="pt-BR", timezone="America/Sao_Paulo", country="BR")
    appointment = appointments.book(inquiry, actor=coordinator, when=WHEN, location="Heart Center, 55 Fruit St",
                                    physician="Dr. Adams", duration=45)
    assert appointment.state == "confirmed" and appointment.center.key == "cardiology"
    [mail] = mails(db, inquiry, "appointment")
    assert mail.language == "pt-BR"
    local = WHEN.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert format_datetime(local, "full", locale="pt_BR") in mail.body_text
    message = message_from_bytes(bytes(build_email(mail)), policy=policy.default)
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == f"appointment-{appointment.id}.ics"
    calendar = icalendar.Calendar.from_ical(part.get_content())
    [event] = calendar.events
    assert event.start == WHEN and event.end == WHEN + timedelta(minutes=45)
    assert str(event["location"]) == "Heart Center, 55 Fruit St" and str(event["status"]) == "CONFIRMED"
    assert calendar.timezones  # the zone travels with the file: any calendar shows the right hour


def test_a_proposed_appointment_waits_then_is_confirmed_and_cancelled(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry(preferred_language="zh-Hans", timezone="Asia/Shanghai")
    appointment = appointments.book(inquiry, actor=coordinator, when=WHEN, location="Clinic", confirm=False)
    assert appointment.state == "proposed" and mails(db, inquiry, "appointment") == []
    appointments.confirm(inquiry, appointment.id, actor=coordinator)
    assert appointment.state == "confirmed" and len(mails(db, inquiry, "appointment")) == 1
    with pytest.raises(ValidationError):
        appointments.confirm(inquiry, appointment.id, actor=coordinator)
    appointments.cancel(inquiry, appointment.id, actor=coordinator)
    [cancelled] = mails(db, inquiry, "appointment_cancelled")
    assert cancelled.language == "zh-Hans"
    [event] = icalendar.Calendar.from_ical(cancelled.attachments[0].data).events
    assert str(event["status"]) == "CANCELLED" and event["sequence"] == 1
    assert event["uid"] == icalendar.Calendar.from_ical(
        mails(db, inquiry, "appointment")[0].attachments[0].data).events[0]["uid"]


@pytest.mark.parametrize("fields, field, message", [
    ({"when": utcnow() - timedelta(hours=1), "location": "Clinic"}, "date", "in the past"),
    ({"when": None, "location": "Clinic"}, "date", "Give the date and the time"),
    ({"when": WHEN, "location": " "}, "location", "Say where the appointment is."),
    ({"when": WHEN, "location": "Clinic", "duration": 5000}, "duration", "An appointment lasts"),
    ({"when": WHEN, "location": "Clinic", "center_key": "nowhere"}, "center", "Choose one of the centers"),
])
def test_a_bad_appointment_is_refused_and_nothing_is_saved(factory, db, fields, field, message):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    with pytest.raises(ValidationError) as refused:
        appointments.book(inquiry, actor=coordinator, **fields)
    assert message in str(refused.value.fields[field])
    assert db.session.scalars(select(Appointment).where(Appointment.inquiry_id == inquiry.id)).all() == []
    assert mails(db, inquiry, "appointment") == []


def test_an_appointment_for_a_patient_without_email_is_refused_whole(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry(email="")
    with pytest.raises(ValidationError):
        appointments.book(inquiry, actor=coordinator, when=WHEN, location="Clinic")
    db.session.rollback()
    assert db.session.scalars(select(Appointment).where(Appointment.inquiry_id == inquiry.id)).all() == []
