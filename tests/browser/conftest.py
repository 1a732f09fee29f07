"""A live server on loopback and headless Chromium (Debian's, driven by Playwright)."""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from crm.extensions import db
from tests.conftest import IN_CI, make_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "crm.sqlite3"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        from crm.services.demo import load_demo
        load_demo(40, seed=3)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.base = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("Chromium is missing (tests/run.sh installs Debian's chromium as root)")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # bypass_csp lets axe-core be injected; the pages themselves run under the real policy
    context = browser.new_context(base_url=live_server.base, locale="en-US", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page, email="coordinator@itinera.example", password="itinera-demo"):
    """Sign in as a person does; a manager or admin sets up the authenticator app at the first
    sign-in (the key read off the page) and types its code at the next ones."""
    from tests import two_step
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/(inquiries/board|login/setup|login/code)$"))
    key = (page.url.split("/login")[0].split("/inquiries")[0], email.lower())
    if page.url.endswith("/login/setup"):
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        two_step.enrolled(key, secret)
        page.get_by_label("The 6-digit code your app shows now").fill(two_step.fresh_code(key))
        page.get_by_role("button", name="Turn on two-step sign-in").click()
        page.get_by_role("link", name="I have kept my codes: continue").click()
    elif page.url.endswith("/login/code"):
        page.get_by_label("Code from your authenticator app, or a recovery code").fill(two_step.fresh_code(key))
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/inquiries/board")


def axe_violations(page, impacts=("serious", "critical")):
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in result["violations"] if v["impact"] in impacts]
