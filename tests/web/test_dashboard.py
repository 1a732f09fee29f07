"""The dashboard page and GET /api/v1/dashboard: managers read every center, coordinators their
own, admins nothing; charts an eye reads and tables a screen reader reads; every figure opens the
list of exactly the cases behind it; English and Arabic; bad filters are a 4xx."""
from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta

import pytest
from babel.numbers import format_decimal, format_percent, parse_decimal

from crm.models.base import utcnow
from crm.services import dashboard, intake, pipeline
from crm.services.demo import load_demo
from crm.services.users import create_api_token

LINK = re.compile(r'<a (?:class="[^"]*" )?href="(/inquiries/[^"]*)">([^<]+)</a>')


@pytest.fixture
def demo(db):
    load_demo(120, seed=7)
    db.session.commit()


def list_total(client, href: str) -> int:
    page = client.get(htmllib.unescape(href))
    assert page.status_code == 200, href
    found = re.search(r'id="result-count">([^<]+?) inquir', page.get_data(as_text=True))
    return int(parse_decimal(found.group(1), locale="en")) if found else 0


def test_a_manager_reads_the_whole_pipeline(client, auth, factory, demo):
    manager = factory.user(role="manager")
    auth.login(manager)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    figures = dashboard.figures(manager)
    assert '<html lang="en" dir="ltr">' in page and "<h1 class=\"h3\">Dashboard</h1>" in page
    # tiles first, then the charts
    assert page.index("New this week") < page.index("How far cases got") < page.index("Inquiries by center")
    assert format_decimal(figures["open_cases"], locale="en") in page
    charts = re.findall(r'<svg class="d-block w-100"[^>]*role="img" aria-label="([^"]+)"[^>]*>'
                        r'\s*<title>([^<]+)</title>', page)
    assert len(charts) == 9 and all(label == title for label, title in charts)
    assert page.count("<details") == 9 and page.count('<caption class="visually-hidden">') == 9
    assert 'href="/dashboard/"' in page  # the navigation's link
    assert 'aria-current="page' in page.split('href="/dashboard/"')[0][-200:]


def test_every_figure_opens_the_list_of_its_cases(client, auth, factory, demo, db):
    manager = factory.user(role="manager")
    auth.login(manager)
    today = utcnow().astimezone(dashboard.zone()).date()
    checked = 0
    for query in ("", f"?from={today - timedelta(days=60)}&to={today}&center=cancer"):
        page = client.get(f"/dashboard/{query}").get_data(as_text=True)
        tables = page[page.index("At a glance"):]
        medians = tables[tables.index('id="medians-h"'):tables.index('id="countries-h"')]
        workload = tables[tables.index('id="workload-h"'):]
        for href, shown in LINK.findall(tables):
            if href in medians or (href in workload and "overdue=" in href) or "reached=in_care" in href:
                continue  # days, tasks (a case may have two), a sentence: not a count of cases
            assert list_total(client, href) == int(parse_decimal(shown, locale="en")), href
            checked += 1
    assert checked > 60


def test_medians_and_overdue_tasks_link_to_their_cases(client, auth, factory, demo, db):
    manager = factory.user(role="manager")
    auth.login(manager)
    page = client.get("/dashboard/").get_data(as_text=True)
    figures = dashboard.figures(manager)
    medians = page[page.index('id="medians-h"'):page.index('id="countries-h"')]
    href = next(h for h, _shown in LINK.findall(medians) if "left_stage=intake" in h)
    assert 0 < list_total(client, href) <= figures["stays"]["intake"]
    tiles = dict((title, href) for href, title in re.findall(
        r'<a class="card[^"]*" href="([^"]+)">\s*<div class="card-body">\s*<p[^>]*>([^<]+)</p>', page))
    assert 0 < list_total(client, tiles["Overdue tasks"]) <= figures["overdue_tasks"]
    assert list_total(client, tiles["Open cases"]) == figures["open_cases"]
    assert list_total(client, tiles["New this week"]) == figures["new_this_week"]
    late = tiles["First response within one business day"]
    assert list_total(client, late) == figures["first_response"]["late"]
    care = next(h for h, _shown in LINK.findall(page) if "reached=in_care" in h)
    assert list_total(client, care) == figures["conversion"]["reached_care"] > 0


def test_arabic_reads_right_to_left_with_its_own_numbers(client, auth, factory, demo):
    manager = factory.user(role="manager", ui_locale="ar")
    auth.login(manager)
    page = client.get("/dashboard/").get_data(as_text=True)
    figures = dashboard.figures(manager)
    assert '<html lang="ar" dir="rtl">' in page
    assert page.count('direction="rtl"') == 9 and 'direction="ltr"' not in page
    assert format_decimal(figures["by_stage"]["closed"], locale="ar") in page
    assert format_percent(figures["first_response_sla"], "#,##0%", locale="ar") in page


