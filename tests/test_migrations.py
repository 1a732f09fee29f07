"""`crm db upgrade` from an empty database yields exactly the models' schema; /readyz knows."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from crm.extensions import db


def test_upgrade_from_empty_matches_the_models(fresh_app):
    app = fresh_app(migrated=False)
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                "include_name": lambda name, type_, parents: name != "apscheduler_jobs"})
            diff = compare_metadata(context, db.metadata)
        assert diff == []


def test_downgrade_to_base_and_up_again(fresh_app):
    app = fresh_app(migrated=False)
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        downgrade(directory=app.config["MIGRATIONS_DIR"], revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        assert "inquiries" in inspect(db.engine).get_table_names()


def test_readyz_is_503_until_the_database_is_at_head(fresh_app):
    app = fresh_app(migrated=False)
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["reason"] == "migrations"
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path):
    from crm import create_app
    app = create_app("testing", DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["reason"] == "database"
