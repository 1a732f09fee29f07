"""The loopback mail servers of tests/mailservers.py behave like real ones."""
from __future__ import annotations

import imaplib
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import pytest

from tests.mailservers import ImapServer, SmtpServer


def make_message(subject: str = "Second opinion request") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Dr. Ana Silva <ana@clinic.example>"
    message["To"] = "intake@hospital.example"
    message["Subject"] = subject
    message.set_content("Patient records attached.\nKind regards")
    return message


def send(server: SmtpServer, message: EmailMessage) -> None:
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        client.send_message(message, from_addr="bounce@clinic.example",
                            to_addrs=["intake@hospital.example", "audit@hospital.example"])


def test_smtp_captures_envelope_and_headers(smtp_server: SmtpServer) -> None:
    assert smtp_server.url == f"smtp://127.0.0.1:{smtp_server.port}"
    send(smtp_server, make_message("Ünïcode subject"))

    [mail] = smtp_server.messages
    assert mail.mail_from == "bounce@clinic.example"
    assert mail.rcpt_tos == ["intake@hospital.example", "audit@hospital.example"]
    assert mail.message["Subject"] == "Ünïcode subject"
    assert mail.message["From"].addresses[0].username == "ana"
    assert mail.message.get_content().startswith("Patient records attached.")
    assert b"Subject: =?utf-8?" in mail.raw


def test_smtp_fail_next_gives_temporary_failures_then_accepts(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(2, code=451)
    for _ in range(2):
        with pytest.raises(smtplib.SMTPDataError) as raised:
            send(smtp_server, make_message())
        assert raised.value.smtp_code == 451
    send(smtp_server, make_message())

    assert smtp_server.rejected == 2
    assert len(smtp_server.wait_for(1)) == 1


def test_smtp_stop_refuses_connections_until_start(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    with pytest.raises(ConnectionRefusedError):
        send(smtp_server, make_message())
    smtp_server.start()
    send(smtp_server, make_message())
    assert len(smtp_server.messages) == 1


def test_smtp_state_does_not_leak_between_tests(smtp_server: SmtpServer) -> None:
    assert smtp_server.running and smtp_server.messages == [] and smtp_server.rejected == 0


def login_from_url(url: str) -> imaplib.IMAP4:
    parts = urlsplit(url)
    assert parts.scheme == "imap" and parts.hostname and parts.port
    imap = imaplib.IMAP4(parts.hostname, parts.port, timeout=5)
    imap.login(unquote(parts.username or ""), unquote(parts.password or ""))
    imap.select(parts.path.lstrip("/"))
    return imap


def test_imap_deliver_search_fetch_and_flags(imap_mailbox: ImapServer) -> None:
    first = imap_mailbox.deliver(make_message("first").as_bytes())
    second = imap_mailbox.deliver(make_message("second"))
    assert second > first
    assert imap_mailbox.url == f"imap://intake:intake-pass@127.0.0.1:{imap_mailbox.port}/INBOX"

    imap = login_from_url(imap_mailbox.url)
    try:
        _, found = imap.search(None, "ALL")
        assert len(found[0].split()) == 2
        _, data = imap.uid("FETCH", str(second), "(RFC822)")
        assert b"Subject: second" in data[0][1]
        imap.uid("STORE", str(first), "+FLAGS", "(\\Flagged)")
    finally:
        imap.logout()

    assert imap_mailbox.flags()[first] == {"\\Flagged"}
    assert imap_mailbox.flags()[second] == {"\\Seen"}  # the RFC822 fetch marked it read
    assert any(imap_mailbox.maildir.glob("cur/*")) or any(imap_mailbox.maildir.glob("new/*"))


def test_imap_reset_empties_the_mailbox(imap_mailbox: ImapServer) -> None:
    imap_mailbox.deliver(make_message(), flags=["\\Seen"])
    with imap_mailbox.connect() as imap:
        imap.create("Processed")
    assert list(imap_mailbox.flags().values()) == [{"\\Seen"}]

    imap_mailbox.reset()

    assert imap_mailbox.flags() == {}
    with imap_mailbox.connect() as imap:
        _, folders = imap.list()
    assert [line for line in folders if b"Processed" in line] == []
