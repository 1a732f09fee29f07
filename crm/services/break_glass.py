"""Break-glass access: a coordinator who must see a case outside their centers in an emergency
gets it, with a reason, for a limited time; every use is audited and the admins are told.

The grant only widens the one visibility rule (``visibility.inquiry_scope``); it ends by itself
when its time is up, and ``expire_grants`` writes that end into the audit trail.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import force_locale
from ..models import BreakGlassGrant, Inquiry, User
from ..models.base import utcnow
from ..models.inquiry import REFERENCE_PREFIX
from ..models.user import ADMIN
from . import audit, outbox
from .errors import Forbidden, ValidationError
from .formatting import local_time
from .validation import clean_text
from .visibility import MAX_ID, forget_grants, in_own_scope

DEFAULT_MINUTES = 60
REASON_MIN = 15
REASON_MAX = 1000
_REFERENCE = re.compile(rf"^\s*(?:{REFERENCE_PREFIX})?0*(\d{{1,10}})\s*$", re.IGNORECASE)


def grant_minutes() -> int:
    """How long a grant lasts: ``CRM_BREAK_GLASS_MINUTES`` (60 by default)."""
    return int(current_app.config.get("BREAK_GLASS_MINUTES", DEFAULT_MINUTES))


def _case(reference, errors: dict) -> Inquiry | None:
    match = _REFERENCE.match(reference or "") if isinstance(reference, str) else None
    number = int(match.group(1)) if match else 0
    inquiry = db.session.get(Inquiry, number) if 0 < number <= MAX_ID else None
    if inquiry is None and "reference" not in errors:
        errors["reference"] = _l("No case has this reference. Check it (for example ITN-000123).")
    return inquiry


def request_access(user: User, reference, reason, *, now: datetime | None = None
                   ) -> tuple[Inquiry, BreakGlassGrant | None]:
    """Open the case ``reference`` (``ITN-000123``) to coordinator ``user`` for
    ``grant_minutes()``, for the ``reason`` they give; mails every admin. Returns the case and
    the grant (None when the case is in their reach anyway, or the running grant when there is
    one). Flushes."""
    if not user.is_active or not user.is_coordinator:
        raise Forbidden(_l("Only coordinators ask for emergency access: managers see every case "
                           "and administrators none."))
    errors: dict = {}
    reason = clean_text(reason, "reason", errors, max_len=REASON_MAX, required=True)
    if reason and "reason" not in errors and len(reason) < REASON_MIN:
        errors["reason"] = _l("Say in a sentence why this emergency needs the case (at least "
                              "%(min)s characters).", min=REASON_MIN)
    inquiry = _case(reference, errors)
    if errors:
        raise ValidationError(fields=errors)
    if in_own_scope(user, inquiry):
        return inquiry, None
    now = now or utcnow()
    running = db.session.scalar(select(BreakGlassGrant).where(
        BreakGlassGrant.user_id == user.id, BreakGlassGrant.inquiry_id == inquiry.id,
        BreakGlassGrant.expires_at > now).order_by(BreakGlassGrant.expires_at.desc()))
    if running is not None:
        return inquiry, running
    minutes = grant_minutes()
    grant = BreakGlassGrant(user_id=user.id, inquiry_id=inquiry.id, reason=reason, created_at=now,
                            expires_at=now + timedelta(minutes=minutes))
    db.session.add(grant)
    if user.break_glass_until is None or user.break_glass_until < grant.expires_at:
        user.break_glass_until = grant.expires_at
    db.session.flush()
    forget_grants()
    audit.record("break_glass_granted", actor=user, inquiry=inquiry,
                 detail=f"grant={grant.id} minutes={minutes}")
    _tell_admins(grant, user, inquiry, minutes)
    db.session.flush()
    return inquiry, grant


def _tell_admins(grant: BreakGlassGrant, user: User, inquiry: Inquiry, minutes: int) -> None:
    """A mail to each active admin, in their language: who, which case, until when (the reason
    stays in Itinera: it may name the patient)."""
    admins = db.session.scalars(select(User).where(User.role == ADMIN, User.is_active.is_(True))
                                .order_by(User.id))
    for admin in admins:
        with force_locale(admin.ui_locale):
            until = local_time(grant.expires_at, "short")
            granted = local_time(grant.created_at, "short")
        outbox.queue_staff_mail(admin, "break_glass", dedupe_key=f"break-glass:{grant.id}:{admin.id}",
                                coordinator=user.name, coordinator_email=user.email,
                                reference=inquiry.reference, minutes=minutes, until=until,
                                granted=granted)


def record_use(user: User, inquiry: Inquiry, *, detail: str = "", now: datetime | None = None) -> None:
    """One use of a grant (a page or an action on the case): counted on the grant and written
    to the audit trail in full. Flushes."""
    now = now or utcnow()
    grant_id = db.session.scalar(
        select(BreakGlassGrant.id).where(BreakGlassGrant.user_id == user.id,
                                         BreakGlassGrant.inquiry_id == inquiry.id)
        .order_by(BreakGlassGrant.expires_at.desc()).limit(1))
    if grant_id is None:
        return
    db.session.execute(update(BreakGlassGrant).where(BreakGlassGrant.id == grant_id)
                       .values(views=BreakGlassGrant.views + 1, last_viewed_at=now)
                       .execution_options(synchronize_session=False))
    audit.record("break_glass_used", actor=user, inquiry=inquiry,
                 detail=f"grant={grant_id} {detail}".strip())
    db.session.flush()


def expire_grants(now: datetime | None = None) -> int:
    """The scheduler's sweep: each grant whose time is up gets its ``break_glass_expired``
    audit event, once. (Access ended at ``expires_at`` already, without it.) Returns how many."""
    now = now or utcnow()
    grants = db.session.scalars(
        select(BreakGlassGrant).where(BreakGlassGrant.expired_at.is_(None), BreakGlassGrant.expires_at <= now)
        .options(joinedload(BreakGlassGrant.user), joinedload(BreakGlassGrant.inquiry))
        .order_by(BreakGlassGrant.id).limit(1000).with_for_update(skip_locked=True, of=BreakGlassGrant)).all()
    for grant in grants:
        grant.expired_at = now
        audit.record("break_glass_expired", actor=grant.user, inquiry=grant.inquiry, origin="scheduler",
                     detail=f"grant={grant.id} views={grant.views}")
    db.session.flush()
    forget_grants()
    return len(grants)


def running_grants(user: User, now: datetime | None = None) -> list[BreakGlassGrant]:
    """``user``'s grants that still run, the latest first."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(BreakGlassGrant).where(BreakGlassGrant.user_id == user.id, BreakGlassGrant.expires_at > now)
        .options(joinedload(BreakGlassGrant.inquiry)).order_by(BreakGlassGrant.expires_at.desc())))


def recent_grants(*, days: int = 30, limit: int = 50, now: datetime | None = None) -> list[BreakGlassGrant]:
    """The admins' list: grants of the last ``days``, the latest first, with who and which case."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(BreakGlassGrant).where(BreakGlassGrant.created_at >= now - timedelta(days=days))
        .options(joinedload(BreakGlassGrant.user), joinedload(BreakGlassGrant.inquiry))
        .order_by(BreakGlassGrant.created_at.desc(), BreakGlassGrant.id.desc()).limit(limit)))
