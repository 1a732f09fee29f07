"""Guessing a patient's language from what they wrote."""
import pytest

from crm.services.language import guess_language


@pytest.mark.parametrize("text, expected", [
    ("Hola, necesito una segunda opinión sobre mi arritmia cardíaca. Adjunto mis estudios.", "es"),
    ("مرحبا، أحتاج إلى رأي طبي ثان بخصوص عدم انتظام ضربات القلب.", "ar"),
    ("您好，我父亲需要肝移植的第二意见，请问如何预约？", "zh-Hans"),
    ("Здравствуйте, мне нужна консультация нейрохирурга по поводу опухоли мозга.", "ru"),
    ("Olá, gostaria de uma segunda opinião sobre a cirurgia cardíaca do meu pai.", "pt-BR"),
    ("Bonjour, je souhaite un deuxième avis pour un traitement du cancer du sein.", "fr"),
    ("Hello, I would like a second opinion about my daughter's epilepsy surgery.", "en"),
])
def test_each_language_of_the_center_is_recognised(text, expected):
    assert guess_language(text) == expected


def test_a_few_words_of_another_script_do_not_decide():
    text = ("Dear team, my father 王建国 needs a second opinion about his liver transplant; "
            "his doctor in Beijing sent the reports attached.")
    assert guess_language(text) == "en"


def test_too_little_text_gives_the_default():
    assert guess_language("ok", default="es") == "es"
    assert guess_language("", default="fr") == "fr"
