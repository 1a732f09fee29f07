"""Administration of staff accounts and centers."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import LANGUAGE_LOCALES, UI_LOCALES
from ..models import Center, User
from ..models.user import ROLES
from .errors import ValidationError
from ..models.user import new_session_token
from .users import password_problem, set_password
from .validation import clean_email, clean_text


def update_user(user: User, *, name, email, role, center_keys, languages, ui_locale, is_active,
                password=None, actor: User, is_away: bool = False) -> None:
    """Change a staff account. Flushes."""
    errors: dict = {}
    email = clean_email(email, "email", errors, required=True)
    name = clean_text(name, "name", errors, max_len=120, required=True)
    if role not in ROLES:
        errors["role"] = _l("Choose one of the options offered.")
    if email and db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower(),
                                                         User.id != user.id)):
        errors["email"] = _l("An account with this email address already exists.")
    if password and (problem := password_problem(password)):
        errors["password"] = problem
    if user.id == actor.id and (role != user.role or not is_active):
        errors["role"] = _l("You cannot remove your own administrator access.")
    centers = list(db.session.scalars(select(Center).where(Center.key.in_(list(center_keys)))))
    if len(centers) != len(set(center_keys)):
        errors["centers"] = _l("Choose one of the options offered.")
    if any(code not in LANGUAGE_LOCALES for code in languages):
        errors["languages"] = _l("Choose one of the options offered.")
    if ui_locale and ui_locale not in UI_LOCALES:
        errors["ui_locale"] = _l("Choose one of the options offered.")
    if errors:
        raise ValidationError(fields=errors)
    if role != user.role and role in ("manager", "admin") and not user.has_totp:
        user.session_token = new_session_token()  # the new role signs in with a second step
    user.name, user.email, user.role, user.centers = name, email, role, centers
    user.languages = list(languages)
    user.ui_locale = ui_locale or None
    if user.is_active and not is_active:
        user.session_token = new_session_token()  # signs a deactivated account out at once
    user.is_active = bool(is_active)
    user.is_away = bool(is_away)
    db.session.flush()
    if password:
        set_password(user, password, actor=actor)  # ends every session of that user


def save_center(center: Center | None, *, key, names: dict, is_active: bool,
                keywords: dict | None = None) -> Center:
    """Create or change a center; the English name is required; ``keywords`` maps a language
    to comma- or line-separated words. Flushes."""
    errors: dict = {}
    key = clean_text(key, "key", errors, max_len=40, required=True)
    if key and not key.replace("_", "").isalnum() or (key and key != key.lower()):
        errors["key"] = _l("Use lower-case letters, digits and underscores.")
    if key and db.session.scalar(select(Center.id).where(Center.key == key,
                                                         Center.id != (center.id if center else 0))):
        errors["key"] = _l("Another center already has this key.")
    clean_names = {}
    for code in UI_LOCALES:
        value = clean_text(names.get(code), f"name_{code}", errors, max_len=120,
                           required=code == "en")
        if value:
            clean_names[code] = value
    if errors:
        raise ValidationError(fields=errors)
    if center is None:
        position = (db.session.scalar(select(func.max(Center.position))) or 0) + 1
        center = Center(position=position)
        db.session.add(center)
    center.key, center.names, center.is_active = key, clean_names, bool(is_active)
    if keywords is not None:
        center.keywords = {code: words for code, text in keywords.items() if code in LANGUAGE_LOCALES
                           and (words := [w.strip() for w in text.replace("\n", ",").split(",")
                                          if w.strip()][:200])}
    db.session.flush()
    return center
