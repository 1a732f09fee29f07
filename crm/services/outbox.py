"""The outbox: mail written in the same transaction as the change that caused it, delivered
by the scheduler over SMTP with retries and backoff. An outage delays mail and loses none."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import smtplib
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr
from functools import lru_cache

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..mail.render import Rendered, render
from ..mail.transport import PermanentError, build_email, transport_for
from ..models import Inquiry, Message, OutboundAttachment, OutboundMail, PortalLink, User
from ..models.base import utcnow
from ..models.mail import FAILED, QUEUED, SENT
from . import audit, portal_links

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
REPLY_TOKEN = re.compile(r"ITN-(\d{6,9})\.([0-9a-f]{10})", re.IGNORECASE)


def _sender() -> tuple[str, str]:
    return _address(current_app.config["MAIL_FROM"])


@lru_cache(maxsize=16)
def _address(value: str) -> tuple[str, str]:
    """A configured address, parsed once (parsing is slow, and a bulk import mails thousands)."""
    return parseaddr(value)


def _domain() -> str:
    return _sender()[1].rpartition("@")[2] or "itinera.invalid"


def reply_token(inquiry_id: int) -> str:
    """``ITN-000123.<mac>``: put in the reply address, it threads the answer to its case."""
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(), f"reply:{inquiry_id}".encode(),
                   hashlib.sha256).hexdigest()[:10]
    return f"ITN-{inquiry_id:06d}.{mac}"


def inquiry_id_from_token(text: str) -> int | None:
    """The inquiry a reply token in ``text`` names, when its signature is right."""
    for match in REPLY_TOKEN.finditer(text or ""):
        inquiry_id = int(match.group(1))
        if hmac.compare_digest(reply_token(inquiry_id).split(".")[1], match.group(2).lower()):
            return inquiry_id
    return None


def one_line(text: str | None) -> str:
    """A name for a header: its line breaks, tabs and runs of spaces made one space (a patient's
    name typed with a line break would otherwise start a header of its own)."""
    return " ".join((text or "").split())


def reply_address(inquiry: Inquiry) -> str:
    name, addr = _address(current_app.config.get("REPLY_ADDRESS") or current_app.config["MAIL_FROM"])
    local, _at, domain = addr.partition("@")
    return formataddr((name or _sender()[0], f"{local}+{reply_token(inquiry.id)}@{domain}"))


def can_mail(patient) -> bool:
    """Whether mail can be sent to the patient: an address that has not bounced."""
    return bool(patient.email) and patient.email_bounced_at is None


def _exists(dedupe_key: str | None) -> bool:
    return dedupe_key is not None and db.session.scalar(
        select(OutboundMail.id).where(OutboundMail.dedupe_key == dedupe_key)) is not None


def queue_patient_mail(inquiry: Inquiry, kind: str, *, actor: User | None = None,
                       dedupe_key: str | None = None, in_reply_to: str | None = None,
                       link: PortalLink | None = None, new_case: bool = False,
                       at: datetime | None = None, rendered: Rendered | None = None,
                       attachments=(), **context) -> OutboundMail | None:
    """Render mail ``kind`` in the patient's language, with their portal link (``link``, else
    the current one), into the outbox and onto the thread. None when the patient has no usable
    address, or when mail with ``dedupe_key`` was queued already (not looked for when the case
    is a ``new_case``, opened in this transaction). ``at`` is when it was written (now);
    ``rendered``, the mail already rendered from ``mail_context`` (elsewhere); ``attachments``,
    files sent with it as ``(filename, content type, bytes)``. The rows are added, not flushed."""
    patient = inquiry.patient
    if not can_mail(patient) or (not new_case and _exists(dedupe_key)):
        return None
    if rendered is None:
        rendered = render(kind, patient.preferred_language,
                          **mail_context(inquiry, actor=actor, link=link, **context))
    now = at or utcnow()
    row = OutboundMail(kind=kind, dedupe_key=dedupe_key, inquiry=inquiry,
                       message_id=make_msgid(domain=_domain()), from_addr=current_app.config["MAIL_FROM"],
                       reply_to=reply_address(inquiry),
                       to_addr=formataddr((one_line(patient.full_name), patient.email)), subject=rendered.subject,
                       language=rendered.language, body_text=rendered.text, body_html=rendered.html,
                       in_reply_to=in_reply_to, status=QUEUED, attempts=0, next_attempt_at=now,
                       created_at=now, last_error="")
    for name, content_type, data in attachments:
        row.attachments.append(OutboundAttachment(filename=name, content_type=content_type, data=data))
    db.session.add(row)
    db.session.add(Message(inquiry=inquiry, direction="out", channel="email", kind=kind,
                           author_id=actor.id if actor else None, from_addr=_sender()[1],
                           to_addr=patient.email, subject=rendered.subject, body_text=rendered.text,
                           language=rendered.language, message_id=row.message_id, outbound=row,
                           created_at=now))
    return row


def mail_context(inquiry: Inquiry, *, actor: User | None = None, link: PortalLink | None = None,
                 **context) -> dict:
    """What mail to the patient of ``inquiry`` is rendered from: plain values only (it can be
    rendered in another process), with their portal link (``link``, else the current one)."""
    link = link or portal_links.current_link(inquiry)
    author = actor or inquiry.coordinator
    return {"reference": inquiry.reference, "given_name": inquiry.patient.given_name,
            "portal_url": portal_links.url_for_link(link), "link_expires_at": link.expires_at,
            "coordinator_name": author.name if author else None, **context}


def queue_staff_mail(user: User, kind: str, *, dedupe_key: str | None = None,
                     **context) -> OutboundMail | None:
    """Mail to a staff member (digest, escalation), in their language. Holds references and
    counts, never patient details. Flushes."""
    if not user.is_active or not user.email or _exists(dedupe_key):
        return None
    base_url = current_app.config["BASE_URL"].rstrip("/")
    rendered = render(kind, user.ui_locale or "en", user=user, base_url=base_url, **context)
    now = utcnow()
    row = OutboundMail(kind=kind, dedupe_key=dedupe_key, message_id=make_msgid(domain=_domain()),
                       from_addr=current_app.config["MAIL_FROM"], to_addr=formataddr((one_line(user.name), user.email)),
                       subject=rendered.subject, language=rendered.language, body_text=rendered.text,
                       body_html=rendered.html, status=QUEUED, attempts=0, next_attempt_at=now,
                       created_at=now, last_error="")
    db.session.add(row)
    db.session.flush()
    return row


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes between attempts, at most six hours."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


def deliver_due(now: datetime | None = None, *, limit: int = 200) -> dict[str, int]:
    """Send what is due, committing after each message: a crash can repeat at most the one
    message in flight, under the same Message-ID (receivers drop the copy).

    A refused recipient (5xx) fails the message for good (and flags a patient's address);
    anything else is retried later with backoff, up to ``SMTP_MAX_ATTEMPTS``."""
    now = now or utcnow()
    config = current_app.config
    ids = db.session.scalars(select(OutboundMail.id).where(
        OutboundMail.status == QUEUED, OutboundMail.next_attempt_at <= now)
        .order_by(OutboundMail.id).limit(limit)).all()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not ids:
        return counts
    try:
        with transport_for(config) as transport:
            for row_id in ids:
                outcome = _deliver_one(transport, db.session.get(OutboundMail, row_id), now)
                counts[outcome] += 1
                db.session.commit()
                if outcome == "retry" and transport.broken:
                    break  # the connection is gone: the rest waits for the next run
    except (OSError, smtplib.SMTPException) as error:  # could not connect at all
        for row_id in ids[sum(counts.values()):]:
            _retry(db.session.get(OutboundMail, row_id), now, f"connection: {type(error).__name__}")
            counts["retry"] += 1
        db.session.commit()
        log.warning("mail server unreachable (%s): messages wait", type(error).__name__)
    return counts


def _deliver_one(transport, row: OutboundMail, now: datetime) -> str:
    """Send one message: ``sent``, ``failed`` (refused for good) or ``retry``."""
    try:
        transport.send(row, build_email(row))
    except PermanentError as error:
        row.status, row.last_error, row.attempts = FAILED, str(error)[:500], row.attempts + 1
        _flag_patient_address(row, now)
        return "failed"
    except (OSError, smtplib.SMTPException) as error:
        _retry(row, now, f"{type(error).__name__}: {getattr(error, 'smtp_code', '')}")
        transport.broken = isinstance(error, (OSError, smtplib.SMTPServerDisconnected))
        return "retry"
    row.status, row.sent_at, row.attempts, row.last_error = SENT, now, row.attempts + 1, ""
    if row.inquiry_id is not None:  # a patient's mail left the center
        audit.record("export", actor=None, inquiry=row.inquiry, detail=f"mail={row.id} {row.kind} sent")
    return "sent"


def send_again(row: OutboundMail) -> None:
    """An admin asks for a failed message to be delivered again, from the first attempt."""
    row.status, row.attempts, row.next_attempt_at, row.last_error = QUEUED, 0, utcnow(), ""


def _retry(row: OutboundMail, now: datetime, reason: str) -> None:
    row.attempts += 1
    row.last_error = reason[:500]
    if row.attempts >= int(current_app.config["SMTP_MAX_ATTEMPTS"]):
        row.status = FAILED
    else:
        row.next_attempt_at = now + backoff(row.attempts)


def _flag_patient_address(row: OutboundMail, now: datetime) -> None:
    if row.inquiry_id is None or row.kind in ("digest", "escalation"):
        return
    inquiry = db.session.get(Inquiry, row.inquiry_id)
    if inquiry is not None and inquiry.patient.email_bounced_at is None:
        inquiry.patient.email_bounced_at = now
