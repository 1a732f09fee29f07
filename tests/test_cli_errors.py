"""`crm` told a bad setting, a bad path or a database it cannot use fails in one line on stderr
and a non-zero exit, as a real process: never a traceback. A bug keeps its traceback."""
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.crm_process import (assert_one_error_line, crm, crm_many, environment, instance,  # noqa: F401
                               read_database, upgraded)

UNREACHABLE = "postgresql+psycopg://itinera:s3cr3t-pw@127.0.0.1:1/crm"
CREATE_USER = ["users", "create", "a@itinera.example", "--name", "A", "--role", "coordinator",
               "--center", "cardiology"]

#: (command line, settings, words its one line must hold)
BAD_SETTINGS = [
    (["db", "upgrade"], {"CRM_DATABASE_URL": "nonsense"}, ["CRM_DATABASE_URL", "not a database URL"]),
    (["db", "upgrade"], {"CRM_DATABASE_URL": "mysql://u@db.example/crm"}, ["CRM_DATABASE_URL", "mysql://"]),
    (["db", "upgrade"], {"CRM_DATABASE_URL": "sqlite:////proc/no-such-dir/crm.sqlite3"},
     ["CRM_DATABASE_URL", "/proc/no-such-dir"]),
    (["db", "upgrade"], {"CRM_DATABASE_URL": UNREACHABLE}, ["cannot be used", "127.0.0.1", "refused"]),
    (CREATE_USER, {"CRM_DATABASE_URL": UNREACHABLE}, ["cannot be used", "refused"]),
    (["mail", "poll"], {"CRM_IMAP_URL": "bogus://x"}, ["CRM_IMAP_URL", "bogus://", "imap://", "imaps://"]),
    (["scheduler", "--once"], {"CRM_TIMEZONE": "Mars/Olympus_Mons"}, ["CRM_TIMEZONE", "Mars/Olympus_Mons"]),
    (["demo"], {"CRM_ENV": "production"}, ["CRM_SECRET_KEY"]),
    (["tokens", "create", "a@itinera.example"], {"CRM_ENV": "staging"}, ["CRM_ENV", "staging"]),
]


def test_a_bad_setting_is_one_line():
    results = crm_many([(args, environment(**{"CRM_DATABASE_URL": "sqlite://", **settings}))
                        for args, settings, _words in BAD_SETTINGS], input="a long enough password\n")
    for (_args, _settings, words), result in zip(BAD_SETTINGS, results, strict=True):
        line = assert_one_error_line(result, *words)
        assert "s3cr3t-pw" not in line  # a database password is never printed


def test_help_with_a_bad_setting_says_so_in_one_line():
    result = crm("--help", env=environment(CRM_IMAP_URL="bogus://x"))
    assert result.returncode == 0 and "Traceback" not in result.stderr and "Usage:" in result.stdout
    assert result.stderr.splitlines() == ["error: CRM_IMAP_URL must begin with imap:// or imaps://, not bogus://"]


def test_every_command_on_a_database_never_upgraded_says_to_upgrade_first(instance, tmp_path):
    mail = tmp_path / "one.eml"
    mail.write_bytes(b"From: a@example.org\r\nSubject: hi\r\n\r\nHello\r\n")
    env = {**instance, "CRM_IMAP_URL": "imap://intake:pw@127.0.0.1:1/INBOX"}
    commands = [CREATE_USER, ["tokens", "create", "a@itinera.example"], ["centers", "seed"],
                ["demo", "--inquiries", "3"], ["export", "csv", "--out", tmp_path / "pipeline.csv"],
                ["mail", "ingest", mail], ["mail", "poll"], ["scheduler", "--once"], ["scheduler"]]
    results = crm_many([(args, env) for args in commands], input="a long enough password\n")
    for result in results:
        assert_one_error_line(result, "run `crm db upgrade` first")
    # and nothing was written: no table, no export file
    tables = read_database(instance["CRM_DATABASE_URL"], lambda db: sa.inspect(db.engine).get_table_names())
    assert tables == [] and not (tmp_path / "pipeline.csv").exists()


def test_an_export_to_a_folder_that_does_not_exist_is_one_line(upgraded):
    from crm.models import AuditEvent
    result = crm("export", "csv", "--out", "/nonexistent/dir/pipeline.csv", env=upgraded)
    assert_one_error_line(result, "/nonexistent/dir/pipeline.csv", "No such file or directory")
    exports = read_database(upgraded["CRM_DATABASE_URL"], lambda db: db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "export")))
    assert exports == 0  # nothing exported, nothing audited


def test_a_mistyped_command_line_is_one_line():
    cases = [(["mail", "ingest", "/nonexistent/archive.mbox"], ["/nonexistent/archive.mbox", "does not exist"]),
             (["users", "create", "a@itinera.example", "--name", "A", "--role", "chief"], ["--role", "chief"]),
             (["no-such-command"], ["no-such-command"])]
    env = environment(CRM_DATABASE_URL="sqlite://")
    for (_args, words), result in zip(cases, crm_many([(args, env) for args, _ in cases]), strict=True):
        assert result.returncode == 2
        assert_one_error_line(result, *words, "--help")


def test_a_bug_is_not_swallowed():
    """An unexpected exception is not turned into an operator's one-liner: it propagates, with
    its traceback, while an operator's error in the same group becomes the line."""
    from flask import Flask
    from sqlalchemy.exc import OperationalError

    from crm.cli import CrmGroup

    app = Flask(__name__)

    @app.cli.command("bug")
    def bug():
        raise ZeroDivisionError("a bug")

    @app.cli.command("down")
    def down():
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    group = CrmGroup(create_app=lambda: app, add_default_commands=False)
    runner = CliRunner()
    result = runner.invoke(group, ["bug"])
    assert isinstance(result.exception, ZeroDivisionError)
    result = runner.invoke(group, ["down"])
    assert result.exit_code == 1 and result.output == "error: the database (CRM_DATABASE_URL) cannot be used: refused\n"
