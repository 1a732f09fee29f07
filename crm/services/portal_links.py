"""Portal links: signed, bound to one inquiry and one patient, expiring, revoked by a new one."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from ..extensions import db
from ..models import Inquiry, PortalLink
from ..models.base import utcnow

#: A link with less time left than this is not put in a new email: a fresh one is made.
RENEW_WHEN_LEFT = timedelta(days=7)
OK, INVALID, EXPIRED = "ok", "invalid", "expired"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="itinera-portal-link")


def token_for(link: PortalLink) -> str:
    return _serializer().dumps([link.id, link.nonce])


def url_for_link(link: PortalLink) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + "/p/" + token_for(link)


def issue_link(inquiry: Inquiry, *, now: datetime | None = None, revoke: bool = False) -> PortalLink:
    """A new link for the inquiry's patient; ``revoke`` ends every earlier one. Flushes."""
    now = now or utcnow()
    if revoke:
        db.session.execute(update(PortalLink).where(PortalLink.inquiry_id == inquiry.id,
                                                    PortalLink.revoked_at.is_(None))
                           .values(revoked_at=now))
    link = new_link(inquiry, now=now)
    db.session.flush()
    return link


def new_link(inquiry: Inquiry, *, now: datetime | None = None) -> PortalLink:
    """A new link for the inquiry's patient, added to the session (its token needs its id: flush
    before putting it in a message)."""
    now = now or utcnow()
    days = int(current_app.config["PORTAL_LINK_DAYS"])
    link = PortalLink(inquiry=inquiry, patient=inquiry.patient, nonce=secrets.token_urlsafe(16),
                      created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(link)
    return link


def current_link(inquiry: Inquiry, *, now: datetime | None = None) -> PortalLink:
    """The link to put in an email: the newest active one, or a fresh one when it ends soon."""
    now = now or utcnow()
    link = db.session.scalars(select(PortalLink).where(
        PortalLink.inquiry_id == inquiry.id, PortalLink.patient_id == inquiry.patient_id,
        PortalLink.revoked_at.is_(None), PortalLink.expires_at > now + RENEW_WHEN_LEFT)
        .order_by(PortalLink.id.desc()).limit(1)).first()
    return link or issue_link(inquiry, now=now)


def resolve(token: str, *, now: datetime | None = None) -> tuple[str, PortalLink | None]:
    """``(OK, link)`` for a good link; ``(EXPIRED, link)`` for one that was real but ended or
    was revoked; ``(INVALID, None)`` for anything else."""
    now = now or utcnow()
    try:
        link_id, nonce = _serializer().loads(token)
        link_id = int(link_id)
    except (BadSignature, ValueError, TypeError):
        return INVALID, None
    if not 0 < link_id < 2**31:
        return INVALID, None
    link = db.session.get(PortalLink, link_id)
    if link is None or not secrets.compare_digest(str(link.nonce), str(nonce)):
        return INVALID, None
    inquiry = db.session.get(Inquiry, link.inquiry_id)
    if inquiry is None or inquiry.patient_id != link.patient_id:
        return EXPIRED, link  # the patient was merged into another record: a new link is needed
    if not link.is_active(now):
        return EXPIRED, link
    return OK, link
