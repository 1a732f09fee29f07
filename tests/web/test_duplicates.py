"""Possible duplicates on screen: the flag on the patient page, the review list, compare and
merge, set a pair aside; errors answered with a 4xx and a message."""
import itertools
import re

import pytest
from sqlalchemy import select

from crm.models import AuditEvent, DuplicateDismissal, Patient
from tests.conftest import csrf_from

_phones = itertools.count(1)


def person(factory, given, family, *, dob="1980-04-02", center="cardiology", **fields):
    fields.setdefault("phone", f"+96655{next(_phones):07d}")
    return factory.inquiry(given_name=given, family_name=family, date_of_birth=dob, center=center,
                           **fields).patient


@pytest.fixture
def coordinator(factory, auth):
    user = factory.user(centers=("cardiology",))
    auth.login(user)
    return user


@pytest.fixture
def pair(factory):
    older = person(factory, "Mohammed", "Al-Otaibi", dob="1975-06-01", timezone="")
    newer = person(factory, "محمد", "العتيبي", dob="1975-06-01", timezone="Asia/Riyadh")
    return older, newer


def merge_url(a, b):
    return f"/patients/{a.id}/merge/{b.id}"


def test_the_patient_page_flags_a_possible_duplicate(client, coordinator, pair):
    older, newer = pair
    html = client.get(f"/patients/{older.id}").get_data(as_text=True)
    assert "Possible duplicate" in html
    assert "Name matches across spellings or scripts" in html
    assert f'href="{merge_url(older, newer)}"' in html and "Compare and merge" in html
    assert "العتيبي" in html


def test_a_patient_without_duplicates_has_no_flag(client, coordinator, factory):
    alone = person(factory, "Kenji", "Watanabe")
    assert "Possible duplicate" not in client.get(f"/patients/{alone.id}").get_data(as_text=True)


def test_merge_through_the_compare_page(client, coordinator, pair, db):
    older, newer = pair
    moved = newer.inquiries[0]
    page = client.get(merge_url(newer, older))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mohammed Al-Otaibi" in html and "محمد العتيبي" in html
    # the older record is kept unless the coordinator chooses otherwise
    assert re.search(rf'value="{older.id}"\s+checked', html)
    assert '<th scope="col">' in html and 'scope="row"' in html
    response = client.post(merge_url(newer, older), data={
        "csrf_token": csrf_from(page), "survivor": older.id,
        "patient_version": newer.version, "other_version": older.version})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/patients/{older.id}")
    survivor_page = client.get(f"/patients/{older.id}").get_data(as_text=True)
    assert "The two records were merged into this one." in survivor_page
    assert moved.reference in survivor_page
    assert "Merged records" in survivor_page and "Possible duplicate" not in survivor_page
    db.session.expire_all()
    assert db.session.get(Patient, newer.id).merged_into_id == older.id
    assert db.session.get(Patient, older.id).timezone == "Asia/Riyadh"
    # the merged record's page leads to the survivor
    redirect = client.get(f"/patients/{newer.id}")
    assert redirect.status_code == 302 and redirect.headers["Location"].endswith(f"/patients/{older.id}")
    assert "The record you opened was merged into this one." in client.get(
        redirect.headers["Location"]).get_data(as_text=True)
    assert client.get(f"/patients/{newer.id}/edit").headers["Location"].endswith(
        f"/patients/{older.id}/edit")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "merge")).all()
    assert {e.patient_id for e in events} == {older.id, newer.id}
    assert {e.actor_id for e in events} == {coordinator.id}


def test_the_newer_record_can_be_kept(client, coordinator, pair, db):
    older, newer = pair
    page = client.get(merge_url(older, newer))
    response = client.post(merge_url(older, newer), data={
        "csrf_token": csrf_from(page), "survivor": newer.id,
        "patient_version": older.version, "other_version": newer.version})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/patients/{newer.id}")
    db.session.expire_all()
    assert db.session.get(Patient, older.id).merged_into_id == newer.id


