"""In Chromium: sign in, the board, a case moved to closed, Arabic right to left, accessibility."""
import re

import pytest

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser


def test_a_coordinator_moves_a_case_to_closed(page, live_server):
    sign_in(page)
    assert page.get_by_role("heading", name="Pipeline board").is_visible()
    new_column = page.locator("section.board-column", has=page.get_by_role("heading", name="New", exact=True))
    new_column.locator("article a").first.click()
    page.wait_for_url(re.compile(r"/inquiries/\d+$"))
    page.get_by_role("button", name="Move to Intake").click()
    page.wait_for_url(re.compile(r"/inquiries/\d+$"))
    assert page.get_by_role("status").inner_text().strip().startswith("Moved to Intake.")
    page.get_by_label("Outcome").select_option("declined_by_patient")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close case").click()
    page.wait_for_load_state()
    assert "Moved to Closed." in page.get_by_role("status").inner_text()
    assert page.locator(".stage-badge").inner_text().startswith("Closed")
    assert page.get_by_text("Only a manager can reopen it.").is_visible()


def test_the_board_in_arabic_is_right_to_left(page, live_server, tmp_path):
    sign_in(page, "anna.petrova@itinera.example")
    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("button", name="العربية").click()
    page.wait_for_url("**/inquiries/board")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.get_by_role("heading", level=1).inner_text() != "Pipeline board"
    # the first column (New) sits on the right in a right-to-left page
    columns = page.locator("section.board-column")
    first, second = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
    assert first["x"] > second["x"]
    page.screenshot(path=str(tmp_path / "board-ar.png"))


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_staff_pages_have_no_serious_accessibility_violations(page, live_server, lang):
    sign_in(page, "karim.benali@itinera.example" if lang == "ar" else "emily.carter@itinera.example")
    if lang == "ar":
        page.goto("/inquiries/board")
        page.get_by_role("button", name=re.compile("Language")).click()
        page.get_by_role("button", name="العربية").click()
        page.wait_for_url("**/inquiries/board")
    page.goto("/inquiries/")
    case = page.locator("tbody a").first.get_attribute("href")
    for url in ("/inquiries/board", "/inquiries/", "/inquiries/new", case, "/tasks/",
                "/inquiries/?unrouted=1"):
        page.goto(url)
        assert axe_violations(page) == [], url


@pytest.mark.parametrize("lang", ["es", "ar", "zh-Hans"])
def test_the_public_request_form_in_chromium(page, live_server, lang):
    page.goto(f"/request?lang={lang}")
    assert axe_violations(page) == []
    page.locator("#given_name").fill("Lucía")
    page.locator("#family_name").fill("Fernández")
    page.locator("#email").fill(f"lucia.{lang}@example.com")
    page.locator("#country").select_option("AR")
    page.locator("#service").select_option("second_opinion_online")
    page.locator("#reason").fill("Necesito una segunda opinión sobre una arritmia.")
    page.locator("#consent").check()
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.wait_for_url("**/request/thanks")
    assert re.search(r"ITN-\d{6}", page.locator("main").inner_text())
    assert axe_violations(page) == []
