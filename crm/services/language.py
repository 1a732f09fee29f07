"""Guessing the language of a patient's text, among the languages the center writes in."""
from __future__ import annotations

import threading

#: The model's codes of the contract's languages.
_CODES = {"en": "en", "es": "es", "ar": "ar", "zh": "zh-Hans", "pt": "pt-BR", "ru": "ru", "fr": "fr"}
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
    code, confidence = _model().classify(sample)
    return _CODES.get(code, default) if confidence >= threshold else default
