"""The journey on the screens: the case page's strip and cards (records completed, clinical review,
registration, clinical trial), their refusals next to the fields, the move refused while records
are missing (web and API), the portal's plain strip, and the case page's fixed query count."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, ngettext
from markupsafe import escape
from sqlalchemy import event, select

from crm.extensions import limiter
from crm.models import Inquiry, Patient, StageChange, Task
from crm.i18n import LANGUAGE_LOCALES
from crm.services import conversation, pipeline, records
from crm.services.users import create_api_token
from tests.conftest import AuthActions, csrf_from
from tests.web.test_portal import link_from_mail, translated

PHYSICIAN = "Dr. Ana Ruiz"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def coordinator(factory, auth):
    user = factory.user(name="Nadia Saleh", centers=("cardiology",))
    auth.login(user)
    return user


def html(response) -> str:
    return response.get_data(as_text=True)


def post(client, inquiry_id, path, **data):
    page = client.get(f"/inquiries/{inquiry_id}")
    return client.post(f"/inquiries/{inquiry_id}{path}", data={"csrf_token": csrf_from(page), **data})


def in_records(factory, coordinator, db, items=("imaging_reports", "lab_results"), **kw):
    inquiry = factory.inquiry(coordinator_id=coordinator.id, preferred_language="en", **kw)
    factory.walk(inquiry, "records", coordinator)
    conversation.request_records(inquiry, list(items), actor=coordinator)
    db.session.commit()
    return inquiry


def item_id(inquiry, key):
    return next(i.id for i in conversation.checklist(inquiry) if i.item == key)


def reload(db, inquiry) -> Inquiry:
    db.session.expire_all()
    return db.session.get(Inquiry, inquiry.id)


# --- the strip and the move held back ------------------------------------------------------------

def test_the_case_page_shows_what_blocks_the_next_stage(client, coordinator, factory, db):
    inquiry = in_records(factory, coordinator, db)
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    strip = page[page.index('class="journey-steps"'):]
    strip = strip[:strip.index("</ol>")]
    assert "journey-step--blocked" in strip and "Blocked" in strip and 'href="#records"' in strip
    assert "journey-step--todo" in strip and "Not started" in strip
    reason = str(escape(pipeline.reason_of(pipeline.gate_error(inquiry, "clinical_review"))))
    assert reason.startswith("Still missing") and reason in strip
    button = re.search(r'<button[^>]*value="clinical_review"[^>]*>', page).group()
    assert "disabled" in button and 'aria-describedby="blocked-clinical_review"' in button
    assert 'id="blocked-clinical_review"' in page


def test_a_move_past_missing_records_is_refused_on_the_web_and_nothing_changes(client, coordinator, factory,
                                                                               db):
    inquiry = in_records(factory, coordinator, db)
    version = inquiry.version
    response = post(client, inquiry.id, "/transition", to="clinical_review", version=version)
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    assert "The case stays in records until each required record is received or waived." in page
    case = reload(db, inquiry)
    assert case.stage == "records" and case.version == version
    assert db.session.scalar(select(StageChange.id).where(StageChange.inquiry_id == inquiry.id,
                                                          StageChange.to_stage == "clinical_review")) is None


def test_the_api_refuses_with_records_missing_and_shows_the_journey(app, client, factory, db, coordinator):
    token = create_api_token(coordinator)
    db.session.commit()
    inquiry = in_records(factory, coordinator, db)
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(f"/api/v1/inquiries/{inquiry.id}/transition", headers=headers,
                           json={"to": "clinical_review", "version": inquiry.version})
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "records_missing"
    assert set(error["fields"]) == {"checklist.imaging_reports", "checklist.lab_results"}
    detail = client.get(f"/api/v1/inquiries/{inquiry.id}", headers=headers).json
    assert detail["blocked_moves"]["clinical_review"]["code"] == "records_missing"
    records_step = next(step for step in detail["journey"] if step["key"] == "records")
    assert records_step["state"] == "blocked" and records_step["reason"].startswith("Still missing")
    # an integration records the physician's decision the same way
    factory.walk(inquiry, "records", coordinator)
    for key in ("imaging_reports", "lab_results"):
        records.waive(inquiry, item_id(inquiry, key), "Brought on paper", actor=coordinator)
    db.session.commit()
    moved = client.post(f"/api/v1/inquiries/{inquiry.id}/transition", headers=headers,
                        json={"to": "clinical_review", "version": inquiry.version}).json
    bad = client.post(f"/api/v1/inquiries/{inquiry.id}/review", headers=headers,
                      json={"decision": "decline", "reviewer_name": PHYSICIAN, "version": moved["version"]})
    assert bad.status_code == 422 and "reason" in bad.json["error"]["fields"]
    typed = client.post(f"/api/v1/inquiries/{inquiry.id}/review", headers=headers,
                        json={"decision": "accept", "reviewer_id": "7", "version": moved["version"]})
    assert typed.status_code == 422 and "reviewer_id" in typed.json["error"]["fields"]
    accepted = client.post(f"/api/v1/inquiries/{inquiry.id}/review", headers=headers, json={
        "decision": "accept", "reviewer_name": PHYSICIAN, "version": moved["version"]})
    assert accepted.status_code == 200 and accepted.json["version"] == moved["version"] + 1
    timeline = client.get(f"/api/v1/inquiries/{inquiry.id}", headers=headers).json["timeline"]
    assert {"kind": "review", "decision": "accept", "reviewer": PHYSICIAN}.items() <= \
        next(e for e in timeline if e["kind"] == "review").items()


# --- the records checklist ---------------------------------------------------------------------

def test_waiving_without_a_reason_says_so_next_to_the_field(client, coordinator, factory, db):
    inquiry = in_records(factory, coordinator, db)
    lab = item_id(inquiry, "lab_results")
    response = post(client, inquiry.id, f"/records/{lab}/waive", reason="  ")
    assert response.status_code == 422
    page = html(response)
    field = re.search(rf'<textarea[^>]*id="waive-reason-{lab}"[^>]*>', page).group()
    assert 'aria-invalid="true"' in field
    assert f'id="waive-reason-{lab}-error"' in page and "This field is required." in page
    assert reload(db, inquiry) and conversation.checklist(inquiry)[0].waived_at is None

    response = post(client, inquiry.id, f"/records/{lab}/waive", reason="The labs are in the summary")
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    assert "waived" in page and "Waived by Nadia Saleh" in page and "The labs are in the summary" in page


def test_a_document_received_by_email_is_linked_to_its_record(client, coordinator, factory, db, app):
    from crm.services.uploads import store
    inquiry = in_records(factory, coordinator, db)
    stored = store(b"%PDF-1.4 scan", "ct-report.pdf", upload_dir=app.config["UPLOAD_DIR"], max_bytes=10**6)
    document = conversation.add_document(inquiry, stored, source="email")
    db.session.commit()
    imaging = item_id(inquiry, "imaging_reports")
    assert post(client, inquiry.id, f"/records/{imaging}/document", document_id="999999").status_code == 303
    assert not next(i for i in conversation.checklist(reload(db, inquiry)) if i.id == imaging).is_received
    response = post(client, inquiry.id, f"/records/{imaging}/document", document_id=str(document.id))
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    row = page[page.index(f'id="record-{imaging}"'):]
    row = row[:row.index("</li>")]
    assert "received" in row and "ct-report.pdf" in row
    optional = post(client, inquiry.id, f"/records/{item_id(inquiry, 'lab_results')}/required", required="0")
    assert optional.status_code == 303
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    assert "optional" in page
    assert "disabled" not in re.search(r'<button[^>]*value="clinical_review"[^>]*>', page).group()


# --- the clinical review -----------------------------------------------------------------------

def in_review(factory, coordinator, db):
    inquiry = factory.inquiry(coordinator_id=coordinator.id, preferred_language="en")
    return factory.walk(inquiry, "clinical_review", coordinator)


def test_a_declined_case_is_closed_as_not_accepted_from_the_review_card(client, coordinator, factory, db):
    inquiry = in_review(factory, coordinator, db)
    refused = post(client, inquiry.id, "/review", reviewer_name=PHYSICIAN, decision="decline",
                   version=inquiry.version)
    assert refused.status_code == 422
    page = html(refused)
    assert 'id="review_reason-error"' in page and "Say why the case is declined" in page
    assert reload(db, inquiry).version == inquiry.version

    response = post(client, inquiry.id, "/review", reviewer_name=PHYSICIAN, decision="decline",
                    reason="Best treated at home", version=inquiry.version)
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    assert "Close as not accepted" in page and "Clinical review: Dr. Ana Ruiz declined the case." in page
    form = page[page.index('name="outcome" value="not_accepted"') - 600:]
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    closed = post(client, inquiry.id, "/transition", to="closed", outcome="not_accepted",
                  note="Best treated at home", version=version)
    assert closed.status_code == 303
    case = reload(db, inquiry)
    assert case.stage == "closed" and case.outcome == "not_accepted"


def test_more_records_from_the_review_card_sends_the_case_back(client, coordinator, factory, db):
    inquiry = in_review(factory, coordinator, db)
    missing = post(client, inquiry.id, "/review", reviewer_name=PHYSICIAN, decision="more_records",
                   version=inquiry.version)
    assert missing.status_code == 422 and "Choose the records the physician wants to see." in html(missing)
    response = client.post(f"/inquiries/{inquiry.id}/review", data={
        "csrf_token": csrf_from(client.get(f"/inquiries/{inquiry.id}")), "reviewer_name": PHYSICIAN,
        "decision": "more_records", "items": ["pathology", "lab_results"], "version": inquiry.version})
    assert response.status_code == 303
    case = reload(db, inquiry)
    assert case.stage == "records"
    assert sorted(i.item for i in conversation.missing_items(case)) == ["lab_results", "pathology"]
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    assert "Clinical review: Dr. Ana Ruiz asked for more records" in page


def test_a_stale_review_form_is_refused(client, coordinator, factory, db):
    inquiry = in_review(factory, coordinator, db)
    response = post(client, inquiry.id, "/review", reviewer_name=PHYSICIAN, decision="accept",
                    version=inquiry.version - 1)
    assert response.status_code == 422
    assert "Someone else changed this case" in html(response)
    assert pipeline.gate_error(reload(db, inquiry), "financial_clearance") is not None


# --- registration ------------------------------------------------------------------------------

def test_the_mrn_is_entered_checked_and_ends_its_reminder(client, coordinator, factory, db):
    inquiry = factory.walk(factory.inquiry(coordinator_id=coordinator.id), "financial_clearance", coordinator)
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    assert "Enter the medical record number from the registration center" in page  # the open task
    version = inquiry.patient.version
    bad = post(client, inquiry.id, "/mrn", mrn="MRN-12", version=version)
    assert bad.status_code == 422
    page = html(bad)
    assert 'id="register_mrn-error"' in page
    assert "This is not a medical record number of this hospital" in page

    other = factory.inquiry(center="neurology", given_name="Amal", family_name="Farouk", mrn="5550001")
    taken = post(client, inquiry.id, "/mrn", mrn="5550001", version=version)
    assert taken.status_code == 422
    assert "already on another patient" in html(taken) and "Farouk" not in html(taken)

    saved = post(client, inquiry.id, "/mrn", mrn="5550002", version=version)
    assert saved.status_code == 303
    db.session.expire_all()
    assert db.session.get(Patient, inquiry.patient_id).mrn == "5550002"
    assert db.session.scalars(select(Task.state).where(Task.inquiry_id == inquiry.id,
                                                       Task.kind == "register_mrn")).all() == ["done"]
    assert other.patient.mrn == "5550001"


def test_a_manager_is_told_whose_number_it_is(client, factory, db):
    manager = factory.user(role="manager")
    AuthActions(client).login(manager)
    factory.inquiry(given_name="Amal", family_name="Farouk", mrn="5550001")
    inquiry = factory.inquiry()
    taken = post(client, inquiry.id, "/mrn", mrn="5550001", version=inquiry.patient.version)
    assert taken.status_code == 422 and "Amal Farouk" in html(taken)


# --- the clinical trial ------------------------------------------------------------------------

def test_the_trial_is_named_with_a_checked_registry_id(client, coordinator, factory, db):
    inquiry = factory.inquiry(service="clinical_trial")
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    assert "which one is not recorded yet" in page
    bad = post(client, inquiry.id, "/trial", trial_name="KEYNOTE-177", trial_registry_id="NCT-1",
               version=inquiry.version)
    assert bad.status_code == 422 and "This is not a trial registry id" in html(bad)
    assert reload(db, inquiry).trial_name is None
    saved = post(client, inquiry.id, "/trial", trial_name="KEYNOTE-177", trial_registry_id="nct02563002",
                 version=inquiry.version)
    assert saved.status_code == 303
    page = html(client.get(f"/inquiries/{inquiry.id}"))
    assert 'href="https://clinicaltrials.gov/study/NCT02563002"' in page and "KEYNOTE-177" in page


# --- the portal --------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["pt-BR", "zh-Hans"])
def test_the_portal_shows_the_steps_in_plain_words_in_the_patients_language(client, factory, db, language):
    coordinator = factory.user()
    inquiry = factory.inquiry(preferred_language=language, coordinator_id=coordinator.id)
    token = link_from_mail(db, inquiry)
    factory.walk(inquiry, "records", coordinator)
    conversation.request_records(inquiry, ["imaging_reports", "pathology"], actor=coordinator)
    records.waive(inquiry, item_id(inquiry, "pathology"), "No biopsy was done", actor=coordinator)
    db.session.commit()
    page = html(client.get(f"/p/{token}"))
    assert f'lang="{language}"' in page
    locale = LANGUAGE_LOCALES[language]
    strip = page[page.index('class="portal-steps"'):]
    strip = strip[:strip.index("</ol>")]
    with force_locale(locale):
        waiting = ngettext("We are waiting for %(num)d document from you. You can send it below.",
                           "We are waiting for %(num)d documents from you. You can send them below.", 1)
    assert str(escape(waiting)) in strip
    assert str(escape(translated(locale, "Our physicians will review your records."))) in strip
    assert str(escape(translated(locale, "See what we need"))) in strip
    for staff_word in ("Blocked", "blocked-", "clinical_review", "No biopsy", "Not started", "Records"):
        assert staff_word not in strip
    assert str(escape(translated(locale, "%(item)s — no longer needed",
                                 item=translated(locale, "Pathology or biopsy reports")))) in page


# --- speed -------------------------------------------------------------------------------------

def test_the_case_page_costs_the_same_queries_however_much_the_case_holds(client, coordinator, factory, db):
    def queries(inquiry_id):
        seen = []
        listener = lambda *args, **kw: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/inquiries/{inquiry_id}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    def case(items, rounds):
        inquiry = factory.walk(factory.inquiry(coordinator_id=coordinator.id, preferred_language="en"),
                               "records", coordinator)
        conversation.request_records(inquiry, items, actor=coordinator)
        for key in items[1:]:
            records.waive(inquiry, item_id(inquiry, key), "Not needed", actor=coordinator)
        conversation.mark_received(inquiry, item_id(inquiry, items[0]), actor=coordinator)
        db.session.commit()
        for _round in range(rounds):
            pipeline.transition_inquiry(inquiry, "clinical_review", actor=coordinator,
                                        expected_version=inquiry.version)
            from crm.services import review
            review.record_decision(inquiry, "more_records", actor=coordinator,
                                   expected_version=inquiry.version, reviewer_name=PHYSICIAN,
                                   items=[items[0]])
            conversation.mark_received(inquiry, item_id(inquiry, items[0]), actor=coordinator)
            db.session.commit()
        return inquiry

    small = case(["pathology", "lab_results"], rounds=1)
    big = case(["pathology", "lab_results", "imaging_reports", "imaging_files", "medication_list",
                "operative_notes"], rounds=3)
    queries(small.id)  # warm: the signed-in user's row and the centers
    assert queries(small.id) == queries(big.id)
