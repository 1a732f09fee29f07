"""Guessing the language of a patient's text, among the languages the center writes in."""
from __future__ import annotations

import re
import threading

#: The model's codes of the contract's languages.
_CODES = {"en": "en", "es": "es", "ar": "ar", "zh": "zh-Hans", "pt": "pt-BR", "ru": "ru", "fr": "fr"}
#: Scripts that only one of those languages is written in: most of a text's letters in one of
#: them settle the question without the model (which would answer the same, more slowly).
_SCRIPTS = (("ar", re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")),
            ("zh-Hans", re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")),
            ("ru", re.compile(r"[\u0400-\u04ff]")))
_LETTERS = re.compile(r"[^\W\d_]")
_lock = threading.Lock()
_identifier = None


def _model():
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier
            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(_CODES))
            _identifier = identifier
    return _identifier


def guess_language(text: str, *, default: str = "en", threshold: float = 0.6) -> str:
    """The contract code (``es``, ``zh-Hans``…) of the language ``text`` is written in, or
    ``default`` when the text is too short or the guess unsure."""
    sample = " ".join((text or "").split())[:2000]
    if len(sample) < 12:
        return default
    letters = len(_LETTERS.findall(sample))
    for language, script in _SCRIPTS:
        if len(script.findall(sample)) * 2 > letters:
            return language
    code, confidence = _model().classify(sample)
    return _CODES.get(code, default) if confidence >= threshold else default
