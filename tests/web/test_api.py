"""The JSON API: tokens, create, list with cursor and filters, detail, transition, errors."""
import pytest

from crm.services.users import create_api_token

BODY = {"patient": {"given_name": "Ana", "family_name": "Pérez", "email": "ana.perez@example.com",
                    "phone": "+52 55 1234 5678", "country": "MX", "preferred_language": "es",
                    "date_of_birth": "1970-01-31", "timezone": "America/Mexico_City"},
        "service": "second_opinion_in_person", "center": "cardiology", "reason": "Arritmia",
        "referring_physician": {"name": "Dr. Luis Ortega", "email": "ortega@example.com",
                                "institution": "Hospital Central", "country": "MX"}}


@pytest.fixture
def api(client, factory, db):
    user = factory.user(role="manager")
    token = create_api_token(user)
    db.session.commit()

    class Api:
        me = user

        def __getattr__(self, method):
            def call(url, **kw):
                headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
                return getattr(client, method)(f"/api/v1{url}", headers=headers, **kw)
            return call
    return Api()


def test_token_is_required(client):
    response = client.get("/api/v1/inquiries")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    bad = client.get("/api/v1/inquiries", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_create_returns_201_with_the_inquiry(api):
    response = api.post("/inquiries", json=BODY)
    assert response.status_code == 201
    body = response.json
    assert body["stage"] == "new" and body["version"] == 1 and body["source"] == "api"
    assert body["patient"]["phone"] == "+525512345678"
    assert body["referring_physician"]["institution"] == "Hospital Central"
    assert response.headers["Location"].endswith(f"/api/v1/inquiries/{body['id']}")


def test_create_validates_field_by_field(api):
    body = {**BODY, "patient": {**BODY["patient"], "email": "x", "country": "Mexico",
                                "preferred_language": "klingon"},
            "referring_physician": {"email": "nope"}}
    response = api.post("/inquiries", json=body)
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert set(fields) >= {"patient.email", "patient.country", "patient.preferred_language",
                           "referring_physician.email"}


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"patient": "x"}', b"null"])
def test_malformed_bodies_are_4xx_never_500(api, payload):
    response = api.post("/inquiries", data=payload, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert "error" in response.json


def test_error_messages_follow_accept_language(api):
    response = api.post("/inquiries", json={}, headers={"Accept-Language": "fr"})
    assert response.status_code == 422
    assert response.json["error"]["fields"]["given_name"]


def test_list_with_cursor_and_filters(api, factory):
    made = [factory.inquiry(preferred_language="ru" if n % 2 else "fr") for n in range(6)]
    first = api.get("/inquiries?limit=2&language=ru")
    assert first.status_code == 200
    ids = [i["id"] for i in first.json["items"]]
    assert len(ids) == 2 and first.json["next"]
    rest = api.get(f"/inquiries?limit=2&language=ru&cursor={first.json['next']}")
    ids += [i["id"] for i in rest.json["items"]]
    assert sorted(ids) == sorted(i.id for i in made if i.patient.preferred_language == "ru")
    assert rest.json["next"] is None


@pytest.mark.parametrize("query", ["cursor=%%%", "limit=0", "limit=abc", "stage=nowhere",
                                   "updated_since=yesterday", "coordinator=bob"])
def test_bad_list_parameters_are_422(api, query):
    response = api.get(f"/inquiries?{query}")
    assert response.status_code == 422, query


def test_detail_has_patient_version_moves_and_timeline(api, factory):
    inquiry = factory.inquiry()
    body = api.get(f"/inquiries/{inquiry.id}").json
    assert body["patient"]["email"] == inquiry.patient.email
    assert body["version"] == 1 and body["allowed_moves"] == ["intake", "closed"]
    assert [e["to"] for e in body["timeline"] if e["kind"] == "stage"] == ["new"]
    assert [t["kind"] for t in body["open_tasks"]] == ["first_response"]
    assert api.get("/inquiries/999999").status_code == 404


def test_transition_through_the_api_to_closed(api, factory):
    inquiry = factory.inquiry(service="second_opinion_online")
    version = 1
    for stage in ("intake", "records", "clinical_review", "financial_clearance", "in_care", "follow_up"):
        if stage == "financial_clearance":  # the reviewing physician accepts the case first
            response = api.post(f"/inquiries/{inquiry.id}/review", json={
                "decision": "accept", "reviewer_name": "Dr. Ana Ruiz", "version": version})
            assert response.status_code == 200, response.json
            version = response.json["version"]
        if stage == "in_care":  # financially cleared (an insurer pays), on the case page
            factory.clear_finance(inquiry, factory.user())
        if stage == "follow_up":  # the written opinion is with the patient
            factory.release_opinion(inquiry, factory.user())
        response = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": stage, "version": version})
        assert response.status_code == 200, response.json
        version = response.json["version"]
    response = api.post(f"/inquiries/{inquiry.id}/transition",
                        json={"to": "closed", "outcome": "completed", "note": "Opinion sent", "version": version})
    assert response.status_code == 200 and response.json["outcome"] == "completed"


def test_transition_conflicts_are_409(api, factory):
    inquiry = factory.inquiry()
    jump = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "travel", "version": 1})
    assert jump.status_code == 409 and jump.json["error"]["code"] == "illegal_transition"
    assert api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "intake", "version": 1}).status_code == 200
    stale = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "records", "version": 1})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "stale_version"
    missing = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "records"})
    assert missing.status_code == 422 and "version" in missing.json["error"]["fields"]
    bad = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "records", "version": "2"})
    assert bad.status_code == 422


def error_of(response) -> dict:
    """The contract's error body: exactly ``{"error": {"code", "message", "fields"}}``."""
    body = response.json
    assert list(body) == ["error"] and set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def test_an_illegal_move_and_a_stale_version_are_409_with_their_own_codes(api, factory, db):
    inquiry = factory.inquiry()
    moved = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "intake", "version": 1})
    assert moved.status_code == 200
    illegal = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "in_care", "version": 2})
    assert illegal.status_code == 409
    assert error_of(illegal) == {"code": "illegal_transition", "fields": {},
                                 "message": "This move is not allowed from the current stage."}
    stale = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "records", "version": 1})
    assert stale.status_code == 409
    error = error_of(stale)
    assert error["code"] == "stale_version" and error["fields"] == {}
    assert error["message"].startswith("Someone else changed this case")
    both = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "in_care", "version": 1})
    assert both.status_code == 409 and error_of(both)["code"] == "stale_version"  # read again first
    db.session.expire_all()
    detail = api.get(f"/inquiries/{inquiry.id}").json
    assert detail["stage"] == "intake" and detail["version"] == 2  # neither moved anything
    missing = api.post(f"/inquiries/{inquiry.id}/transition", json={"to": "records"})
    assert missing.status_code == 422
    assert error_of(missing)["code"] == "validation_error" and "version" in error_of(missing)["fields"]


def test_coordinator_tokens_only_reach_their_centers(client, factory, db):
    coordinator = factory.user(centers=("neurology",))
    token = create_api_token(coordinator)
    db.session.commit()
    hidden = factory.inquiry(center="cardiology")
    response = client.get(f"/api/v1/inquiries/{hidden.id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    listed = client.get("/api/v1/inquiries", headers={"Authorization": f"Bearer {token}"}).json
    assert hidden.id not in [i["id"] for i in listed["items"]]


def test_unknown_api_routes_answer_json(api):
    response = api.get("/nothing-here")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
