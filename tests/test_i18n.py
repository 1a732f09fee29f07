"""Every language, always: catalogs complete, current and compiled; pages in each language."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from crm.i18n import UI_LOCALES

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
LOCALES = [locale for locale in UI_LOCALES if locale != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
TEMPLATES = ROOT / "templates"
#: Where a template prints something: ``{{ … }}`` and ``{% trans %}…{% endtrans %}``.
OUTPUT = re.compile(r"{{.*?}}|{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.S)
#: A translated text: a gettext call, a trans block, or one of the translated labels.
TRANSLATED = re.compile(r"(?<![\w.])(?:_|gettext|ngettext|pgettext|npgettext)\(|{%-?\s*trans\b"
                        r"|(?<![\w.])(?:labels\.\w+_LABELS|language_labels)\b")
#: What may sit between a translation and punctuation glued to it on the same line: spaces,
#: inline tags, statements, comments.
FILLER = (r"(?:[ \t]|</?(?:a|abbr|b|bdi|code|em|i|small|span|strong|time)\b[^<>\n]*>"
          r"|{%(?:[^%\n]|%(?!}))*%}|{#[^\n]*?#})*")
#: Sentence punctuation, which differs by language (French " :", Arabic "،" and "؛", Chinese "：").
#: The middle dot "·" between independent items is the same in every script and is allowed.
GLUED_AFTER = re.compile(FILLER + r"([:;,.!?()\[\]—–：；，。、（）«»])")
GLUED_BEFORE = re.compile(r"([:;,(\[—–：；，、（«])" + FILLER + r"\Z")


def ids(catalog):
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory):
    """The strings in the code today, extracted the way `make catalogs` does."""
    out = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "--no-location", "-o", str(out), "."],
                   cwd=ROOT, check=True)
    with out.open("rb") as handle:
        return read_po(handle)


def load_po(locale):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def glued_punctuation(text: str):
    """(line, excerpt) of each translation in a template with punctuation glued before or after it."""
    for match in OUTPUT.finditer(text):
        if not TRANSLATED.search(match.group()):
            continue
        after = GLUED_AFTER.match(text, match.end())
        before = GLUED_BEFORE.search(text[max(0, match.start() - 300):match.start()])
        if after or before:
            line = text.count("\n", 0, match.start()) + 1
            start = match.start() - (len(before.group()) if before else 0)
            end = after.end() if after else match.end()
            yield line, " ".join(text[start:end].split())


def test_the_glue_check_finds_glued_punctuation():
    glued = ["{{ _('Open your page') }}: {{ url }}", "<b>{{ _('When') }}</b> ({{ time }})",
             "{{ name }}, {{ _('Inactive') }}", "{{ item }} — {{ _('received') }}",
             "{% trans %}Hello{% endtrans %}.", "{{ ngettext('a', 'b', n) }}<span>;</span>",
             "{{ labels.STAGE_LABELS[s] }} <span>({{ labels.OUTCOME_LABELS[o] }})</span>"]
    for text in glued:
        assert list(glued_punctuation(text)), text
    fine = ["{{ _('Open your page: %(url)s', url=url) }}", "{{ name }} · {{ _('Inactive') }}",
            "- {{ _('A sentence.') }}", 'title="{{ _(\'Country\') }}">', "{{ url }}: {{ name }}",
            "<td>—</td><td>{{ _('Nobody yet') }}</td>", "{{ _('What happens next:') }}\n- {{ item }}"]
    for text in fine:
        assert not list(glued_punctuation(text)), text


def test_templates_keep_punctuation_inside_the_translation():
    """Punctuation next to a translated text belongs in the translation, with named placeholders:
    French puts a space before ":", Arabic writes "،" and "؛", Chinese "：" and "，"."""
    found = [f"{path.relative_to(ROOT)}:{line}: {excerpt}"
             for path in sorted(TEMPLATES.rglob("*")) if path.suffix in (".html", ".txt")
             for line, excerpt in glued_punctuation(path.read_text(encoding="utf-8"))]
    assert not found, ("punctuation glued to a translated text; put the whole sentence in the "
                       "translation, e.g. _('Open your page: %(url)s', url=…):\n" + "\n".join(found))


def test_template_is_current(fresh_template):
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        committed = read_po(handle)
    missing = ids(fresh_template) - ids(committed)
    assert not missing, f"run `make catalogs`: {sorted(map(str, missing))[:10]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete(locale, fresh_template):
    catalog = load_po(locale)
    missing = ids(fresh_template) - ids(catalog)
    assert not missing, f"{locale}: run `make catalogs` and translate {sorted(map(str, missing))[:10]}"
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{locale}: untranslated {message.id!r}"
        assert not message.fuzzy, f"{locale}: fuzzy {message.id!r}"
        source = message.id if isinstance(message.id, tuple) else (message.id,)
        allowed = set().union(*(PLACEHOLDER.findall(s) for s in source))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= allowed, f"{locale}: {message.id!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_compiled(locale):
    mo = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    assert mo.exists(), f"{locale}: run `make translations`"
    with mo.open("rb") as handle:
        compiled = read_mo(handle)
    assert ids(load_po(locale)) <= ids(compiled) | {""}, f"{locale}: stale .mo, run `make translations`"


@pytest.mark.parametrize("locale", LOCALES)
def test_public_form_is_in_each_language(client, locale):
    html = client.get(f"/request?lang={locale}").get_data(as_text=True)
    assert "Request an appointment or a second opinion" not in html
    assert "Send my request" not in html
    assert f'dir="{"rtl" if locale == "ar" else "ltr"}"' in html


def test_dates_and_numbers_follow_the_locale(app):
    from datetime import datetime, timezone

    from flask_babel import format_decimal, force_locale

    from crm.services.formatting import local_time
    with app.test_request_context():
        with force_locale("fr"):
            assert format_decimal(12345) == "12\u202f345"
        with force_locale("ar"):
            moment = datetime(2026, 3, 9, 15, 0, tzinfo=timezone.utc)
            from babel.dates import format_datetime
            expected = format_datetime(moment.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")),
                                       "short", locale="ar")
            assert local_time(moment, "short").startswith(expected)
            assert local_time(moment, "short").endswith("EDT")
