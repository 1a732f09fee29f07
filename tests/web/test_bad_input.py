"""Bad input of any shape gets a 4xx, never a 500, on every form and API call."""
import pytest

from crm.services.users import create_api_token
from tests.conftest import csrf_from

NASTY = ["", " ", "x" * 20000, "\x00", "null\x00byte", "<script>alert(1)</script>", "' OR 1=1 --",
         "%", "𝕏🙂", "٣٤٥", "9" * 40, "-1", "1e309", "[]", "{}"]
FORMS = {
    "/inquiries/new": ["given_name", "family_name", "email", "phone", "date_of_birth", "sex", "country",
                       "preferred_language", "timezone", "service", "center", "coordinator_id",
                       "reason", "source", "mrn", "referring_email", "referring_country"],
    "/request": ["given_name", "email", "phone", "date_of_birth", "country", "service", "center",
                 "reason", "consent", "preferred_language"],
}


@pytest.mark.parametrize("value", NASTY)
def test_forms_answer_4xx_or_redirect_never_500(client, auth, factory, value):
    auth.login(factory.user(role="manager"))
    inquiry = factory.inquiry()
    for url, fields in FORMS.items():
        page = client.get(url)
        for field in fields:
            response = client.post(url, data={"csrf_token": csrf_from(page), "given_name": "A",
                                              "family_name": "B", "reason": "r", field: value})
            assert response.status_code < 500, (url, field, value)
    page = client.get(f"/inquiries/{inquiry.id}")
    for data in ({"to": value, "version": 1}, {"to": "intake", "version": value},
                 {"to": "closed", "outcome": value, "version": 1}, {"to": "intake", "note": value, "version": 1}):
        response = client.post(f"/inquiries/{inquiry.id}/transition", data={"csrf_token": csrf_from(page), **data})
        assert response.status_code < 500, data
    for url in ("/inquiries/", "/inquiries/board", "/inquiries/export.csv"):
        for arg in ("q", "stage", "center", "coordinator", "language", "country", "page", "sort",
                    "updated_since"):
            assert client.get(url, query_string={arg: value}).status_code < 500, (url, arg, value)
    assert client.get("/login", query_string={"next": value}).status_code < 500


@pytest.mark.parametrize("value", NASTY + [None, 12, -5, 3.5, True, [1], {"a": 1}, 10**30])
def test_api_answers_4xx_never_500(client, factory, db, value):
    token = create_api_token(factory.user(role="manager"))
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    inquiry = factory.inquiry()
    base = factory.inquiry_data()
    fields = list(base) + ["source", "referring_physician", "patient"]
    for field in fields:
        response = client.post("/api/v1/inquiries", json={**base, field: value}, headers=headers)
        assert response.status_code < 500, (field, value)
    for body in ({"to": value, "version": 1}, {"to": "intake", "version": value},
                 {"to": "closed", "outcome": value, "version": 1}, {"to": "intake", "version": 1, "note": value}):
        response = client.post(f"/api/v1/inquiries/{inquiry.id}/transition", json=body, headers=headers)
        assert response.status_code < 500, body
    if isinstance(value, str):
        for arg in ("q", "stage", "cursor", "limit", "coordinator", "updated_since", "country", "center"):
            response = client.get("/api/v1/inquiries", query_string={arg: value}, headers=headers)
            assert response.status_code < 500, (arg, value)
        assert client.get(f"/api/v1/inquiries/{value}", headers=headers).status_code < 500
