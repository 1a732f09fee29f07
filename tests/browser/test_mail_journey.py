"""The whole conversation, as a new user would try it: an Arabic email in windows-1256 with a
PDF dropped into the IMAP mailbox becomes an inquiry with the PDF; the coordinator replies
from the case page; the Arabic email reaches the SMTP server; its link opens the right-to-left
portal; the patient answers and uploads a PDF; the coordinator sees both in the same thread."""
import re
import threading

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from crm.extensions import db
from crm.services import mailbox, outbox
from tests import mail_samples as samples
from tests.conftest import make_app

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "a long coordinator password"


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory, smtp_server_session, imap_server):
    tmp = tmp_path_factory.mktemp("journey")
    app = make_app(f"sqlite:///{tmp / 'crm.sqlite3'}", SMTP_URL=smtp_server_session.url,
                   IMAP_URL=imap_server.url, UPLOAD_DIR=str(tmp / "uploads"))
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        from crm.services.centers import ensure_default_centers
        from crm.services.users import create_user
        ensure_default_centers()
        create_user("nadia@itinera.example", name="Nadia Haddad", role="coordinator", password=PASSWORD,
                    center_keys=["cardiology"], languages=["ar", "en"])
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.base = app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def test_from_the_arabic_email_to_the_patients_answer(browser, mail_server, smtp_server, imap_mailbox):
    imap_mailbox.deliver(samples.arabic_windows_1256_with_pdf())
    with mail_server.app_context():
        assert mailbox.poll_imap().as_dict()["created"] == 1
        outbox.deliver_due()
    [acknowledgement] = smtp_server.messages
    assert acknowledgement.rcpt_tos == ["m.alotaibi@example.sa"]

    staff = browser.new_context(base_url=mail_server.base, locale="en-US", bypass_csp=True)
    coordinator = staff.new_page()
    sign_in(coordinator, "nadia@itinera.example", PASSWORD)
    coordinator.goto("/tasks/")
    coordinator.get_by_role("link", name=re.compile("ITN-")).first.click()
    assert coordinator.get_by_role("link", name=samples.ARABIC_FILENAME).first.is_visible()
    coordinator.get_by_label("Message to the patient").fill("شكرا لرسالتك. نحتاج إلى تخطيط القلب الأخير.")
    coordinator.get_by_role("button", name="Send to the patient").click()
    coordinator.wait_for_load_state()
    assert axe_violations(coordinator) == []

    with mail_server.app_context():
        outbox.deliver_due()
    reply = smtp_server.messages[-1].message
    assert reply["Content-Language"] == "ar"
    html = reply.get_body(("html",)).get_content()
    assert 'dir="rtl"' in html
    link = re.search(r"https?://[^\s\"<]+/p/[A-Za-z0-9_.\-]+", reply.get_body(("plain",)).get_content()).group(0)

    patient_context = browser.new_context(locale="ar", bypass_csp=True)
    patient = patient_context.new_page()
    patient.goto(link)
    assert patient.locator("html").get_attribute("dir") == "rtl"
    assert patient.locator("html").get_attribute("lang") == "ar"
    assert "شكرا لرسالتك" in patient.locator("#thread").inner_text()
    assert axe_violations(patient) == []
    patient.locator("#body").fill("مرفق تخطيط القلب. شكرا جزيلا")
    patient.locator("#thread form [type=submit]").click()
    patient.wait_for_load_state()
    patient.locator("input[type=file]").set_input_files(
        files=[{"name": "تخطيط.pdf", "mimeType": "application/pdf", "buffer": samples.MINIMAL_PDF}])
    patient.locator("form[enctype] [type=submit]").click()
    patient.wait_for_load_state()
    assert "تخطيط.pdf" in patient.content()

    coordinator.reload()
    thread = coordinator.locator("#conversation").inner_text()
    assert "مرفق تخطيط القلب" in thread
    assert coordinator.get_by_role("link", name="تخطيط.pdf").first.is_visible()
    staff.close()
    patient_context.close()
