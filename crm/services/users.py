"""Staff accounts: creation, passwords, sign-in with throttling and a second step, sign-out,
API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import LANGUAGE_LOCALES, UI_LOCALES
from ..models import ApiToken, Center, User
from ..models.base import utcnow
from ..models.user import ROLES, new_session_token
from . import audit, two_factor
from .errors import ValidationError
from .passwords import PASSWORD_MIN, password_problem  # noqa: F401 - PASSWORD_MIN is the rule's
from .validation import clean_email, clean_text

_hasher = PasswordHasher()
#: Verified against when the email is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(email, *, name, role, password, center_keys=(), languages=(), ui_locale=None) -> User:
    """Create a staff account. Flushes."""
    errors: dict = {}
    email = clean_email(email, "email", errors, required=True)
    name = clean_text(name, "name", errors, max_len=120, required=True)
    if role not in ROLES:
        errors["role"] = _l("Choose one of the options offered.")
    if problem := password_problem(password):
        errors["password"] = problem
    if email and db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        errors["email"] = _l("An account with this email address already exists.")
    centers = []
    for key in center_keys:
        center = db.session.scalar(select(Center).where(Center.key == key))
        if center is None:
            errors["centers"] = _l("Unknown center: %(key)s", key=key)
        else:
            centers.append(center)
    bad = [code for code in languages if code not in LANGUAGE_LOCALES]
    if bad:
        errors["languages"] = _l("Unknown language: %(code)s", code=", ".join(bad))
    if ui_locale and ui_locale not in UI_LOCALES:
        errors["ui_locale"] = _l("Choose one of the languages we offer.")
    if errors:
        raise ValidationError(fields=errors)
    user = User(email=email, name=name, role=role, password_hash=hash_password(password),
                ui_locale=ui_locale or None, centers=centers)
    user.languages = list(languages)
    db.session.add(user)
    db.session.flush()
    return user


def needs_second_step(user: User) -> bool:
    """A code from the authenticator app is asked after the password: for everyone who turned
    two-step sign-in on, and for managers and admins (who set it up at their first sign-in)."""
    return user.has_totp or user.needs_totp


def authenticate(email: str, password: str, *, max_failures: int, lockout: timedelta) -> User | None:
    """The active user with these credentials, or None. Failed attempts lock the account for
    ``lockout`` after ``max_failures`` in a row; the lock answers exactly like a bad password.
    When ``needs_second_step(user)``, the user is not signed in yet (and the count of failures
    goes on: a wrong code counts as one) until ``complete_sign_in`` or ``enroll_and_sign_in``."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    now = utcnow()
    if user is None or not user.is_active:
        _verify(_DUMMY_HASH, password or "")
        # the address tried is not kept: it may be anyone's (or a password typed in the wrong box)
        audit.record("sign_in_failed", actor=user, service="anonymous",
                     detail="unknown_account" if user is None else "inactive")
        return None
    if _locked(user, now):
        _verify(_DUMMY_HASH, password or "")
        return None
    if not _verify(user.password_hash, password or ""):
        _failed(user, now, max_failures=max_failures, lockout=lockout)
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if not needs_second_step(user):
        _signed_in(user, now)
    db.session.flush()
    return user


def _locked(user: User, now) -> bool:
    if user.locked_until and user.locked_until > now:
        audit.record("sign_in_failed", actor=user, detail="locked")
        db.session.flush()
        return True
    return False


def _failed(user: User, now, *, max_failures: int, lockout: timedelta, detail: str = "") -> None:
    user.failed_logins += 1
    if user.failed_logins >= max_failures:
        user.locked_until, user.failed_logins = now + lockout, 0
    audit.record("sign_in_failed", actor=user, detail=detail)
    db.session.flush()


def _signed_in(user: User, now, detail: str = "") -> None:
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    audit.record("sign_in", actor=user, detail=detail)
    db.session.flush()


def complete_sign_in(user: User, code: str, *, max_failures: int, lockout: timedelta) -> str | None:
    """The second step: ``"totp"`` or ``"recovery_code"`` when ``code`` is right and unused (the
    user is then signed in), else None; a wrong code counts towards the lock. Flushes."""
    now = utcnow()
    if not user.is_active or _locked(user, now):
        return None
    method = two_factor.verify(user, code, now=now)
    if method is None:
        _failed(user, now, max_failures=max_failures, lockout=lockout, detail="second_factor")
        return None
    _signed_in(user, now, detail=f"second_factor={method}")
    return method


def enroll_and_sign_in(user: User, code: str) -> list[str]:
    """The first sign-in of a manager or admin: the first code from their app turns two-step
    sign-in on and signs them in; returns the recovery codes to show once. Flushes."""
    now = utcnow()
    if not user.is_active or _locked(user, now):
        raise ValidationError("code", two_factor.WRONG_CODE)
    codes = two_factor.confirm_enrollment(user, code, now=now)
    _signed_in(user, now, detail="second_factor=totp enrolled")
    return codes


def set_password(user: User, password: str, *, actor: User | None) -> None:
    """A new password for ``user`` (by themselves or an admin); every session they had is
    ended. Flushes."""
    if problem := password_problem(password):
        raise ValidationError("password", problem)
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    audit.record("password_changed", actor=actor, detail=f"user={user.id}")
    db.session.flush()


def check_password(user: User, password: str) -> bool:
    """True when ``password`` is ``user``'s (a signed-in user confirming a sensitive change)."""
    return _verify(user.password_hash, password or "")


def change_password(user: User, current: str, new: str) -> None:
    """The signed-in user changes their own password, proving the current one. Flushes."""
    if not check_password(user, current):
        raise ValidationError("current_password", _l("This is not your current password."))
    set_password(user, new, actor=user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def end_sessions(user: User) -> None:
    """Sign-out: rotate the session token so every cookie issued before (in any browser) is
    refused. Flushes."""
    user.session_token = new_session_token()
    audit.record("sign_out", actor=user)
    db.session.flush()


def load_user_from_session(value: str) -> User | None:
    """Flask-Login's loader: ``"<id>:<session token>"``; a stale token signs nobody in."""
    user_id, _, token = (value or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: User) -> str:
    """A new API token for ``user``; only its digest is kept. Flushes."""
    token = "itn_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_digest(token)))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """The active user owning this (unrevoked) API token, or None."""
    if not token:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token),
                                                   ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.is_active:
        return None
    return row.user