def test_review_list_and_not_the_same_person(client, coordinator, pair, db):
    older, newer = pair
    html = client.get("/patients/duplicates").get_data(as_text=True)
    assert f'href="{merge_url(older, newer)}"' in html
    assert "Name matches across spellings or scripts" in html
    assert 'href="/patients/duplicates"' in html  # in the navigation
    response = client.post(f"/patients/{older.id}/not-duplicate/{newer.id}",
                           data={"csrf_token": csrf_from(client.get("/patients/duplicates")),
                                 "next": "/patients/duplicates"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/patients/duplicates")
    html = client.get("/patients/duplicates").get_data(as_text=True)
    assert "Marked as different people" in html
    assert merge_url(older, newer) not in html and "No possible duplicates to review." in html
    assert "Possible duplicate" not in client.get(f"/patients/{older.id}").get_data(as_text=True)
    assert db.session.scalar(select(DuplicateDismissal.other_id)) == newer.id


def test_not_the_same_person_goes_back_only_to_this_site(client, coordinator, pair):
    older, newer = pair
    response = client.post(f"/patients/{older.id}/not-duplicate/{newer.id}",
                           data={"csrf_token": csrf_from(client.get(merge_url(older, newer))),
                                 "next": "https://evil.example/"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/patients/{older.id}")


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_post_without_a_valid_csrf_token_is_refused(client, coordinator, pair, db, token):
    older, newer = pair
    data = {"survivor": older.id, "patient_version": older.version, "other_version": newer.version}
    if token:
        data["csrf_token"] = token
    response = client.post(merge_url(older, newer), data=data)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    dismissed = client.post(f"/patients/{older.id}/not-duplicate/{newer.id}", data={
        k: v for k, v in data.items() if k == "csrf_token"})
    assert dismissed.status_code == 400
    db.session.expire_all()
    assert db.session.get(Patient, newer.id).merged_into_id is None
    assert db.session.scalar(select(DuplicateDismissal.patient_id)) is None


def test_a_stale_version_is_a_conflict_with_a_message(client, coordinator, pair, db):
    older, newer = pair
    page = client.get(merge_url(older, newer))
    response = client.post(merge_url(older, newer), data={
        "csrf_token": csrf_from(page), "survivor": older.id,
        "patient_version": older.version, "other_version": newer.version - 1})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone changed one of these records" in html
    assert f'name="other_version" type="hidden" value="{newer.version}"' in html  # read again
    db.session.expire_all()
    assert db.session.get(Patient, newer.id).merged_into_id is None


def test_missing_versions_or_choice_are_named(client, coordinator, pair, db):
    older, newer = pair
    token = csrf_from(client.get(merge_url(older, newer)))
    no_version = client.post(merge_url(older, newer), data={"csrf_token": token, "survivor": older.id})
    assert no_version.status_code == 422
    assert "The version you read these records at is missing." in no_version.get_data(as_text=True)
    stranger = client.post(merge_url(older, newer), data={
        "csrf_token": token, "survivor": 999, "patient_version": older.version,
        "other_version": newer.version})
    assert stranger.status_code == 422 and 'id="survivor-error"' in stranger.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Patient, newer.id).merged_into_id is None


def test_bad_ids_and_records_out_of_reach_are_404(client, coordinator, pair, factory):
    older, newer = pair
    hidden = person(factory, "Mohammed", "Al-Otaibi", dob="1975-06-01", center="transplant")
    token = csrf_from(client.get(merge_url(older, newer)))
    assert client.get(f"/patients/{older.id}/merge/999999999").status_code == 404
    assert client.get(f"/patients/{older.id}/merge/{older.id}").status_code == 404
    assert client.get(f"/patients/{older.id}/merge/99999999999999999999").status_code == 404
    assert client.get("/patients/99999999999999999999").status_code == 404
    assert client.get(merge_url(older, hidden)).status_code == 404
    assert client.post(merge_url(older, hidden), data={
        "csrf_token": token, "survivor": older.id, "patient_version": 1,
        "other_version": 1}).status_code == 404
    assert client.post(f"/patients/{older.id}/not-duplicate/{hidden.id}",
                       data={"csrf_token": token}).status_code == 404
    assert f"/patients/{hidden.id}" not in client.get(f"/patients/{older.id}").get_data(as_text=True)


def test_a_merged_record_whose_survivor_is_out_of_reach_is_404(client, factory, auth, db):
    manager = factory.user(role="manager")
    kept = person(factory, "Olga", "Petrova", center="transplant")
    gone = person(factory, "Olga", "Petrova", center="cardiology")
    from crm.services.duplicates import merge_patients
    merge_patients(kept, gone, actor=manager, expected_versions=(kept.version, gone.version))
    db.session.commit()
    auth.login(factory.user(centers=("neurology",)))
    assert client.get(f"/patients/{gone.id}").status_code == 404


def test_merging_an_already_merged_record_is_refused(client, coordinator, pair, factory, db):
    older, newer = pair
    token = csrf_from(client.get(merge_url(older, newer)))
    data = {"csrf_token": token, "survivor": older.id, "patient_version": older.version,
            "other_version": newer.version}
    assert client.post(merge_url(older, newer), data=data).status_code == 303
    again = client.post(merge_url(older, newer), data=data)
    assert again.status_code == 404  # a merged record has no inquiry the coordinator can see
    manager = factory.user(role="manager")
    client.post("/logout", data={"csrf_token": token})
    from tests.conftest import AuthActions
    AuthActions(client).login(manager)
    page = client.get(merge_url(older, newer))
    assert page.status_code == 303


def edit_data(client, patient, **changes):
    page = client.get(f"/patients/{patient.id}/edit")
    data = {"csrf_token": csrf_from(page), "version": patient.version, "mrn": patient.mrn or ""}
    for field in ("given_name", "family_name", "email", "phone", "sex", "country",
                  "preferred_language", "timezone"):
        data[field] = getattr(patient, field) or ""
    data["date_of_birth"] = patient.date_of_birth.isoformat() if patient.date_of_birth else ""
    data.update(changes)
    return data


def test_an_edit_puts_a_pair_on_the_review_list_and_takes_it_off(client, coordinator, factory, db):
    amal = person(factory, "Amal", "Saleh", dob="1970-01-01", email="amal@example.com")
    noor = person(factory, "Noor", "Hamdan", dob="1991-05-05", email="noor@example.com")
    assert "No possible duplicates to review." in client.get("/patients/duplicates").get_data(as_text=True)
    response = client.post(f"/patients/{noor.id}/edit",
                           data=edit_data(client, noor, email="Amal@Example.com"))
    assert response.status_code == 303
    html = client.get("/patients/duplicates").get_data(as_text=True)
    assert f'href="{merge_url(amal, noor)}"' in html and "Same email address" in html
    db.session.expire_all()
    noor = db.session.get(Patient, noor.id)
    response = client.post(f"/patients/{noor.id}/edit",
                           data=edit_data(client, noor, email="noor@example.com"))
    assert response.status_code == 303
    html = client.get("/patients/duplicates").get_data(as_text=True)
    assert merge_url(amal, noor) not in html and "No possible duplicates to review." in html


def test_records_written_in_bulk_are_compared_when_the_list_is_read(client, coordinator, factory, db):
    """Records the mail import or the demo writes at once are compared on the list's next view,
    which keeps what it compared."""
    from sqlalchemy import insert

    from crm.models.patient import name_key
    from crm.services.intake import create_inquiry
    latin = person(factory, "Mohammed", "Al Otaibi", dob="1975-06-01")
    db.session.execute(insert(Patient), [{
        "given_name": "محمد", "family_name": "العتيبي", "name_key": name_key("محمد", "العتيبي"),
        "email": "m.otaibi@example.sa", "email_lower": "m.otaibi@example.sa", "search_text": "",
        "preferred_language": "ar", "version": 1}])
    arabic = db.session.scalar(select(Patient).where(Patient.email_lower == "m.otaibi@example.sa"))
    create_inquiry(factory.inquiry_data(email=arabic.email, given_name="محمد", family_name="العتيبي",
                                        phone="", date_of_birth=""),
                   source="email")  # its inquiry, in the coordinator's center
    db.session.commit()
    assert arabic.duplicates_checked_at is None
    html = client.get("/patients/duplicates").get_data(as_text=True)
    assert f'href="{merge_url(latin, arabic)}"' in html
    assert "Name matches across spellings or scripts" in html
    db.session.expire_all()
    assert db.session.scalar(select(Patient.id).where(Patient.duplicates_checked_at.is_(None))) is None
