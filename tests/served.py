"""The app really served over HTTP on loopback (werkzeug's server in a thread), and a plain HTTP
client with a cookie jar that signs in through the login form: for tests that must see what a
real client sees (streamed bodies sent after the request's context is gone, cookies, headers),
without a browser.

Fixtures: ``served_app`` (an app on its own migrated database of the session's kind, served for
the test module) and ``serve`` (serves any app, e.g. one from ``fresh_app``, for one test)."""
from __future__ import annotations

import http.client
import http.cookiejar
import json as jsonlib
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from crm.extensions import db

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Reply:
    """What the server answered: status, headers and the whole body."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return jsonlib.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are answers to look at (Post/Redirect/Get), not to follow."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpClient:
    """One visitor: cookies kept between requests, redirects not followed, 4xx/5xx returned."""

    def __init__(self, base: str, timeout: float = 30):
        self.base, self.timeout = base, timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies),
                                                  _NoRedirects())

    def request(self, method: str, path: str, *, data: dict | None = None, json=None,
                headers: dict | None = None) -> Reply:
        headers = dict(headers or {})
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.headers, error.read())

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> Reply:
        return self.request("POST", path, data=data, **kwargs)

    def csrf_token(self, path: str) -> str:
        """The CSRF token of the first form on the page at ``path``."""
        page = self.get(path)
        match = CSRF_FIELD.search(page.text)
        assert match, f"no CSRF token on {path} ({page.status})"
        return match.group(1)

    def sign_in(self, email: str, password: str) -> Reply:
        """Sign in through the login form, as a person would; the session cookie is kept. A
        manager or admin sets up the authenticator app at the first sign-in and types its code
        at the next ones (``tests.two_step``)."""
        from tests import two_step
        reply = self.post("/login", {"csrf_token": self.csrf_token("/login"), "email": email,
                                     "password": password})
        assert reply.status == 302, f"sign-in of {email} answered {reply.status}"
        key, location = (self.base, email.lower()), reply.headers.get("Location", "")
        if location.endswith("/login/setup"):
            page = self.get("/login/setup")
            two_step.enrolled(key, two_step.secret_from_page(page.text))
            reply = self.post("/login/setup", {"csrf_token": CSRF_FIELD.search(page.text).group(1),
                                               "code": two_step.fresh_code(key)})
            assert reply.status == 200, f"set-up of {email}'s app answered {reply.status}"
        elif location.endswith("/login/code"):
            reply = self.post("/login/code", {"csrf_token": self.csrf_token("/login/code"),
                                              "code": two_step.fresh_code(key)})
            assert reply.status == 302, f"the code of {email} answered {reply.status}"
        return reply


class ServedApp:
    """An app served on loopback; ``client()`` is a new visitor."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def client(self) -> HttpClient:
        return HttpClient(self.base)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def served_app(databases, tmp_path_factory):
    """An app on its own migrated database (SQLite or PostgreSQL, as the session runs), served
    for the whole test module. What a test writes in ``with served.app.app_context()`` must be
    committed for the server to see it."""
    from tests.conftest import make_app
    application = make_app(databases.new(), UPLOAD_DIR=str(tmp_path_factory.mktemp("served-uploads")))
    with application.app_context():
        upgrade(directory=application.config["MIGRATIONS_DIR"])
        from crm.services.centers import ensure_default_centers
        ensure_default_centers()
        db.session.commit()
    served = ServedApp(application)
    yield served
    served.stop()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def serve():
    """``serve(app)`` serves an app for this test and returns its ``ServedApp``."""
    started: list[ServedApp] = []

    def start(app) -> ServedApp:
        started.append(ServedApp(app))
        return started[-1]

    yield start
    for served in started:
        served.stop()
