"""Mail in: one way for every entry point (files, IMAP, the API). Each message is stored whole,
then opens an inquiry, joins its thread, or is recorded as automatic mail; what cannot be read
waits in the quarantine. Nothing received is ever lost, nothing is taken twice."""
from __future__ import annotations

import imaplib
import logging
import mailbox
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..mail.parse import ParsedMail, message_key, parse
from ..models import InboundMail, Inquiry, Message, Patient
from ..models.base import utcnow
from ..models.mail import CREATED, DUPLICATE, IGNORED, INBOUND_OUTCOMES, REJECTED, THREADED
from . import conversation, outbox, uploads
from .errors import DomainError
from .intake import REASON_MAX, create_inquiry, find_patient_by_email
from .language import guess_language

log = logging.getLogger(__name__)
BATCH = 200
TAKEN_FLAG = "$ItineraTaken"


@dataclass
class Summary:
    """What ``crm mail ingest`` prints: one count per outcome."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(INBOUND_OUTCOMES, 0))

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1

    def as_dict(self) -> dict[str, int]:
        return {"created": self.counts[CREATED], "threaded": self.counts[THREADED],
                "duplicates": self.counts[DUPLICATE], "ignored": self.counts[IGNORED],
                "rejected": self.counts[REJECTED]}


def ingest(raw: bytes, *, source: str) -> str:
    """Take one raw message; returns its outcome. Runs in a savepoint: a failure of any kind
    leaves the message in the quarantine, never lost, never half-applied. Flushes."""
    parsed = parse(raw)
    key = message_key(raw, parsed.message_id)
    if db.session.scalar(select(InboundMail.id).where(InboundMail.message_key == key)) is not None:
        return DUPLICATE
    try:
        with db.session.begin_nested():
            return _apply(raw, parsed, key, source)
    except IntegrityError:
        if db.session.scalar(select(InboundMail.id).where(InboundMail.message_key == key)) is not None:
            return DUPLICATE  # another poller took it a moment ago
        reason = "could not be stored: integrity error"
    except Exception as error:  # noqa: BLE001 - any bug still keeps the message whole
        log.exception("mail %s could not be ingested", key[:40])
        reason = f"could not be processed: {type(error).__name__}"
    with db.session.begin_nested():
        db.session.add(InboundMail(message_key=key, source=source, outcome=REJECTED, reason=reason,
                                   size=len(raw), raw=raw, received_at=utcnow()))
    return REJECTED


def read_again(record: InboundMail) -> str:
    """A quarantined message read again (after a fix): it leaves the quarantine if it can now be
    read, else it stays, once. Flushes."""
    raw = record.raw
    db.session.delete(record)
    db.session.flush()
    return ingest(raw, source="file")


def _apply(raw: bytes, parsed: ParsedMail, key: str, source: str) -> str:
    record = InboundMail(message_key=key, source=source, outcome=REJECTED, reason="",
                         size=len(raw), raw=raw, received_at=utcnow())
    db.session.add(record)
    db.session.flush()
    if parsed.problem:
        record.reason = parsed.problem
        return REJECTED
    if parsed.is_bounce:
        return _bounce(record, parsed)
    if parsed.from_addr == _own_address():
        record.outcome, record.reason = IGNORED, "sent by this system"
        return IGNORED
    inquiry = find_thread(parsed)
    if parsed.is_auto_reply:
        record.outcome, record.reason = IGNORED, "automatic reply"
        if inquiry is not None:
            record.inquiry_id = inquiry.id
            _message(inquiry, record, parsed, kind="auto_reply")
        return IGNORED
    if inquiry is not None:
        record.outcome, record.inquiry_id = THREADED, inquiry.id
        message = conversation.record_patient_message(
            inquiry, parsed.text, channel="email", subject=parsed.subject, from_addr=parsed.from_addr,
            message_id=parsed.message_id, inbound_id=record.id, language=parsed.language)
        _attach(inquiry, message, parsed)
        return THREADED
    inquiry = _open_inquiry(parsed)
    record.outcome, record.inquiry_id = CREATED, inquiry.id
    message = _message(inquiry, record, parsed, kind="email")
    _attach(inquiry, message, parsed)
    conversation.acknowledge(inquiry)
    return CREATED


def _own_address() -> str:
    from email.utils import parseaddr
    return parseaddr(current_app.config["MAIL_FROM"])[1].lower()


def find_thread(parsed: ParsedMail) -> Inquiry | None:
    """The inquiry a message answers: by its signed reply address, by the Message-IDs it
    answers, else the sender's latest open inquiry."""
    inquiry_id = outbox.inquiry_id_from_token(" ".join(parsed.recipients + [parsed.subject]))
    if inquiry_id is None and parsed.in_reply_to:
        inquiry_id = db.session.scalar(select(Message.inquiry_id).where(
            Message.message_id.in_(parsed.in_reply_to[-50:])).order_by(Message.id.desc()).limit(1))
    if inquiry_id is not None:
        inquiry = db.session.get(Inquiry, inquiry_id)
        if inquiry is not None:
            return inquiry
    patient = find_patient_by_email(parsed.from_addr)  # the surviving record after a merge
    if patient is None:
        return None
    return db.session.scalars(select(Inquiry).where(Inquiry.patient_id == patient.id,
                                                    Inquiry.stage != "closed")
                              .order_by(Inquiry.created_at.desc()).limit(1)).first()


