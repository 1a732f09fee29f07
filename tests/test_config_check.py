"""A setting that cannot work stops the app where it is created, with a ConfigError naming the
variable; good settings pass."""
import pytest

from crm import ConfigError, create_app


@pytest.mark.parametrize(("settings", "words"), [
    ({"DATABASE_URL": "nonsense"}, ["CRM_DATABASE_URL", "sqlite:///", "postgresql+psycopg://"]),
    ({"DATABASE_URL": "mysql://u@db.example/crm"}, ["CRM_DATABASE_URL", "mysql://"]),
    ({"DATABASE_URL": "postgresql+psycopg2://u@db.example/crm"}, ["CRM_DATABASE_URL", "psycopg2"]),
    ({"IMAP_URL": "bogus://x"}, ["CRM_IMAP_URL", "bogus://", "imap:// or imaps://"]),
    ({"IMAP_URL": "imap.example.org"}, ["CRM_IMAP_URL", "without a scheme"]),
    ({"IMAP_URL": "imaps://:pw@/INBOX"}, ["CRM_IMAP_URL", "no host"]),
    ({"SMTP_URL": "smtp://mail.example:twenty-five"}, ["CRM_SMTP_URL", "port"]),
    ({"SMTP_URL": "http://mail.example"}, ["CRM_SMTP_URL", "smtp+starttls://", "http://"]),
    ({"BASE_URL": "crm.hospital.example"}, ["CRM_BASE_URL", "https://"]),
    ({"MAIL_FROM": "nobody"}, ["CRM_MAIL_FROM"]),
    ({"TIMEZONE": "Mars/Olympus_Mons"}, ["CRM_TIMEZONE", "Mars/Olympus_Mons"]),
    ({"BUSINESS_HOURS": {"0": ["18:00", "08:00"]}}, ["CRM_BUSINESS_HOURS", "not before closing"]),
    ({"BUSINESS_HOURS": 5}, ["CRM_BUSINESS_HOURS", "JSON object"]),
    ({"HOLIDAYS": ["Christmas"]}, ["CRM_HOLIDAYS", "Christmas"]),
    ({"DIGEST_AT": "half past seven"}, ["CRM_DIGEST_AT"]),
    ({"MAX_UPLOAD_MB": "lots"}, ["CRM_MAX_UPLOAD_MB", "whole number"]),
    ({"PORTAL_LINK_DAYS": 0}, ["CRM_PORTAL_LINK_DAYS"]),
    ({"LOGIN_RATE_LIMIT": "often"}, ["CRM_LOGIN_RATE_LIMIT", "often"]),
    ({"SECRET_KEY": ""}, ["CRM_SECRET_KEY"]),
])
def test_a_setting_that_cannot_work_is_named(settings, words):
    with pytest.raises(ConfigError) as raised:
        create_app("testing", **settings)
    for word in words:
        assert word in str(raised.value)
    assert "\n" not in str(raised.value)


def test_good_settings_pass(tmp_path):
    app = create_app("testing", DATABASE_URL=f"sqlite:///{tmp_path / 'crm.sqlite3'}",
                     IMAP_URL="imaps://intake%40h.example:pw@imap.h.example:993/INBOX",
                     SMTP_URL="smtp+starttls://u:p@smtp.h.example:587", BASE_URL="https://crm.h.example",
                     MAIL_FROM="Centro <international@h.example>", TIMEZONE="Asia/Riyadh",
                     BUSINESS_HOURS={"6": ["08:00", "16:00"], 0: ("08:00", "16:00")},
                     HOLIDAYS=["2026-12-25"], DIGEST_AT="06:45")
    assert app.config["TIMEZONE"] == "Asia/Riyadh"
    assert create_app("testing", DATABASE_URL="postgresql://u:p@db.example/crm")  # the driver is added


def test_an_unknown_environment_is_a_config_error(monkeypatch):
    monkeypatch.setenv("CRM_ENV", "staging")
    with pytest.raises(ConfigError, match="CRM_ENV must be one of development, testing, production"):
        create_app()
