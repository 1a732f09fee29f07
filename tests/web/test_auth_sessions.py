"""Every session of a user ends when they change their password or are deactivated; a
deactivated user's API tokens are refused; the password rule is shown on the forms."""
from sqlalchemy import select

from crm.models import AuditEvent, User
from crm.services.users import create_api_token
from tests.conftest import PASSWORD, AuthActions, csrf_from


def board(client) -> int:
    return client.get("/inquiries/board").status_code


def change_password(client, current, new, confirm=None):
    page = client.get("/account/")
    return client.post("/account/password", data={"current_password": current, "password": new,
                                                  "confirm": new if confirm is None else confirm,
                                                  "csrf_token": csrf_from(page)})


def test_changing_the_password_ends_every_other_session(app, client, factory, db):
    user = factory.user()
    here, elsewhere = client, app.test_client()
    AuthActions(here).login(user)
    AuthActions(elsewhere).login(user)
    old_cookie = elsewhere.get_cookie("itinera_session").value
    assert board(elsewhere) == 200
    response = change_password(here, PASSWORD, "a brand new long phrase")
    assert response.status_code == 303
    assert board(here) == 200  # this browser goes on
    assert board(elsewhere) == 302  # the other one is signed out
    replay = app.test_client()
    replay.set_cookie("itinera_session", old_cookie)
    assert board(replay) == 302
    assert AuthActions(app.test_client()).login(user).status_code == 401  # the old password
    assert AuthActions(app.test_client()).login(user, "a brand new long phrase").status_code == 302
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "password_changed",
                                                         AuditEvent.actor_id == user.id))


def test_a_short_or_breached_new_password_is_refused_with_the_reason(client, auth, factory, db):
    user = factory.user()
    auth.login(user)
    short = change_password(client, PASSWORD, "too short")
    assert short.status_code == 422 and "Use at least 12 characters." in short.get_data(as_text=True)
    breached = change_password(client, PASSWORD, "Password1234")
    html = breached.get_data(as_text=True)
    assert breached.status_code == 422 and "leaked in data breaches" in html and 'id="password-error"' in html
    wrong = change_password(client, "not the password", "a brand new long phrase")
    assert wrong.status_code == 422 and "This is not your current password." in wrong.get_data(as_text=True)
    differ = change_password(client, PASSWORD, "a brand new long phrase", "another one")
    assert differ.status_code == 422 and "The two new passwords differ." in differ.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).session_token == user.session_token  # nothing changed
    assert board(client) == 200


def test_the_admin_form_refuses_a_breached_password(client, auth, factory):
    auth.login(factory.user(role="admin"))
    page = client.get("/admin/users/new")
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_from(page), "name": "Nour", "email": "nour@itinera.example",
        "role": "coordinator", "centers": ["cardiology"], "languages": ["en"], "password": "qwerty123456"})
    assert response.status_code == 422 and "leaked in data breaches" in response.get_data(as_text=True)


def deactivate(client, user):
    page = client.get(f"/admin/users/{user.id}")
    return client.post(f"/admin/users/{user.id}", data={
        "csrf_token": csrf_from(page), "name": user.name, "email": user.email, "role": user.role,
        "centers": [c.key for c in user.centers], "languages": ["en"]})  # is_active unchecked


def test_deactivation_ends_every_session_and_refuses_api_tokens_even_once_active_again(
        app, client, factory, db):
    coordinator = factory.user()
    token = create_api_token(coordinator)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    assert api.get("/api/v1/inquiries", headers=headers).status_code == 200
    first, second = app.test_client(), app.test_client()
    AuthActions(first).login(coordinator)
    AuthActions(second).login(coordinator)
    cookie = second.get_cookie("itinera_session").value
    AuthActions(client).login(factory.user(role="admin"))
    assert deactivate(client, coordinator).status_code == 303
    assert board(first) == 302 and board(second) == 302
    assert api.get("/api/v1/inquiries", headers=headers).status_code == 401
    db.session.expire_all()
    again = db.session.get(User, coordinator.id)
    again.is_active = True  # an admin turns the account on again: old cookies stay dead
    db.session.commit()
    replay = app.test_client()
    replay.set_cookie("itinera_session", cookie)
    assert board(replay) == 302
