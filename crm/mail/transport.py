"""Sending: SMTP (``CRM_SMTP_URL``) or, without it, ``.eml`` files in ``instance/outbox/``."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..models import OutboundMail
from .render import AUTOMATIC


class PermanentError(Exception):
    """The server refused the message for good (5xx): retrying will not help."""


def build_email(row: OutboundMail) -> EmailMessage:
    """The RFC 5322 message of an outbox row, text with an HTML alternative."""
    msg = EmailMessage()
    msg["From"] = row.from_addr
    msg["To"] = row.to_addr
    if row.reply_to:
        msg["Reply-To"] = row.reply_to
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    if row.in_reply_to:
        msg["In-Reply-To"] = row.in_reply_to
        msg["References"] = row.in_reply_to
    if row.kind in AUTOMATIC:
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(row.body_text)
    msg.add_alternative(row.body_html, subtype="html")
    for attachment in row.attachments:  # a calendar file, a letter
        maintype, _slash, subtype = attachment.content_type.partition("/")
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    msg["Content-Language"] = row.language  # after the body: set_content drops Content-* headers
    return msg


class FileTransport:
    """Writes each message as ``<id>-<kind>.eml``: ``make run`` works offline."""

    broken = False

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def __enter__(self):
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self

    def __exit__(self, *exc):
        return False

    def send(self, row: OutboundMail, msg: EmailMessage) -> None:
        path = self.directory / f"{row.id:08d}-{row.kind}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(msg))
        tmp.replace(path)


class SmtpTransport:
    """``smtp://``, ``smtps://`` or ``smtp+starttls://user:pass@host:port``; one connection
    for a batch."""

    def __init__(self, url: str, *, timeout: float = 30):
        parts = urlsplit(url)
        self.scheme, self.host = parts.scheme.lower(), parts.hostname or "localhost"
        self.port = parts.port or (465 if self.scheme == "smtps" else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.client: smtplib.SMTP | None = None
        #: set when the connection died mid-batch: the rest of the batch waits
        self.broken = False
        if self.scheme not in ("smtp", "smtps", "smtp+starttls"):
            raise ValueError("CRM_SMTP_URL must start with smtp://, smtps:// or smtp+starttls://")

    def __enter__(self):
        if self.scheme == "smtps":
            self.client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                           context=ssl.create_default_context())
        else:
            self.client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.scheme == "smtp+starttls":
                self.client.starttls(context=ssl.create_default_context())
            if self.user:
                self.client.login(self.user, self.password or "")
        except BaseException:  # no half-open connection left behind
            self.client.close()
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.client.quit()
        except (smtplib.SMTPException, OSError):
            self.client.close()
        return False

    def send(self, row: OutboundMail, msg: EmailMessage) -> None:
        try:
            refused = self.client.send_message(msg)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentError(f"recipient refused ({codes[0]})") from None
            raise
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPSenderRefused):
                raise PermanentError(f"refused ({error.smtp_code})") from None
            raise
        if refused:
            raise PermanentError("recipient refused")


def transport_for(config):
    if config.get("SMTP_URL"):
        return SmtpTransport(config["SMTP_URL"], timeout=float(config.get("SMTP_TIMEOUT", 30)))
    return FileTransport(config["OUTBOX_DIR"])
