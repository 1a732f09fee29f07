"""Fixtures: the app on SQLite and on PostgreSQL, a database rolled back after each test,
the client, an auth helper, and factories."""
from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db as _db

pytest_plugins = ["tests.mailservers", "tests.served"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get("CRM_TEST_POSTGRES_URL")
PASSWORD = "correct horse battery"
DATABASES = ["sqlite", "postgresql"]


def pytest_configure(config):
    if IN_CI and not PG_ADMIN_URL:
        raise pytest.UsageError("CI=true but no PostgreSQL: CRM_TEST_POSTGRES_URL is not set "
                                "(tests/run.sh starts a throwaway cluster).")


class DatabaseFactory:
    """Fresh, empty databases of one kind, dropped at the end of the session."""

    def __init__(self, kind: str, tmp: Path):
        self.kind, self.tmp, self.created = kind, tmp, []

    def new(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / f'crm-{uuid.uuid4().hex[:8]}.sqlite3'}"
        name = f"crm_test_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        self.created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop_all(self):
        if not self.created:
            return
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.created:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def database_kind(request):
    if request.param == "postgresql" and not PG_ADMIN_URL:
        pytest.skip("PostgreSQL is not available (set CRM_TEST_POSTGRES_URL; make test does)")
    return request.param


@pytest.fixture(scope="session")
def databases(database_kind, tmp_path_factory):
    factory = DatabaseFactory(database_kind, tmp_path_factory.mktemp(database_kind))
    yield factory
    factory.drop_all()


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as in production: the test's own context (which
    holds the database fixture) would otherwise share ``g`` and the session with requests."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(url: str, **overrides):
    application = create_app("testing", DATABASE_URL=url, **overrides)
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture(scope="session")
def app(databases, tmp_path_factory):
    """The app on a migrated database of the session's kind (the migrations are the schema)."""
    application = make_app(databases.new(), UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")))
    with application.app_context():
        upgrade(directory=application.config["MIGRATIONS_DIR"])
        from crm.services.centers import ensure_default_centers
        ensure_default_centers()
        _db.session.commit()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def fresh_app(databases):
    """An app on its own new, empty database, for tests that commit for real."""
    apps = []

    def make(migrated=True, **overrides):
        application = make_app(databases.new(), **overrides)
        apps.append(application)
        if migrated:
            with application.app_context():
                upgrade(directory=application.config["MIGRATIONS_DIR"])
                from crm.services.centers import ensure_default_centers
                ensure_default_centers()
                _db.session.commit()
        return application

    yield make
    for application in apps:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def db(app):
    """The database, inside a transaction rolled back after the test: whatever the code
    under test commits is only a savepoint."""
    with app.app_context():
        engines = _db.engines
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection
        factory_kw = _db.session.session_factory.kw
        previous = factory_kw.get("join_transaction_mode")
        factory_kw["join_transaction_mode"] = "create_savepoint"
        try:
            yield _db
        finally:
            _db.session.remove()
            if transaction.is_active:
                transaction.rollback()
            connection.close()
            engines[None] = engine
            if previous is None:
                factory_kw.pop("join_transaction_mode", None)
            else:
                factory_kw["join_transaction_mode"] = previous


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


_counter = itertools.count(1)


class Factory:
    """Makes staff, centers and inquiries through the real services."""

    def __init__(self, database):
        self.db = database

    def center(self, key="cardiology"):
        from crm.models import Center
        return self.db.session.scalar(sa.select(Center).where(Center.key == key))

    def user(self, role="coordinator", centers=("cardiology",), languages=("en",), **kw):
        from crm.services.users import create_user
        n = next(_counter)
        user = create_user(kw.pop("email", f"staff{n}@itinera.example"), name=kw.pop("name", f"Staff {n}"),
                           role=role, password=PASSWORD,
                           center_keys=centers if role == "coordinator" else (), languages=languages, **kw)
        self.db.session.commit()
        return user

    def inquiry_data(self, **overrides):
        n = next(_counter)
        data = {"given_name": "Layla", "family_name": f"Haddad{n}", "email": f"patient{n}@example.com",
                "phone": "+966 50 123 4567", "country": "SA", "preferred_language": "ar",
                "date_of_birth": "1980-04-02", "sex": "female", "timezone": "Asia/Riyadh",
                "service": "second_opinion_in_person", "center": "cardiology",
                "reason": "أعاني من عدم انتظام ضربات القلب"}
        data.update(overrides)
        return data

    def inquiry(self, source="phone", actor=None, **overrides):
        from crm.services.intake import create_inquiry
        inquiry = create_inquiry(self.inquiry_data(**overrides), source=source, actor=actor)
        self.db.session.commit()
        return inquiry

    def accept(self, inquiry, actor, reviewer_name="Dr. Ana Ruiz, Cardiology"):
        """The reviewing physician accepts the case (in ``clinical_review``): it may go on."""
        from crm.services.review import record_decision
        record_decision(inquiry, "accept", actor=actor, expected_version=inquiry.version,
                        reviewer_name=reviewer_name)
        self.db.session.commit()

    def clear_finance(self, inquiry, actor, insurer="Bupa Global"):
        """An insurer without precertification pays: the case is financially cleared."""
        from crm.services import finance
        finance.save(inquiry, {"payer_type": "insurance", "insurer": insurer, "precert_required": "no"},
                     actor=actor)
        finance.clear(inquiry, actor=actor)
        self.db.session.commit()

    def release_opinion(self, inquiry, actor):
        """The specialist's written opinion is uploaded and sent to the patient."""
        from flask import current_app

        from crm.services import opinion, uploads
        from tests.web.test_portal import PDF
        stored = uploads.store(PDF, "opinion.pdf", upload_dir=current_app.config["UPLOAD_DIR"], max_bytes=len(PDF))
        opinion.upload_opinion(inquiry, stored, actor=actor)
        opinion.release(inquiry, actor=actor)
        self.db.session.commit()

    def walk(self, inquiry, to, actor):
        """Move the case stage by stage along its path to ``to``, the physician accepting it on
        the way (as coordinators do); returns the inquiry."""
        from crm.services import pipeline
        path = pipeline.path_for(inquiry.service)
        for stage in path[path.index(inquiry.stage) + 1:path.index(to) + 1]:
            if inquiry.stage == "clinical_review":
                self.accept(inquiry, actor)
            if inquiry.stage == "financial_clearance":
                self.clear_finance(inquiry, actor)
            if inquiry.stage == "in_care" and inquiry.service == "second_opinion_online":
                self.release_opinion(inquiry, actor)
            pipeline.transition_inquiry(inquiry, stage, actor=actor, expected_version=inquiry.version)
            self.db.session.commit()
        return inquiry


@pytest.fixture
def factory(db):
    return Factory(db)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, user, password=PASSWORD):
        """Sign in through the form; a manager or admin also sets up the authenticator app at
        the first sign-in and types its code at the next ones (``tests.two_step``)."""
        response = self.client.get("/login")
        response = self.client.post("/login", data={"email": user.email, "password": password,
                                                    "csrf_token": csrf_from(response)})
        return self.second_step(user.email, response)

    def second_step(self, email, response):
        from tests import two_step
        key = (id(self.client.application), email.lower())
        location = response.headers.get("Location", "") if response.status_code == 302 else ""
        if location.endswith("/login/setup"):
            page = self.client.get("/login/setup")
            secret = two_step.secret_from_page(page.get_data(as_text=True))
            two_step.enrolled(key, secret)
            return self.client.post("/login/setup", data={"code": two_step.fresh_code(key),
                                                          "csrf_token": csrf_from(page)})
        if location.endswith("/login/code"):
            page = self.client.get("/login/code")
            return self.client.post("/login/code", data={"code": two_step.fresh_code(key),
                                                         "csrf_token": csrf_from(page)})
        return response

    def logout(self):
        page = self.client.get("/inquiries/board")
        return self.client.post("/logout", data={"csrf_token": csrf_from(page)})


def csrf_from(response) -> str:
    """The CSRF token of the first form on a page."""
    import re
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', response.data) or \
        re.search(rb'name="csrf_token" value="([^"]+)"', response.data)
    assert match, "no CSRF token on the page"
    return match.group(1).decode()


@pytest.fixture
def auth(client):
    return AuthActions(client)