def _open_inquiry(parsed: ParsedMail) -> Inquiry:
    """A new inquiry (``source=email``) for a sender we do not know, or whose cases are closed."""
    given, _, family = (parsed.from_name or parsed.from_addr.split("@")[0]).strip("\"' ").partition(" ")
    data = {"given_name": given[:100] or "?", "family_name": family[:100] or "—",
            "email": parsed.from_addr, "service": "second_opinion_in_person",
            "preferred_language": _contract_language(parsed.language) or guess_language(
                f"{parsed.subject}\n{parsed.text}"),
            "reason": (f"{parsed.subject}\n\n{parsed.text}" if parsed.subject else parsed.text)[:REASON_MAX]
            or "—"}
    try:
        return create_inquiry(data, source="email", origin="mail")
    except DomainError:
        # an address our validator refuses (rare but real): keep the case, without it
        return create_inquiry({**data, "email": None}, source="email", origin="mail",
                              contact_required=False)


def _contract_language(value: str | None) -> str | None:
    from ..i18n import language_for_locale, normalize_locale
    locale = normalize_locale(value)
    return language_for_locale(locale) if locale else None


def _message(inquiry: Inquiry, record: InboundMail, parsed: ParsedMail, *, kind: str) -> Message:
    message = Message(inquiry_id=inquiry.id, direction="in", channel="email", kind=kind,
                      from_addr=parsed.from_addr, subject=parsed.subject, body_text=parsed.text,
                      language=parsed.language, message_id=parsed.message_id, inbound_id=record.id,
                      created_at=record.received_at)
    db.session.add(message)
    db.session.flush()
    return message


def _attach(inquiry: Inquiry, message: Message, parsed: ParsedMail) -> None:
    """Attachments of the accepted kinds become the case's documents; the others stay in the
    raw message, and the thread names them."""
    config = current_app.config
    refused = []
    for attachment in parsed.attachments:
        try:
            stored = uploads.store(attachment.data, attachment.filename, upload_dir=config["UPLOAD_DIR"],
                                   max_bytes=int(config["MAX_UPLOAD_MB"]) * 1024 * 1024)
        except DomainError:
            refused.append(attachment.filename or attachment.content_type)
            continue
        conversation.add_document(inquiry, stored, source="email", message=message)
    message.refused_attachments = [name[:200] for name in refused]
    db.session.flush()


def _bounce(record: InboundMail, parsed: ParsedMail) -> str:
    """A delivery failure: flag the address, note it on the case, answer nothing."""
    record.outcome, record.reason = IGNORED, "delivery failure"
    inquiry = None
    if parsed.bounced_message_id:
        inquiry_id = db.session.scalar(select(Message.inquiry_id).where(
            Message.message_id == parsed.bounced_message_id).limit(1))
        inquiry = db.session.get(Inquiry, inquiry_id) if inquiry_id else None
    for address in parsed.bounced_addresses:
        for patient in db.session.scalars(select(Patient).where(Patient.email_lower == address)):
            patient.email_bounced_at = patient.email_bounced_at or record.received_at
            if inquiry is None:
                inquiry = db.session.scalars(select(Inquiry).where(Inquiry.patient_id == patient.id)
                                             .order_by(Inquiry.created_at.desc()).limit(1)).first()
    if inquiry is not None:
        record.inquiry_id = inquiry.id
        _message(inquiry, record, parsed, kind="bounce")
    return IGNORED


# --- entry points -------------------------------------------------------------------------

def iter_paths(paths: Iterable[str | Path]) -> Iterator[bytes]:
    """The raw messages of ``.eml`` files, mbox files and Maildir folders."""
    for path in map(Path, paths):
        if path.is_dir():
            if (path / "cur").is_dir() or (path / "new").is_dir():
                box = mailbox.Maildir(path, factory=None, create=False)
                for key in box.iterkeys():
                    yield box.get_bytes(key)
            else:
                yield from iter_paths(sorted(p for p in path.iterdir() if not p.name.startswith(".")))
        elif _is_mbox(path):
            box = mailbox.mbox(path, factory=None, create=False)
            try:
                for key in box.iterkeys():
                    yield box.get_bytes(key)
            finally:
                box.close()
        else:
            yield path.read_bytes()


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return bool(re.match(rb"From \S", handle.read(64)))


def ingest_all(messages: Iterable[bytes], *, source: str,
               progress: Callable[[int], None] | None = None) -> Summary:
    """Ingest many messages, committing every ``BATCH``."""
    summary = Summary()
    for n, raw in enumerate(messages, 1):
        summary.add(ingest(raw, source=source))
        if n % BATCH == 0:
            db.session.commit()
            db.session.expunge_all()
        if progress:
            progress(1)
    db.session.commit()
    return summary


def poll_imap(url: str | None = None) -> Summary:
    """One poll of ``CRM_IMAP_URL``: take each message not taken yet, commit it, then flag it
    taken (and seen). A crash between the two only makes it a duplicate next time."""
    url = url or current_app.config.get("IMAP_URL")
    summary = Summary()
    if not url:
        return summary
    parts = urlsplit(url)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    cls = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    client = cls(parts.hostname or "localhost", parts.port or (993 if parts.scheme == "imaps" else 143),
                 timeout=30)
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        status, _ = client.select(_quote(folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {folder}")
        status, data = client.uid("SEARCH", None, "UNKEYWORD", TAKEN_FLAG)
        for uid in (data[0] or b"").split():
            status, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched or [] if isinstance(item, tuple)), None)
            if status != "OK" or raw is None:
                continue
            summary.add(ingest(raw, source="imap"))
            db.session.commit()
            client.uid("STORE", uid, "+FLAGS", f"({TAKEN_FLAG} \\Seen)")
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return summary


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
