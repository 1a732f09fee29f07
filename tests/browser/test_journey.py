"""In Chromium: the journey strip on a case whose records hold it back, a record waived from the
checklist card, the clinical review recorded, and the portal's steps on a phone; accessibility."""
import re

import pytest
from sqlalchemy import select

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PORTAL_PATH = re.compile(r"/p/([A-Za-z0-9_.\-]+)")


def case_in_records(app):
    """A new Brazilian patient's case in records, two records asked; its id and portal path."""
    from crm.extensions import db
    from crm.models import OutboundMail, User
    from crm.services import conversation, intake, pipeline
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.email == "manager@itinera.example"))
        inquiry = intake.create_inquiry({
            "given_name": "Lucas", "family_name": "Pereira", "email": "lucas.pereira@example.com",
            "country": "BR", "preferred_language": "pt-BR", "timezone": "America/Sao_Paulo",
            "service": "second_opinion_in_person", "center": "cardiology",
            "reason": "Arritmia, segunda opinião"}, source="phone", actor=manager)
        for stage in ("intake", "records"):
            pipeline.transition_inquiry(inquiry, stage, actor=manager, expected_version=inquiry.version)
        conversation.request_records(inquiry, ["imaging_reports", "lab_results"], actor=manager)
        db.session.commit()
        mail = db.session.scalars(select(OutboundMail).where(OutboundMail.inquiry_id == inquiry.id)
                                  .order_by(OutboundMail.id.desc())).first()
        return inquiry.id, PORTAL_PATH.search(mail.body_text).group()


def test_a_coordinator_sees_what_holds_the_case_and_clears_it(page, live_server, tmp_path):
    inquiry_id, _portal = case_in_records(live_server)
    sign_in(page, "manager@itinera.example")
    page.goto(f"/inquiries/{inquiry_id}")
    blocked = page.locator(".journey-step--blocked")
    assert blocked.count() == 1 and "Records" in blocked.inner_text() and "Blocked" in blocked.inner_text()
    move_on = page.get_by_role("button", name="Move to Clinical review")
    assert move_on.is_disabled()
    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "case-records.png"), full_page=True)

    for name in ("Imaging reports (CT, MRI, ultrasound, X-ray)",
                 "Laboratory results from the last six months"):
        row = page.locator(".checklist-staff__item", has_text=name)
        row.get_by_text("Waive", exact=True).click()
        row.get_by_label("Why the case can go on without it").fill("Brought on paper to the visit")
        row.get_by_role("button", name="Waive this record").click()
        page.wait_for_load_state()
        assert "waived" in page.get_by_role("status").inner_text()
    assert page.locator(".journey-step--blocked").count() == 0
    page.get_by_role("button", name="Move to Clinical review").click()
    page.wait_for_load_state()
    assert "Moved to Clinical review." in page.get_by_role("status").inner_text()

    review = page.locator("#review")
    review.get_by_label("Or a physician without an account (name, department)").fill("Dr. Ana Ruiz")
    review.get_by_label("Decision").select_option("accept")
    review.get_by_role("button", name="Save the review").click()
    page.wait_for_load_state()
    assert "accepted" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Move to Financial clearance").is_enabled()
    assert axe_violations(page) == []


def test_the_patient_reads_the_steps_on_a_phone(browser, live_server, tmp_path):
    _inquiry_id, portal = case_in_records(live_server)
    context = browser.new_context(base_url=live_server.base, locale="pt-BR", bypass_csp=True,
                                  viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(portal)
        assert page.locator("html").get_attribute("lang") == "pt-BR"
        steps = page.locator(".portal-steps li")
        assert steps.count() >= 3
        first = steps.first.inner_text()
        assert "Blocked" not in first and "2" in first
        page.locator(".portal-steps").get_by_role("link").first.click()
        assert page.url.endswith("#records")
        assert axe_violations(page) == []
        page.screenshot(path=str(tmp_path / "portal-steps.png"), full_page=True)
    finally:
        context.close()


def test_the_travel_plan_and_who_pays_are_recorded_on_pages_of_their_own(page, live_server, tmp_path):
    inquiry_id, _portal = case_in_records(live_server)
    sign_in(page, "manager@itinera.example")
    page.goto(f"/inquiries/{inquiry_id}")
    card = page.locator("#travel-plan")
    card.get_by_role("link", name="Travel details and passport").click()
    page.wait_for_url(f"**/inquiries/{inquiry_id}/travel-plan")
    assert page.get_by_role("heading", level=1).inner_text() == "Travel details and passport"
    assert axe_violations(page) == []
    page.get_by_label("Arrival date").fill("2031-03-10")
    page.get_by_label("Departure date").fill("2031-03-24")
    page.get_by_label("Lodging").fill("Longwood Inn")
    page.get_by_label("Interpreter needed").check()
    interpreter = page.get_by_label("Interpreter's language")
    assert interpreter.locator("option").first.inner_text() == "The patient's language (Portuguese)"
    interpreter.select_option("pt")
    page.get_by_label("Passport issued by").select_option("BR")
    page.screenshot(path=str(tmp_path / "travel-plan-page.png"), full_page=True)
    page.get_by_role("button", name="Save the travel plan").click()
    page.wait_for_url(f"**/inquiries/{inquiry_id}#travel-plan")
    assert "Travel plan saved." in page.get_by_role("status").inner_text()
    assert "Longwood Inn" in card.inner_text() and "Portuguese" in card.inner_text()

    page.locator("#finance").get_by_role("link", name="Choose who pays").click()
    page.wait_for_url(f"**/inquiries/{inquiry_id}/finance")
    assert axe_violations(page) == []
    page.get_by_label("Who pays").select_option("insurance")
    page.get_by_label("Insurer").fill("Bradesco Saúde")
    page.get_by_role("button", name="Save who pays").click()
    page.wait_for_url(f"**/inquiries/{inquiry_id}#finance")
    assert "Bradesco Saúde" in page.locator("#finance").inner_text()
    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "case-after.png"), full_page=True)
    for path in ("appointment", "records", "travel", "travel-plan/companions"):
        page.goto(f"/inquiries/{inquiry_id}/{path}")
        assert axe_violations(page) == [], path
