"""The parser reads real-world mail: charsets, encoded headers, HTML, forwards, reports."""
import pytest

from crm.mail.parse import message_key, parse
from tests import mail_samples as samples
from tests.mail_samples import expected, normalize

READABLE = ["plain", "arabic_windows_1256_with_pdf", "chinese_gb2312", "chinese_gb18030",
            "russian_koi8r", "latin1_portuguese", "french_iso8859_15", "japanese_iso2022jp",
            "mislabeled_charset", "unknown_charset", "multipart_alternative", "nested_multipart",
            "no_message_id", "nul_bytes"]


@pytest.mark.parametrize("name", READABLE)
def test_every_charset_decodes_to_the_text_the_patient_wrote(name):
    parsed = parse(getattr(samples, name)())
    subject, body = expected(name)
    assert parsed.problem is None
    assert parsed.subject == " ".join(subject.split())
    assert normalize(body.replace("\x00", "")) in normalize(parsed.text)


def test_arabic_mail_in_windows_1256_keeps_its_sender_and_pdf():
    parsed = parse(samples.arabic_windows_1256_with_pdf())
    assert parsed.from_name == samples.ARABIC_SENDER_NAME
    assert parsed.from_addr == "m.alotaibi@example.sa"
    [pdf] = parsed.attachments
    assert pdf.filename == samples.ARABIC_FILENAME
    assert pdf.data == samples.MINIMAL_PDF


def test_html_only_mail_becomes_text_without_any_script():
    parsed = parse(samples.html_only())
    for sentence in samples.HTML_ONLY_VISIBLE:
        assert normalize(sentence) in normalize(parsed.text)
    for hidden in samples.HTML_ONLY_HIDDEN:
        assert hidden not in parsed.text


def test_nested_multipart_gives_the_plain_text_and_both_images():
    parsed = parse(samples.nested_multipart())
    assert "<" not in parsed.text  # the text alternative, not the HTML
    assert sorted(a.content_type for a in parsed.attachments) == ["image/jpeg", "image/png"]


def test_a_forwarded_message_keeps_the_patients_own_words():
    parsed = parse(samples.forwarded())
    assert normalize(samples.FORWARDED_INNER_BODY) in normalize(parsed.text)
    assert samples.FORWARDED_INNER_SUBJECT in parsed.text
    assert parsed.from_addr == "l.ortega@clinica-sevilla.example"


@pytest.mark.parametrize("name", ["auto_reply", "auto_reply_precedence"])
def test_automatic_replies_are_recognised(name):
    parsed = parse(getattr(samples, name)())
    assert parsed.is_auto_reply and not parsed.is_bounce
    assert samples.OUTBOUND_MESSAGE_ID in parsed.in_reply_to


def test_a_delivery_report_names_the_failed_address_and_our_message():
    parsed = parse(samples.bounce(original_message_id="<sent-9@itinera.example>",
                                  recipient="ana.perez@example.org"))
    assert parsed.is_bounce
    assert parsed.bounced_addresses == ["ana.perez@example.org"]
    assert parsed.bounced_message_id == "<sent-9@itinera.example>"


@pytest.mark.parametrize("raw", [samples.empty(), samples.garbage(), samples.headers_only_broken()],
                         ids=["empty", "garbage", "broken-headers"])
def test_unreadable_mail_is_reported_not_raised(raw):
    assert parse(raw).problem


@pytest.mark.parametrize("name", sorted(samples.all_samples()))
def test_no_sample_ever_crashes_the_parser(name):
    raw = samples.all_samples()[name]
    parsed = parse(raw)
    assert parsed.problem or parsed.from_addr
    assert "\x00" not in parsed.text + parsed.subject


def test_message_key_is_the_message_id_or_a_digest():
    assert message_key(b"x", "<a@b>") == "<a@b>"
    assert message_key(b"x", None) == message_key(b"x", None) != message_key(b"y", None)
    assert parse(samples.huge_header()).subject.startswith(samples.huge_subject()[:50])
