"""Sentences keep their language's punctuation: French spaces before ":" and ";", Arabic "،" and
"؛", Chinese "：", "；" and "（）" — in patient mail, the portal page and the lists staff read."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import Markup
from sqlalchemy import select

from crm.mail.render import render
from crm.models import OutboundMail
from crm.models.base import utcnow
from crm.i18n import force_locale
from crm.services.formatting import format_list, opening_hours

NBSP = "\u00a0"
#: How each language writes "label: value", and what separates opening hours of different days.
COLON = {"fr": NBSP + ": ", "ar": ": ", "zh-Hans": "："}
HOURS_SEPARATOR = {"fr": NBSP + "; ", "ar": "؛ ", "zh-Hans": "；"}
COMMA = {"fr": ",", "ar": "،", "zh-Hans": "："}  # after the name in "Dear …,"
PARENTHESES = {"fr": (" (", ")"), "ar": (" (", ")"), "zh-Hans": ("（", "）")}
LANGUAGES = list(COLON)
PORTAL = re.compile(r"(\S*)(http://127\.0\.0\.1:5000/p/[A-Za-z0-9_.\-]+)")


def context(**extra):
    return {"reference": "ITN-000042", "given_name": "Layla", "portal_url": "http://127.0.0.1:5000/p/abc",
            "link_expires_at": utcnow() + timedelta(days=30), "coordinator_name": "Nadia Haddad", **extra}


def portal_line(text: str) -> str:
    return next(line for line in text.splitlines() if "http://127.0.0.1:5000/p/" in line)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_acknowledgement_keeps_the_languages_punctuation(db, factory, language):
    inquiry = factory.inquiry(preferred_language=language, given_name="Layla")
    mail = db.session.scalars(select(OutboundMail).where(
        OutboundMail.inquiry_id == inquiry.id, OutboundMail.kind == "acknowledgement")).one()
    text = mail.body_text
    line = portal_line(text)
    assert COLON[language] + "http://127.0.0.1:5000/p/" in line, line
    assert "Layla" + COMMA[language] in text
    hours = next(line for line in text.splitlines() if HOURS_SEPARATOR[language] in line)
    assert "; " not in hours.replace(HOURS_SEPARATOR[language], ""), hours
    assert HOURS_SEPARATOR[language] in mail.body_html


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_reply_frame_and_the_appointment_keep_the_languages_punctuation(app, language):
    with app.app_context():
        reply = render("reply", language, **context(body="Bonjour / مرحبا / 你好"))
        appointment = render("appointment", language, **context(
            when_boston="BOSTON-TIME", when_patient="PATIENT-TIME", location="Building B",
            clinician="Dr. Ames", note=""))
    for mail in (reply, appointment):
        assert "Layla" + COMMA[language] in mail.text
        assert COLON[language] + "http://127.0.0.1:5000/p/abc" in portal_line(mail.text)
    when = next(line for line in appointment.text.splitlines() if "BOSTON-TIME" in line)
    assert COLON[language] + "BOSTON-TIME" in when, when
    opening, closing = PARENTHESES[language]
    assert opening in when and when.endswith(COLON[language] + "PATIENT-TIME" + closing), when
    assert COLON[language] + "Building B" in appointment.text
    assert COLON[language] + "Dr. Ames" in appointment.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_portal_page_shows_the_opening_hours_in_the_patients_language(client, db, factory, language):
    inquiry = factory.inquiry(preferred_language=language)
    mail = db.session.scalars(select(OutboundMail).where(OutboundMail.inquiry_id == inquiry.id)).first()
    token = PORTAL.search(mail.body_text).group(2).rsplit("/", 1)[1]
    page = client.get(f"/p/{token}").get_data(as_text=True)
    with client.application.test_request_context(), force_locale(language):
        hours = opening_hours()
    assert HOURS_SEPARATOR[language] in hours
    assert str(Markup.escape(hours)) in page
    assert (COLON[language] + str(Markup.escape(hours))) in page


@pytest.mark.parametrize("locale, expected", [
    ("en", "heart.pdf, lungs.exe, and <script>"), ("fr", "heart.pdf, lungs.exe et <script>"),
    ("ar", "heart.pdf وlungs.exe و<script>"), ("zh_Hans", "heart.pdf、lungs.exe和<script>")])
def test_lists_are_joined_the_readers_way_and_stay_escaped(app, locale, expected):
    with app.test_request_context(), force_locale(locale):
        assert format_list(["heart.pdf", "lungs.exe", "<script>"]) == expected
        safe = format_list([Markup("<b>heart.pdf</b>"), "lungs.exe", "<script>"])
    assert isinstance(safe, Markup)
    assert safe == expected.replace("heart.pdf", "<b>heart.pdf</b>").replace("<script>", "&lt;script&gt;")
