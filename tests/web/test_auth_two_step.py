"""Two-step sign-in: managers and admins set up an authenticator app at their first sign-in,
then give a code after the password; a code is good once; recovery codes are good once each;
coordinators may turn it on; wrong codes count towards the lock."""
import re
import time

import pyotp
from sqlalchemy import select, text

from crm.models import AuditEvent, RecoveryCode, User
from tests import two_step
from tests.conftest import PASSWORD, AuthActions, csrf_from


def password_step(client, user, password=PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"email": user.email, "password": password,
                                       "csrf_token": csrf_from(page)})


def submit_code(client, code, path="/login/code"):
    page = client.get(path)
    return client.post(path, data={"code": code, "csrf_token": csrf_from(page)})


def enroll(client, user):
    """Password, then the set-up page; returns (secret, recovery codes, the set-up response)."""
    assert password_step(client, user).headers["Location"] == "/login/setup"
    page = client.get("/login/setup")
    secret = two_step.secret_from_page(page.get_data(as_text=True))
    key = (id(client.application), user.email.lower())
    two_step.enrolled(key, secret)
    response = client.post("/login/setup", data={"code": two_step.fresh_code(key),
                                                 "csrf_token": csrf_from(page)})
    codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>",
                       response.get_data(as_text=True))
    return secret, codes, response


def signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def events(db, user, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == user.id,
                                                       AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def test_a_manager_must_set_up_the_app_at_the_first_sign_in(client, factory, db):
    manager = factory.user(role="manager")
    response = password_step(client, manager)
    assert response.status_code == 302 and response.headers["Location"] == "/login/setup"
    assert not signed_in(client)  # the password alone opens nothing
    assert client.get("/inquiries/board").status_code == 302
    page = client.get("/login/setup")
    html = page.get_data(as_text=True)
    secret = two_step.secret_from_page(html)
    assert re.search(r'<svg[^>]*class="qr-code"', html) and "<script>" not in html
    assert " style=" not in html.split('class="qr-code"', 1)[1].split("</svg>", 1)[0]  # CSP: no inline style
    assert two_step.secret_from_page(client.get("/login/setup").get_data(as_text=True)) == secret  # kept on reload
    wrong = client.post("/login/setup", data={"code": "000000", "csrf_token": csrf_from(page)})
    assert wrong.status_code == 422 and "This code is not right" in wrong.get_data(as_text=True)
    assert not signed_in(client)
    db.session.expire_all()
    assert db.session.get(User, manager.id).totp_enabled_at is None  # not on before one code is right
    done = client.post("/login/setup", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page)})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-9-]{19})</li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert signed_in(client) and client.get("/inquiries/board").status_code == 200
    db.session.expire_all()
    user = db.session.get(User, manager.id)
    assert user.totp_enabled_at is not None
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # hashed, never in clear
    assert all(secret not in (e.detail or "") for e in db.session.scalars(select(AuditEvent)))
    assert [e.detail for e in events(db, user, "sign_in")] == ["second_factor=totp enrolled"]


def test_admins_set_it_up_too_and_coordinators_are_not_asked(client, factory):
    assert password_step(client, factory.user(role="admin")).headers["Location"] == "/login/setup"
    other = client.application.test_client()
    response = password_step(other, factory.user())
    assert response.headers["Location"] == "/" and signed_in(other)


def test_a_wrong_code_is_refused_and_the_right_one_signs_in(app, client, factory, db):
    manager = factory.user(role="manager")
    secret, _codes, _done = enroll(app.test_client(), manager)
    assert password_step(client, manager).headers["Location"] == "/login/code"
    wrong = submit_code(client, "123456" if pyotp.TOTP(secret).now() != "123456" else "654321")
    assert wrong.status_code == 401 and "This code is not right" in wrong.get_data(as_text=True)
    assert not signed_in(client)
    assert [e.detail for e in events(db, manager, "sign_in_failed")] == ["second_factor"]
    key = (id(app), manager.email.lower())
    right = submit_code(client, two_step.fresh_code(key))
    assert right.status_code == 302 and signed_in(client)
    assert events(db, manager, "sign_in")[-1].detail == "second_factor=totp"


def test_a_code_once_used_is_refused_within_its_window(app, factory, db):
    manager = factory.user(role="manager")
    secret, _codes, _done = enroll(app.test_client(), manager)
    code = two_step.fresh_code((id(app), manager.email.lower()))
    first, second = app.test_client(), app.test_client()
    password_step(first, manager)
    assert submit_code(first, code).status_code == 302 and signed_in(first)
    password_step(second, manager)
    replay = submit_code(second, code)
    assert replay.status_code == 401 and not signed_in(second)
    # an older code (the previous step) is refused as well once a newer one was used
    older = pyotp.TOTP(secret).at(time.time() - 30)
    if older != code:
        assert submit_code(second, older).status_code == 401