def test_a_coordinator_sees_their_centers_only(client, auth, factory, db):
    coordinator = factory.user(centers=("cardiology",), name="Cora")
    manager = factory.user(role="manager")
    factory.inquiry(center="cardiology")
    hidden = factory.inquiry(center="neurology", country="MX")
    auth.login(coordinator)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "You see the cases of your centers" in page
    assert "Neurology" not in page.split('id="centers-h"')[1].split("</section>")[0]
    assert "Mexico" not in page
    intake.update_inquiry(hidden, {"coordinator_id": coordinator.id}, actor=manager,
                          expected_version=hidden.version)
    db.session.commit()
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Mexico" in page  # their own case in another center


def test_admins_are_refused(client, auth, factory):
    admin = factory.user(role="admin")
    auth.login(admin)
    assert client.get("/dashboard/").status_code == 403
    assert 'href="/dashboard/"' not in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("query, field", [
    ("from=31/01/2026", "from"), ("to=2026-13-01", "to"), ("from=2026-03-01&to=2026-01-01", "to"),
    ("center=nowhere", "center")])
def test_bad_filters_are_shown_next_to_their_field(client, auth, factory, query, field):
    auth.login(factory.user(role="manager"))
    response = client.get(f"/dashboard/?{query}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="d-{field}-error"' in page and 'aria-invalid="true"' in page


def api_get(client, user, db, query=""):
    token = create_api_token(user)
    db.session.commit()
    return client.get(f"/api/v1/dashboard{query}", headers={"Authorization": f"Bearer {token}"})


def test_the_api_gives_the_page_s_figures(client, factory, db, demo):
    manager = factory.user(role="manager")
    response = api_get(client, manager, db)
    assert response.status_code == 200
    body = response.json
    for key in ("by_stage", "by_center", "by_country", "by_language", "by_source", "overdue_tasks",
                "first_response_sla", "median_days_in_stage", "funnel", "conversion", "new_this_week",
                "open_cases", "new_by_week", "first_response_by_week", "workload", "total"):
        assert key in body, key
    figures = dashboard.as_json(dashboard.figures(manager))
    for key in ("by_stage", "by_center", "by_country", "total", "median_days_in_stage", "funnel"):
        assert body[key] == figures[key]
    assert 0 <= body["first_response_sla"] <= 1 and isinstance(body["overdue_tasks"], int)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", body["new_by_week"][0]["week"])
    today = utcnow().astimezone(dashboard.zone()).date()
    narrow = api_get(client, manager, db, f"?from={today}&to={today}&center=cardiology").json
    assert narrow["filters"] == {"from": today.isoformat(), "to": today.isoformat(), "center": "cardiology"}
    assert narrow["total"] <= body["by_center"].get("cardiology", 0)


@pytest.mark.parametrize("query, field", [
    ("?from=soon", "from"), ("?to=2026-02-30", "to"), ("?from=2026-05-01&to=2026-04-01", "to"),
    ("?center=nowhere", "center")])
def test_bad_api_filters_are_422_with_the_contract_s_shape(client, factory, db, query, field):
    response = api_get(client, factory.user(role="manager"), db, query)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error" and field in error["fields"] and error["message"]


def test_api_tokens_see_what_their_owner_sees(client, factory, db):
    coordinator = factory.user(centers=("cardiology",))
    manager = factory.user(role="manager")
    factory.inquiry(center="cardiology")
    case = factory.inquiry(center="neurology")
    pipeline.transition_inquiry(case, "intake", actor=manager, expected_version=case.version)
    db.session.commit()
    assert api_get(client, coordinator, db).json["total"] == 1
    assert api_get(client, manager, db).json["by_stage"]["intake"] == 1
    assert api_get(client, factory.user(role="admin"), db).status_code == 403


def test_the_list_names_the_filters_a_figure_opened_it_with(client, auth, factory, db):
    auth.login(factory.user(role="manager"))
    factory.inquiry(source="referral")
    today = utcnow().astimezone(dashboard.zone()).date()
    page = client.get(f"/inquiries/?created_from={today}&created_to={today}&source=referral&reached=new"
                      ).get_data(as_text=True)
    assert "Also filtered by" in page and "Source: Physician referral" in page
    assert "Reached New or a later stage" in page
    assert f'<input type="hidden" name="created_from" value="{today}">' in page  # kept on Apply
    remove = re.search(r'<a class="small" href="([^"]+)" '
                       r'aria-label="Remove the filter: Source: Physician referral"', page).group(1)
    assert "source=" not in htmllib.unescape(remove) and "reached=new" in htmllib.unescape(remove)
    assert list_total(client, f"/inquiries/?created_from={today}&source=referral") == 1
    assert list_total(client, f"/inquiries/?created_from={today}&source=phone") == 0
