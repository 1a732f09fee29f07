"""Two-step sign-in: TOTP (RFC 6238) enrollment and codes, one-time recovery codes.

A code is accepted once: the time step of the last accepted code is kept, and a code of that
step or an earlier one is refused (RFC 6238, section 5.2), decided by one conditional UPDATE so
that two requests racing with the same code cannot both win. Recovery codes are random (80
bits), stored as SHA-256 digests, and spent by a conditional UPDATE as well.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import RecoveryCode, User
from ..models.base import utcnow
from ..models.user import new_session_token
from . import audit
from .errors import DomainError, ValidationError

ISSUER = "Itinera"
#: Codes of the previous and the next 30-second step are accepted too (clock drift).
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: No 0/o, 1/l/i: a code read off paper is typed right.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_RECOVERY_GROUPS = 4
_TOTP_CODE = re.compile(r"^\d{6}$")
WRONG_CODE = _l("This code is not right, or it was already used. Enter the current code from your "
                "authenticator app.")


def start_enrollment(user: User) -> str:
    """The secret to show while ``user`` sets up their app: a new one, or the one already shown
    (a reloaded page keeps the code the app has scanned). Flushes."""
    if user.has_totp:
        raise DomainError(_l("Two-step sign-in is already on."))
    secret = user.totp_secret  # encrypted at rest (EncryptedText), never logged
    if not secret:
        secret = user.totp_secret = pyotp.random_base32()
        db.session.flush()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> Markup:
    """The QR code of ``uri`` as inline SVG, drawn on the server (no script, no style)."""
    # segno writes only numbers into the path; the title is escaped by segno.
    return Markup(segno.make(uri, error="m").svg_inline(  # noqa: S704 # nosec B704 # nosemgrep: itinera-markup-on-data - segno's SVG
        scale=5, border=4, dark="#000", light="#fff", title=title, svgclass="qr-code"))


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _normalize(code: str | None) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _step(now: datetime) -> int:
    return int(now.timestamp()) // 30


def accept_totp(user: User, code: str | None, *, now: datetime | None = None) -> bool:
    """True, once, for a right code of the current step (or the one before or after): the step
    is recorded, and the same code or an older one is refused from then on. Flushes."""
    code, secret = _normalize(code), user.totp_secret
    if not secret or not _TOTP_CODE.match(code):
        return False
    totp = pyotp.TOTP(secret)
    current = _step(now or utcnow())
    matched = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    if matched is None:
        return False
    won = db.session.execute(
        update(User).where(User.id == user.id,
                           or_(User.totp_last_step.is_(None), User.totp_last_step < matched))
        .values(totp_last_step=matched).execution_options(synchronize_session=False)).rowcount
    if won != 1:
        return False
    set_committed_value(user, "totp_last_step", matched)
    return True


def _digest(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes for ``user`` (the old ones stop working); returned once, in clear,
    to be shown once. Flushes."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(_RECOVERY_GROUPS))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(code)) for code in codes)
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str | None, *, now: datetime | None = None) -> bool:
    """True, once, for one of ``user``'s unused recovery codes: it is spent. Flushes."""
    if len(_normalize(code)) != 4 * _RECOVERY_GROUPS:
        return False
    spent = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _digest(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=now or utcnow()).execution_options(synchronize_session=False)).rowcount
    if spent != 1:
        return False
    audit.record("recovery_code_used", actor=user, detail=f"left={recovery_codes_left(user)}")
    db.session.flush()
    return True


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def verify(user: User, code: str | None, *, now: datetime | None = None) -> str | None:
    """``"totp"`` or ``"recovery_code"`` when ``code`` is a right, unused one, else None. Flushes."""
    if not user.has_totp:
        return None
    if _TOTP_CODE.match(_normalize(code)):
        return "totp" if accept_totp(user, code, now=now) else None
    return "recovery_code" if use_recovery_code(user, code, now=now) else None


def confirm_enrollment(user: User, code: str | None, *, now: datetime | None = None) -> list[str]:
    """Turn two-step sign-in on once a first code from the app is right; returns the recovery
    codes to show once. Flushes."""
    if user.has_totp:
        raise DomainError(_l("Two-step sign-in is already on."))
    if not accept_totp(user, code, now=now):
        raise ValidationError("code", WRONG_CODE)
    user.totp_enabled_at = now or utcnow()
    codes = new_recovery_codes(user)
    audit.record("totp_enabled", actor=user)
    db.session.flush()
    return codes


def turn_off(user: User, *, actor: User, reset: bool = False) -> None:
    """Turn two-step sign-in off: by a coordinator for themselves, or by an admin resetting a
    lost phone (``reset``: the user enrolls again at the next sign-in). Flushes."""
    if not reset and user.needs_totp:
        raise DomainError(_l("Managers and administrators must keep two-step sign-in on."))
    user.totp_secret = None
    user.totp_enabled_at = user.totp_last_step = None
    if reset:
        user.session_token = new_session_token()  # signed out wherever they are
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record("totp_reset" if reset else "totp_disabled", actor=actor,
                 detail=f"user={user.id}")
    db.session.flush()
