"""Sign-in, sign-out, idle sign-out, throttling, safe redirects, headers, CSRF, roles."""
import time

from sqlalchemy import select

from crm.models import AuditEvent
from tests.conftest import PASSWORD, csrf_from


def test_sign_in_and_reach_the_board(client, auth, factory):
    user = factory.user()
    response = auth.login(user)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/inquiries/board").status_code == 200


def test_pages_need_sign_in(client):
    response = client.get("/inquiries/board")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_is_refused_with_a_message(client, auth, factory):
    user = factory.user()
    response = auth.login(user, password="wrong password!")
    assert response.status_code == 401
    assert b"Wrong email or password" in response.data


def test_repeated_failures_lock_the_account(client, auth, factory, db):
    user = factory.user()
    for _ in range(5):
        assert auth.login(user, password="wrong password!").status_code == 401
    # even the right password is refused while locked, with the same message
    response = auth.login(user)
    assert response.status_code == 401
    failures = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == user.id,
                                                           AuditEvent.action == "sign_in_failed")).all()
    assert len(failures) >= 6


def test_sign_out_really_ends_the_session(client, auth, factory):
    user = factory.user()
    auth.login(user)
    cookie = client.get_cookie("itinera_session").value
    assert auth.logout().status_code == 302
    client.set_cookie("itinera_session", cookie)  # replay the cookie from before sign-out
    response = client.get("/inquiries/board")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_idle_session_expires(app, client, auth, factory):
    user = factory.user()
    auth.login(user)
    lifetime = app.permanent_session_lifetime
    app.permanent_session_lifetime = __import__("datetime").timedelta(seconds=1)
    try:
        time.sleep(2.2)
        response = client.get("/inquiries/board")
    finally:
        app.permanent_session_lifetime = lifetime
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_next_only_goes_to_this_site(client, factory):
    user = factory.user()
    for target, expected in [("/inquiries/", "/inquiries/"), ("https://evil.example/", "/"),
                             ("//evil.example/x", "/"), ("/\\evil.example", "/")]:
        page = client.get(f"/login?next={target}")
        response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                               "next": target, "csrf_token": csrf_from(page)})
        assert response.headers["Location"] == expected, target
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/inquiries/board"))})


def test_forms_without_csrf_token_are_refused(client, factory):
    user = factory.user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (400, 422)
    assert client.get("/inquiries/board").status_code == 302


def test_security_headers(client, auth, factory):
    auth.login(factory.user())
    response = client.get("/inquiries/board")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert b"<script>" not in response.data  # no inline script anywhere
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_admins_manage_accounts_but_see_no_cases(client, auth, factory):
    admin = factory.user(role="admin")
    auth.login(admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/inquiries/board").status_code == 403


def test_coordinators_cannot_open_administration(client, auth, factory):
    auth.login(factory.user())
    assert client.get("/admin/").status_code == 403


def test_an_unknown_address_is_a_404_page_for_a_signed_in_user(client, auth, factory):
    auth.login(factory.user())
    response = client.get("/no/such/page")
    assert response.status_code == 404 and b"lang=" in response.data
