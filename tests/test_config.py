"""Configuration: production needs a secret key; SQLite is set up for concurrent writers."""
import pytest
from sqlalchemy import text

from crm import create_app
from crm.extensions import db


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="CRM_SECRET_KEY"):
        create_app("production")
    monkeypatch.setenv("CRM_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("CRM_ENCRYPTION_KEY", "k8K2mJv0yJ0wq1T2oC1c3b5pH1d3v9mXb8fQw6yR2sE=")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_environment_variables_override_settings(monkeypatch):
    monkeypatch.setenv("CRM_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql://u:p@db.example/crm")
    app = create_app("development")
    assert app.config["TIMEZONE"] == "Europe/Paris"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/crm"


def test_sqlite_runs_wal_with_foreign_keys_and_immediate_transactions(tmp_path):
    app = create_app("testing", DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    statements = []
    with app.app_context():
        from sqlalchemy import event
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *a: statements.append(statement))
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert "BEGIN IMMEDIATE" in statements
        db.engine.dispose()


def test_request_logs_carry_no_query_strings():
    import logging
    create_app("testing")
    seen = []

    class Capture(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logger = logging.getLogger("werkzeug")
    handler, level = Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info('%s - - [%s] %s', "127.0.0.1", "now",
                    '"GET /inquiries/?country=SA&page=2 HTTP/1.1" 200 -')
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert seen and "country=SA" not in seen[0] and "/inquiries/?…" in seen[0]