def test_each_recovery_code_signs_in_once(app, factory, db):
    manager = factory.user(role="manager")
    _secret, codes, _done = enroll(app.test_client(), manager)
    first, second = app.test_client(), app.test_client()
    password_step(first, manager)
    response = submit_code(first, codes[3].upper().replace("-", " "))  # as typed off paper
    assert response.status_code == 302
    account = first.get("/account/")  # signed in, and told how many codes are left
    assert account.status_code == 200 and "recovery code; 9 are left" in account.get_data(as_text=True)
    password_step(second, manager)
    assert submit_code(second, codes[3]).status_code == 401 and not signed_in(second)
    assert [e.detail for e in events(db, manager, "recovery_code_used")] == ["left=9"]
    assert events(db, manager, "sign_in")[-1].detail == "second_factor=recovery_code"


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, client, factory, db):
    manager = factory.user(role="manager")
    _secret, _codes, _done = enroll(app.test_client(), manager)
    password_step(client, manager)
    for _ in range(5):
        assert submit_code(client, "999999").status_code == 401
    right = submit_code(client, two_step.fresh_code((id(app), manager.email.lower())))
    assert right.status_code in (302, 401)
    assert right.status_code == 401 and not signed_in(client)  # locked, the right code too
    assert password_step(app.test_client(), manager).status_code == 401


def test_the_code_must_follow_the_password_within_five_minutes(app, client, factory):
    manager = factory.user(role="manager")
    enroll(app.test_client(), manager)
    password_step(client, manager)
    with client.session_transaction() as session:
        session["pending_sign_in"] = {**session["pending_sign_in"],
                                      "at": session["pending_sign_in"]["at"] - 301}
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    # and nobody skips the password: no pending sign-in, no code page
    assert app.test_client().get("/login/code").headers["Location"] == "/login"


def test_a_coordinator_may_turn_it_on_and_off(app, client, auth, factory, db):
    coordinator = factory.user()
    auth.login(coordinator)
    page = client.get("/account/two-step")
    assert page.status_code == 200
    secret = two_step.secret_from_page(page.get_data(as_text=True))
    done = client.post("/account/two-step", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page)})
    assert done.status_code == 200 and done.get_data(as_text=True).count("<li>") >= 10
    key = (id(app), coordinator.email.lower())
    two_step.enrolled(key, secret)
    two_step.fresh_code(key)  # the step just used
    other = app.test_client()
    assert password_step(other, coordinator).headers["Location"] == "/login/code"
    assert submit_code(other, two_step.fresh_code(key)).status_code == 302
    account = client.get("/account/")
    wrong = client.post("/account/two-step/off", data={"password": "not my password",
                                                       "csrf_token": csrf_from(account)})
    assert wrong.status_code == 303 and "This is not your current password" in client.get("/account/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, coordinator.id).totp_enabled_at is not None
    off = client.post("/account/two-step/off", data={"password": PASSWORD, "csrf_token": csrf_from(account)})
    assert off.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, coordinator.id).totp_enabled_at is None
    assert password_step(app.test_client(), coordinator).headers["Location"] == "/"


def test_a_manager_cannot_turn_it_off_and_an_admin_resets_a_lost_phone(app, client, factory, db):
    manager = factory.user(role="manager")
    phone = app.test_client()
    enroll(phone, manager)
    account = phone.get("/account/")
    assert phone.post("/account/two-step/off", data={"password": PASSWORD,
                                                     "csrf_token": csrf_from(account)}).status_code == 403
    AuthActions(client).login(factory.user(role="admin"))
    page = client.get(f"/admin/users/{manager.id}")
    assert "Reset two-step sign-in" in page.get_data(as_text=True)
    reset = client.post(f"/admin/users/{manager.id}/two-step/reset", data={"csrf_token": csrf_from(page)})
    assert reset.status_code == 303
    assert not signed_in(phone)  # signed out where they were
    assert password_step(app.test_client(), manager).headers["Location"] == "/login/setup"
    coordinator_client = app.test_client()
    AuthActions(coordinator_client).login(factory.user())
    assert coordinator_client.post(f"/admin/users/{manager.id}/two-step/reset", data={
        "csrf_token": csrf_from(coordinator_client.get("/account/"))}).status_code == 403


def test_new_recovery_codes_replace_the_old_and_the_secret_is_encrypted_at_rest(app, factory, db):
    manager = factory.user(role="manager")
    phone = app.test_client()
    secret, old_codes, _done = enroll(phone, manager)
    raw = db.session.execute(text("SELECT totp_secret FROM users WHERE id = :id"), {"id": manager.id}).scalar()
    assert raw and secret not in raw and raw.startswith("enc1:")
    account = phone.get("/account/")
    refused = phone.post("/account/recovery-codes", data={"password": "not my password",
                                                         "csrf_token": csrf_from(account)})
    assert refused.status_code == 303
    made = phone.post("/account/recovery-codes", data={"password": PASSWORD, "csrf_token": csrf_from(account)})
    new_codes = re.findall(r"<li>([a-z2-9-]{19})</li>", made.get_data(as_text=True))
    assert made.status_code == 200 and len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    other = app.test_client()
    password_step(other, manager)
    assert submit_code(other, old_codes[0]).status_code == 401
    assert submit_code(other, new_codes[0]).status_code == 302
