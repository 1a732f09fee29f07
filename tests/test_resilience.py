"""A PostgreSQL restart under a running app costs no request; query counts do not grow."""
import os
import subprocess

import pytest
from sqlalchemy import event

from crm.extensions import db
from crm.services.users import create_api_token, create_user
from tests.conftest import IN_CI

RESTART = os.environ.get("CRM_TEST_POSTGRES_RESTART")


def test_postgresql_restart_costs_no_request(fresh_app, database_kind):
    if database_kind != "postgresql":
        pytest.skip("PostgreSQL only")
    if not RESTART:
        if IN_CI:
            pytest.fail("CRM_TEST_POSTGRES_RESTART is not set (tests/run.sh sets it)")
        pytest.skip("no way to restart the server (set CRM_TEST_POSTGRES_RESTART)")
    app = fresh_app()
    with app.app_context():
        token = create_api_token(create_user("m@itinera.example", name="M", role="manager",
                                             password="an unlisted passphrase"))
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/inquiries", headers=headers).status_code == 200  # a pooled connection
    subprocess.run(RESTART, shell=True, check=True)
    assert client.get("/api/v1/inquiries", headers=headers).status_code == 200
    assert client.get("/readyz").status_code == 200


def count_queries(client, url):
    statements = []

    def record(*args, **kwargs):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, url
    return len(statements)


def test_query_counts_do_not_grow_with_the_data(client, auth, factory):
    auth.login(factory.user(role="manager"))
    urls = ["/inquiries/board", "/inquiries/", "/inquiries/?stage=new&language=ar"]
    factory.inquiry()
    before = {url: count_queries(client, url) for url in urls}
    for n in range(25):
        factory.inquiry(center=("cardiology", "neurology", "cancer", None)[n % 4])
    after = {url: count_queries(client, url) for url in urls}
    assert after == before
