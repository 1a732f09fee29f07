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


def test_upgrade_keeps_existing_rows(fresh_app):
    """A database in use at the first revision upgrades to head with every row and link kept."""
    from sqlalchemy import text
    app = fresh_app(migrated=False)
    first = "291ae5495687"
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"], revision=first)
        with db.engine.begin() as connection:
            run = connection.execute
            run(text("INSERT INTO centers (id, key, names, position, is_active) "
                     "VALUES (1, 'cardiology', '{}', 0, true)"))
            run(text("INSERT INTO users (id, email, name, password_hash, role, is_active, session_token, "
                     "failed_logins, created_at) VALUES (1, 'c@itinera.example', 'C', 'x', 'coordinator', "
                     "true, 't', 0, '2026-01-01 00:00:00+00')"))
            run(text("INSERT INTO user_centers (user_id, center_id) VALUES (1, 1)"))
            run(text("INSERT INTO patients (id, given_name, family_name, email, preferred_language, "
                     "search_text, created_at, updated_at, version) VALUES (1, 'A', 'B', 'Ana@Example.com', "
                     "'es', 'a b', "
                     "'2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00', 1)"))
            run(text("INSERT INTO inquiries (id, patient_id, service, stage, center_id, coordinator_id, "
                     "source, reason, created_at, updated_at, stage_entered_at, version) VALUES "
                     "(1, 1, 'treatment', 'new', 1, 1, 'phone', 'r', '2026-01-01 00:00:00+00', "
                     "'2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00', 1)"))
            run(text("INSERT INTO audit_events (created_at, actor_id, action, patient_id, inquiry_id, detail) "
                     "VALUES ('2026-01-01 00:00:00+00', 1, 'view', 1, 1, '')"))
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        from crm.models import Center, Inquiry, Patient, User
        assert db.session.get(Patient, 1).email_lower == "ana@example.com"
        user = db.session.get(User, 1)
        assert user.is_away is False and [c.key for c in user.centers] == ["cardiology"]
        assert db.session.get(Center, 1).keywords == {}
        assert db.session.get(Inquiry, 1).coordinator_id == 1
        db.session.rollback()
        if db.engine.dialect.name == "sqlite":  # the migration turned foreign keys back on
            with db.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
