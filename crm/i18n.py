"""Languages: the UI locales, the patients' language codes, locale selection."""
from __future__ import annotations

from contextlib import contextmanager

from flask import g, has_request_context, request, session
from flask_babel import force_locale as _force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

#: Patient language codes of the contract (BCP 47) and their Babel locale.
LANGUAGE_LOCALES = {"en": "en", "es": "es", "ar": "ar", "zh-Hans": "zh_Hans",
                    "pt-BR": "pt_BR", "ru": "ru", "fr": "fr"}
UI_LOCALES = tuple(LANGUAGE_LOCALES.values())
LOCALE_LANGUAGES = {v: k for k, v in LANGUAGE_LOCALES.items()}
#: Each language named in itself, for language pickers.
NATIVE_NAMES = {"en": "English", "es": "Español", "ar": "العربية", "zh-Hans": "简体中文",
                "pt-BR": "Português (Brasil)", "ru": "Русский", "fr": "Français"}
LANGUAGE_LABELS = {"en": _l("English"), "es": _l("Spanish"), "ar": _l("Arabic"),
                   "zh-Hans": _l("Chinese (Simplified)"), "pt-BR": _l("Portuguese (Brazil)"),
                   "ru": _l("Russian"), "fr": _l("French")}
RTL_LOCALES = {"ar"}


def normalize_locale(value: str | None) -> str | None:
    """Map ``zh-CN``, ``zh_Hans``, ``pt``, ``AR`` … onto a supported UI locale, else None."""
    if not value:
        return None
    value = value.strip().replace("_", "-")
    if value in LANGUAGE_LOCALES:
        return LANGUAGE_LOCALES[value]
    primary = value.split("-")[0].lower()
    return {"zh": "zh_Hans", "pt": "pt_BR"}.get(primary) or (
        primary if primary in UI_LOCALES else None)


def language_for_locale(locale: str) -> str:
    """The contract's language code for a UI locale (``zh_Hans`` → ``zh-Hans``)."""
    return LOCALE_LANGUAGES.get(str(locale), "en")


def select_locale() -> str:
    """The staff member's setting, then ``?lang=`` (remembered), then Accept-Language, then English."""
    if not has_request_context():
        return "en"
    forced = getattr(g, "locale_override", None)
    if forced:
        return forced
    if current_user and current_user.is_authenticated and current_user.ui_locale:
        return current_user.ui_locale
    asked = normalize_locale(request.args.get("lang"))
    if asked:
        session["lang"] = asked
        return asked
    if session.get("lang") in UI_LOCALES:
        return session["lang"]
    for value, _quality in request.accept_languages:
        locale = normalize_locale(value)
        if locale:
            return locale
    return "en"


def is_rtl(locale) -> bool:
    """True for right-to-left locales (Arabic)."""
    return str(locale).split("_")[0] in RTL_LOCALES


@contextmanager
def force_locale(language: str | None):
    """Render mail and job output in the recipient's language, never the sender's."""
    with _force_locale(normalize_locale(language) or "en"):
        yield
