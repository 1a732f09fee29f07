"""`crm check --deploy`, run as a real process: each insecure production setting is one line on
stderr and the exit status is 1; settings fit for production get one OK line and status 0."""
import base64
import os
import secrets

import pytest

from config import DevelopmentConfig, TestingConfig
from crm.services.crypto import DEVELOPMENT_KEY
from tests.crm_process import crm, crm_many, environment

GOOD = {"CRM_ENV": "production", "CRM_SECRET_KEY": secrets.token_urlsafe(48),
        "CRM_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
        "CRM_DATABASE_URL": "postgresql+psycopg://crm:pw@db.hospital.example/crm",
        "CRM_BASE_URL": "https://crm.hospital.example",
        "CRM_SMTP_URL": "smtp+starttls://crm:pw@smtp.hospital.example:587",
        "CRM_IMAP_URL": "imaps://intake:pw@imap.hospital.example/INBOX"}

#: (what is changed in GOOD, the words of the one line that must name it)
INSECURE = [
    ({"CRM_ENV": "development"}, ["CRM_ENV", "development"]),
    ({"CRM_DEBUG": "true"}, ["Debug mode is on"]),
    ({"FLASK_DEBUG": "1"}, ["Debug mode is on"]),
    ({"CRM_SECRET_KEY": ""}, ["CRM_SECRET_KEY", "not set"]),
    ({"CRM_SECRET_KEY": "Zx9$" * 3}, ["CRM_SECRET_KEY", "too short"]),
    ({"CRM_SECRET_KEY": "abcd" * 16}, ["CRM_SECRET_KEY", "not random enough"]),
    ({"CRM_SECRET_KEY": DevelopmentConfig.SECRET_KEY}, ["CRM_SECRET_KEY", "known development value"]),
    ({"CRM_SECRET_KEY": TestingConfig.SECRET_KEY}, ["CRM_SECRET_KEY", "known development value"]),
    ({"CRM_SECRET_KEY": "changeme"}, ["CRM_SECRET_KEY", "known development value"]),
    ({"CRM_ENCRYPTION_KEY": ""}, ["CRM_ENCRYPTION_KEY"]),
    ({"CRM_ENCRYPTION_KEY": "not a key at all!"}, ["CRM_ENCRYPTION_KEY"]),
    ({"CRM_ENCRYPTION_KEY": base64.b64encode(os.urandom(16)).decode()}, ["CRM_ENCRYPTION_KEY"]),
    ({"CRM_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode()}, ["CRM_ENCRYPTION_KEY"]),
    ({"CRM_ENCRYPTION_KEY": base64.b64encode(DEVELOPMENT_KEY).decode()}, ["CRM_ENCRYPTION_KEY", "development"]),
    ({"CRM_DATABASE_URL": "sqlite:///{tmp}/crm.sqlite3"}, ["CRM_DATABASE_URL", "SQLite"]),
    ({"CRM_BASE_URL": "http://crm.hospital.example"}, ["CRM_BASE_URL", "https://"]),
    ({"CRM_SMTP_URL": "smtp://crm:pw@smtp.hospital.example:25"}, ["CRM_SMTP_URL", "smtp://"]),
    ({"CRM_IMAP_URL": "imap://intake:pw@imap.hospital.example/INBOX"}, ["CRM_IMAP_URL", "imap://"]),
    ({"CRM_SESSION_COOKIE_SECURE": "false"}, ["cookie", "Secure"]),
    ({"CRM_SESSION_COOKIE_HTTPONLY": "false"}, ["cookie", "scripts"]),
]


def settings(tmp_path, **changes):
    merged = {**GOOD, **changes}
    return environment(**{k: v.format(tmp=tmp_path) for k, v in merged.items() if v != ""})


def error_lines(result):
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("error: ") for line in lines), lines
    return lines


def test_production_settings_pass_with_one_ok_line(tmp_path):
    deploy, plain = crm_many([(["check", "--deploy"], settings(tmp_path)), (["check"], settings(tmp_path))])
    assert (deploy.returncode, deploy.stderr) == (0, ""), deploy.stderr
    assert deploy.stdout.splitlines() == ["OK: no insecure production setting found."]
    assert (plain.returncode, plain.stdout.splitlines()) == (0, ["OK: the settings can be used."])


@pytest.mark.parametrize(("changes", "words"), INSECURE)
def test_each_insecure_setting_is_one_line(tmp_path, monkeypatch, changes, words):
    """The report ``crm check --deploy`` prints, read from the environment in this process (the
    command itself runs below: a process per setting would take a minute on two cores)."""
    from crm.services.deploy_check import report
    for name in [name for name in os.environ if name.startswith("CRM_") or name == "FLASK_DEBUG"]:
        monkeypatch.delenv(name)
    for name, value in settings(tmp_path, **changes).items():
        if name.startswith("CRM_") or name == "FLASK_DEBUG":
            monkeypatch.setenv(name, value)
    lines = report(deploy=True)
    if changes.get("CRM_ENV") == "development":  # development: its key is the known one too
        assert any(all(w in line for w in words) for line in lines), lines
        return
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]
    assert "\n" not in lines[0]


def test_an_insecure_setting_fails_the_command(tmp_path):
    smtp, weak_key = crm_many([
        (["check", "--deploy"], settings(tmp_path, CRM_SMTP_URL="smtp://crm:pw@smtp.hospital.example:25")),
        (["check", "--deploy"], settings(tmp_path, CRM_ENCRYPTION_KEY=base64.b64encode(bytes(32)).decode()))])
    for result, word in ((smtp, "CRM_SMTP_URL"), (weak_key, "CRM_ENCRYPTION_KEY")):
        assert result.returncode == 1 and result.stdout == ""
        lines = error_lines(result)
        assert len(lines) == 1 and word in lines[0], lines


def test_every_problem_at_once_one_line_each(tmp_path):
    worst = settings(tmp_path, CRM_DEBUG="true", CRM_SECRET_KEY="changeme", CRM_ENCRYPTION_KEY="",
                     CRM_DATABASE_URL="sqlite:///{tmp}/crm.sqlite3", CRM_BASE_URL="http://crm.hospital.example",
                     CRM_SMTP_URL="smtp://smtp.hospital.example", CRM_IMAP_URL="imap://u:p@imap.hospital.example",
                     CRM_SESSION_COOKIE_SECURE="false")
    result = crm("check", "--deploy", env=worst)
    lines = error_lines(result)
    assert result.returncode == 1
    for words in (["Debug"], ["CRM_SECRET_KEY"], ["CRM_ENCRYPTION_KEY"], ["CRM_DATABASE_URL"], ["CRM_BASE_URL"],
                  ["CRM_SMTP_URL"], ["CRM_IMAP_URL"], ["cookie", "Secure"]):
        assert sum(all(w in line for w in words) for line in lines) == 1, (words, lines)
    assert len(lines) == 8, lines
    assert "pw" not in result.stderr.replace("passport", "")  # no password of a URL is printed


@pytest.mark.parametrize("env", ["staging"])
def test_an_unknown_environment_is_one_line(env):
    result = crm("check", "--deploy", env=environment(CRM_ENV=env))
    assert result.returncode == 1
    assert error_lines(result) == [f"error: CRM_ENV must be one of development, testing, production, not '{env}'"]
