"""Mail rendered in the recipient's language, as text and HTML, from ``templates/email/``."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import get_translations
from flask_babel import gettext as _
from jinja2 import Environment, pass_eval_context
from markupsafe import Markup

from ..i18n import force_locale, is_rtl, language_for_locale, normalize_locale
from ..services.formatting import opening_hours

#: The subject of each kind of mail, in the recipient's language.
SUBJECTS = {
    "acknowledgement": lambda c: _("We have received your request (%(reference)s)", reference=c["reference"]),
    "records_request": lambda c: _("Your medical records for %(reference)s", reference=c["reference"]),
    "reminder": lambda c: _("Reminder: we are still waiting for your records (%(reference)s)",
                            reference=c["reference"]),
    "appointment": lambda c: _("Your appointment in Boston (%(reference)s)", reference=c["reference"]),
    "travel": lambda c: _("Your travel to Boston (%(reference)s)", reference=c["reference"]),
    "appointment_cancelled": lambda c: _("Your appointment in Boston is cancelled (%(reference)s)",
                                         reference=c["reference"]),
    "estimate": lambda c: _("Your cost estimate (%(reference)s)", reference=c["reference"]),
    "visa_letter": lambda c: _("Your visa invitation letter (%(reference)s)", reference=c["reference"]),
    "opinion_addendum": lambda c: _("An addendum to your written second opinion (%(reference)s)",
                                    reference=c["reference"]),
    "opinion_ready": lambda c: _("Your written second opinion is ready (%(reference)s)",
                                 reference=c["reference"]),
    "reply": lambda c: _("A message from your care coordinator (%(reference)s)", reference=c["reference"]),
    "portal_link": lambda c: _("Your new link to follow your request (%(reference)s)",
                               reference=c["reference"]),
    "digest": lambda c: _("Your follow-ups today: %(overdue)d overdue, %(today)d due today",
                          overdue=c["overdue"], today=c["today"]),
    "escalation": lambda c: _("%(count)d follow-ups are overdue", count=c["count"]),
    "break_glass": lambda c: _("Emergency access: %(name)s opened %(reference)s",
                               name=c["coordinator"], reference=c["reference"]),
}
#: Mail sent by a rule, not typed by a person: marked ``Auto-Submitted`` so that no
#: out-of-office answers it.
AUTOMATIC = frozenset({"acknowledgement", "reminder", "portal_link", "digest", "escalation",
                       "break_glass"})


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str


def render(kind: str, language: str | None, **context) -> Rendered:
    """Render mail ``kind`` in ``language`` (a contract code such as ``ar`` or ``zh-Hans``)."""
    locale = normalize_locale(language) or "en"
    with force_locale(locale):
        context = {**context, "lang": language_for_locale(locale),
                   "dir": "rtl" if is_rtl(locale) else "ltr", "hours": _hours_summary(locale)}
        env = _environment(locale)
        subject = " ".join(SUBJECTS[kind](context).split())
        text = env.get_template(f"email/{kind}.txt").render(context)
        html = env.get_template(f"email/{kind}.html").render(subject=subject, **context)
    return Rendered(subject, text.strip() + "\n", html, language_for_locale(locale))


def _environment(locale: str) -> Environment:
    """The app's templates with the locale's catalog bound to ``_()`` directly: a message then
    renders without looking the locale up again for each of its sentences (a bulk import
    acknowledges thousands). One per locale and app, apart from the web's: not an overlay,
    whose i18n extension would install the catalog into the web's environment."""
    envs = current_app.extensions.setdefault("itinera.mail_environments", {})
    env = envs.get(locale)
    if env is None:
        web = current_app.jinja_env
        env = Environment(loader=web.loader, autoescape=web.autoescape,  # nosec B701 - the web's: .html escaped
                          trim_blocks=web.trim_blocks,
                          lstrip_blocks=web.lstrip_blocks, auto_reload=web.auto_reload,
                          extensions=list(web.extensions))
        env.filters.update(web.filters)
        env.tests.update(web.tests)
        env.globals.update(web.globals)
        env.policies.update(web.policies)
        translations = get_translations()
        env.install_gettext_translations(translations, newstyle=True)
        env.globals["_"] = _translator(translations)
        envs[locale] = env
    return env


def _translator(translations):
    """``_()`` for the mail templates: what Jinja's newstyle gettext does (the translation taken
    as safe, its variables escaped, ``%%`` always formatted), bound to one catalog, in one call
    rather than three (thousands of sentences in a bulk import)."""
    @pass_eval_context
    def translate(eval_ctx, string: str, **variables) -> str:
        text = translations.gettext(string)
        # the catalog's own sentence taken as safe, as Jinja's gettext does; Markup's % escapes the variables
        return (Markup(text) if eval_ctx.autoescape else text) % variables  # nosec B704 # nosemgrep: itinera-markup-on-data - see above
    return translate


def _hours_summary(locale: str) -> str:
    """``opening_hours()`` once per locale and opening hours."""
    cache = current_app.extensions.setdefault("itinera.mail_hours", {})
    key = (locale, repr(sorted(map(str, current_app.config["BUSINESS_HOURS"].items()))))
    if key not in cache:
        cache[key] = opening_hours()
    return cache[key]
