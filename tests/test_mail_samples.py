"""The sample messages of tests/mail_samples.py are what they claim to be."""
from __future__ import annotations

import base64
import email
import mailbox
import quopri
import re
import zlib
from email import policy

import pytest

from tests import mail_samples as ms
from tests.mail_samples import normalize


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def text_of(part) -> str:
    return normalize(part.get_content())


def test_plain_defaults():
    raw = ms.plain()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    msg = parse(raw)
    assert msg["subject"] == ms.PLAIN_SUBJECT
    assert msg["from"].addresses[0].display_name == "Ana Pérez"
    assert msg["from"].addresses[0].addr_spec == "ana.perez@example.org"
    assert msg["to"] == ms.CLINIC_ADDRESS
    assert msg["message-id"] == "<plain-1@example.org>"
    assert msg["date"].datetime.isoformat() == "2026-03-02T09:15:00+01:00"
    assert msg.get_content_type() == "text/plain"
    assert msg["content-transfer-encoding"] == "quoted-printable"
    assert text_of(msg) == normalize(ms.PLAIN_BODY)
    assert "in-reply-to" not in msg and not msg.defects
    assert ms.plain() == raw  # deterministic


def test_plain_variants():
    msg = parse(ms.plain(sender="Dr. House <house@example.org>", to=["A <a@x.org>", "b@y.org"],
                         cc="C <c@z.org>", subject="Re: Hola", body="Hello", message_id="<v-1@x>",
                         in_reply_to="<p-1@x>", references=["<p-0@x>", "<p-1@x>"],
                         extra_headers={"X-Priority": "1", "X-Nota": "ñ"}, charset="us-ascii"))
    assert msg["from"].addresses[0].display_name == "Dr. House"
    assert [a.addr_spec for a in msg["to"].addresses] == ["a@x.org", "b@y.org"]
    assert msg["cc"].addresses[0].addr_spec == "c@z.org"
    assert (msg["in-reply-to"], msg["references"]) == ("<p-1@x>", "<p-0@x> <p-1@x>")
    assert (msg["x-priority"], msg["x-nota"]) == ("1", "ñ")
    assert msg["content-transfer-encoding"] == "7bit"
    assert msg.get_content_charset() == "us-ascii" and text_of(msg) == "Hello"

    latin = parse(ms.plain(charset="iso-8859-1"))
    assert latin.get_content_charset() == "iso-8859-1"
    assert latin["content-transfer-encoding"] == "quoted-printable"
    assert text_of(latin) == normalize(ms.PLAIN_BODY) and latin["subject"] == ms.PLAIN_SUBJECT
    assert b"=?iso-8859-1?Q?" in ms.plain(charset="iso-8859-1")
    assert parse(ms.plain(message_id=None))["message-id"] is None


def test_arabic_windows_1256_with_pdf():
    raw = ms.arabic_windows_1256_with_pdf()
    assert b"=?windows-1256?B?" in raw
    msg = parse(raw)
    assert msg["subject"] == ms.ARABIC_SUBJECT
    assert msg["from"].addresses[0].display_name == ms.ARABIC_SENDER_NAME
    assert msg.get_content_type() == "multipart/mixed"
    text, pdf = msg.iter_parts()
    assert text.get_content_charset() == "windows-1256"
    assert text["content-transfer-encoding"] == "quoted-printable"
    assert text_of(text) == normalize(ms.ARABIC_BODY)
    assert "رجفان أذيني" in text_of(text) and "تقرير" in text_of(text)
    assert [p.get_filename() for p in msg.iter_attachments()] == [ms.ARABIC_FILENAME]
    assert "filename*=utf-8''%D8%AA" in str(pdf["content-disposition"]) or \
        b"filename*=utf-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1.pdf" in raw
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == ms.MINIMAL_PDF
    assert ms.MINIMAL_PDF.startswith(b"%PDF-1.4") and ms.MINIMAL_PDF.rstrip().endswith(b"%%EOF")
    windows = parse(ms.arabic_windows_1256_with_pdf(filename_charset="windows-1256"))
    assert next(windows.iter_attachments()).get_filename() == ms.ARABIC_FILENAME


def test_minimal_pdf_is_well_formed():
    pdf = ms.MINIMAL_PDF
    filetype = pytest.importorskip("filetype")
    assert filetype.guess_mime(pdf) == "application/pdf"
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    entries = re.findall(rb"(\d{10}) 00000 n \n", pdf[startxref:])
    assert len(entries) == 5
    for number, offset in enumerate(entries, 1):
        assert pdf[int(offset):].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))
    stream = pdf.split(b"stream\n", 1)[1]
    assert stream[length:].startswith(b"\nendstream")


def test_tiny_images():
    png, jpeg = ms.TINY_PNG, ms.TINY_JPEG
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png.endswith(b"IEND\xaeB`\x82")
    idat_len = int.from_bytes(png[33:37], "big")
    assert png[37:41] == b"IDAT"
    assert zlib.decompress(png[41:41 + idat_len]) == b"\x00\xc0\x1e\x2d"
    assert jpeg.startswith(b"\xff\xd8\xff\xe0") and jpeg.endswith(b"\xff\xd9")
    filetype = pytest.importorskip("filetype")
    assert filetype.guess_mime(png) == "image/png"
    assert filetype.guess_mime(jpeg) == "image/jpeg"


CHARSET_CASES = [
    (ms.chinese_gb2312, "gb2312", "base64", ms.CHINESE_GB2312_SUBJECT, ms.CHINESE_GB2312_BODY),
    (ms.chinese_gb18030, "gb18030", "base64", ms.CHINESE_GB18030_SUBJECT, ms.CHINESE_GB18030_BODY),
    (ms.russian_koi8r, "koi8-r", "8bit", ms.RUSSIAN_SUBJECT, ms.RUSSIAN_BODY),
    (ms.latin1_portuguese, "iso-8859-1", "quoted-printable", ms.PORTUGUESE_SUBJECT, ms.PORTUGUESE_BODY),
    (ms.french_iso8859_15, "iso-8859-15", "quoted-printable", ms.FRENCH_SUBJECT, ms.FRENCH_BODY),
    (ms.japanese_iso2022jp, "iso-2022-jp", "7bit", ms.JAPANESE_SUBJECT, ms.JAPANESE_BODY),
]


@pytest.mark.parametrize("builder, charset, cte, subject, body", CHARSET_CASES,
                         ids=[case[0].__name__ for case in CHARSET_CASES])
def test_charset_samples(builder, charset, cte, subject, body):
    raw = builder()
    assert f"=?{charset}?".encode() in raw
    msg = parse(raw)
    assert msg["subject"] == subject
    assert (msg["subject"], normalize(body)) == (ms.expected(builder.__name__).subject,
                                                 normalize(ms.expected(builder.__name__).body))
    assert msg.get_content_charset() == charset
    assert msg["content-transfer-encoding"] == cte
    assert text_of(msg) == normalize(body)
    assert msg.get_payload(decode=True).replace(b"\r\n", b"\n") == (body + "\n").encode(charset)
    if cte == "7bit":
        assert raw.isascii()
    assert parse(builder(subject="Re: x", body="y", message_id="<z@z>"))["message-id"] == "<z@z>"


def test_charset_specific_characters():
    for char in ms.CHINESE_GB18030_NON_GB2312:
        assert char in ms.CHINESE_GB18030_BODY + ms.CHINESE_GB18030_SUBJECT + ms.CHINESE_GB18030_SENDER
        with pytest.raises(UnicodeEncodeError):
            char.encode("gb2312")
    french = parse(ms.french_iso8859_15()).get_payload(decode=True)
    assert b"\xa4" in french and b"\xbd" in french  # € and œ in ISO-8859-15
    assert "€" not in french.decode("iso-8859-1")


def test_mislabeled_charset():
    msg = parse(ms.mislabeled_charset())
    assert msg.get_content_charset() == "us-ascii"
    assert msg["content-transfer-encoding"] == "8bit"
    assert msg.get_payload(decode=True).replace(b"\r\n", b"\n") == (ms.MISLABELED_BODY + "\n").encode()
    raw = ms.mislabeled_charset(actual="windows-1256", declared=None)
    assert ms.ARABIC_SUBJECT.encode("windows-1256") in raw  # raw 8-bit Subject, no encoded-word
    msg = parse(raw)
    assert msg["content-type"] == "text/plain" and msg.get_param("charset") is None
    assert msg.get_payload(decode=True).replace(b"\r\n", b"\n") == \
        (ms.ARABIC_BODY + "\n").encode("windows-1256")
    clean = parse(ms.mislabeled_charset(raw_headers=False))
    assert clean["subject"] == ms.MISLABELED_SUBJECT


def test_unknown_charset():
    raw = ms.unknown_charset()
    assert b"=?x-unknown-42?Q?" in raw
    msg = parse(raw)
    assert msg.get_content_charset() == ms.UNKNOWN_CHARSET
    assert msg.get_payload(decode=True).replace(b"\r\n", b"\n") == (ms.UNKNOWN_BODY + "\n").encode()
    with pytest.raises(LookupError):  # what a naive parser runs into
        msg.get_content()


def test_html_only():
    msg = parse(ms.html_only())
    assert msg.get_content_type() == "text/html" and not msg.is_multipart()
    assert msg["subject"] == ms.HTML_ONLY_SUBJECT
    html = msg.get_content()
    assert normalize(html) == normalize(ms.HTML_ONLY_HTML)
    for needle in ("<script>alert(1)</script>", "onerror=", "<style", "<br>", ms.HTML_ONLY_LINK):
        assert needle in html
    html2text = pytest.importorskip("html2text")
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.unicode_snob = True  # without it html2text turns &iacute; into a plain "i"
    rendered = " ".join(converter.handle(html).split())
    for sentence in ms.HTML_ONLY_VISIBLE:
        assert sentence in rendered
    for hidden in ms.HTML_ONLY_HIDDEN:
        assert hidden not in rendered


def test_multipart_alternative():
    msg = parse(ms.multipart_alternative())
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text_of(text) == normalize(ms.ALTERNATIVE_TEXT)
    assert text_of(html) == normalize(ms.ALTERNATIVE_HTML)
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None


def test_nested_multipart():
    msg = parse(ms.nested_multipart())
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", "multipart/related", "multipart/alternative", "text/plain",
        "text/html", "image/png", "image/jpeg"]
    assert text_of(msg.get_body(("plain",))) == normalize(ms.NESTED_TEXT)
    assert f"cid:{ms.NESTED_CID}" in msg.get_body(("html",)).get_content()
    png = [p for p in msg.walk() if p.get_content_type() == "image/png"][0]
    assert png["content-id"] == f"<{ms.NESTED_CID}>"
    assert png.get_content_disposition() == "inline" and png.get_filename() == ms.NESTED_IMAGE_FILENAME
    assert png.get_content() == ms.TINY_PNG
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == [ms.NESTED_ATTACHMENT_FILENAME]
    assert attachments[0].get_content() == ms.TINY_JPEG


def test_forwarded_as_attachment():
    msg = parse(ms.forwarded())
    assert msg["subject"] == ms.FORWARDED_SUBJECT
    assert msg["from"].addresses[0].display_name == "Dr. Luis Ortega"
    note, attached = msg.iter_parts()
    assert text_of(note) == normalize(ms.FORWARDED_BODY)
    assert attached.get_content_type() == "message/rfc822"
    assert attached.get_filename() == ms.FORWARDED_INNER_SUBJECT + ".eml"
    inner = attached.get_content()
    assert inner["subject"] == ms.FORWARDED_INNER_SUBJECT
    assert inner["from"].addresses[0].addr_spec == "carmen.ruiz@example.es"
    assert inner["message-id"] == ms.FORWARDED_INNER_MESSAGE_ID
    assert text_of(inner) == normalize(ms.FORWARDED_INNER_BODY)


def test_forwarded_inline():
    msg = parse(ms.forwarded_inline())
    text = text_of(msg)
    assert text == normalize(ms.forwarded_inline_text()) == normalize(ms.expected("forwarded_inline").body)
    assert ms.FORWARDED_INLINE_MARKER in text
    assert f"From: {ms.FORWARDED_INNER_SENDER}" in text and normalize(ms.FORWARDED_INNER_BODY) in text


def test_auto_replies():
    msg = parse(ms.auto_reply(in_reply_to="<out-9@itinera.example>"))
    assert msg["auto-submitted"] == "auto-replied" and msg["subject"] == "Out of office"
    assert msg["in-reply-to"] == msg["references"] == "<out-9@itinera.example>"
    assert text_of(msg) == normalize(ms.AUTO_REPLY_BODY)
    old = parse(ms.auto_reply_precedence())
    assert (old["precedence"], old["x-autoreply"], old["auto-submitted"]) == ("auto_reply", "yes", None)
    assert old["in-reply-to"] == ms.OUTBOUND_MESSAGE_ID


@pytest.mark.parametrize("returned", ["headers", "message"])
def test_bounce(returned):
    raw = ms.bounce(original_message_id="orig-42@itinera.example", recipient="x@example.net",
                    returned=returned)
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["from"].addresses[0].username == "MAILER-DAEMON"
    assert msg["return-path"] == "<>" and msg["auto-submitted"] == "auto-replied"
    notice, report, original = msg.iter_parts()
    assert notice.get_content_type() == "text/plain" and "x@example.net" in notice.get_content()
    assert report.get_content_type() == "message/delivery-status"
    per_message, per_recipient = report.get_payload()
    assert per_message["reporting-mta"] == "dns; mx.itinera.example"
    assert per_recipient["final-recipient"] == "rfc822; x@example.net"
    assert (per_recipient["action"], per_recipient["status"]) == ("failed", "5.1.1")
    assert per_recipient["diagnostic-code"].startswith("smtp; 550 5.1.1")
    if returned == "headers":
        assert original.get_content_type() == "text/rfc822-headers"
        headers = email.message_from_string(original.get_payload(), policy=policy.default)
    else:
        assert original.get_content_type() == "message/rfc822"
        headers = original.get_content()
    assert headers["message-id"] == "<orig-42@itinera.example>"
    assert headers["to"] == "x@example.net"
    assert b"Message-ID: <orig-42@itinera.example>" in raw


def test_no_message_id():
    msg = parse(ms.no_message_id())
    assert "message-id" not in msg and msg["subject"] == ms.NO_MESSAGE_ID_SUBJECT
    assert text_of(msg) == normalize(ms.NO_MESSAGE_ID_BODY)


def test_hostile_inputs():
    assert ms.empty() == b""
    assert len(ms.garbage()) == 4096 and ms.garbage() == ms.garbage()
    assert ms.garbage("png") == ms.TINY_PNG and ms.garbage("pdf") == ms.MINIMAL_PDF

    broken = ms.headers_only_broken()
    assert b"\r\n\r\n" not in broken and not re.search(rb"(?mi)^From:", broken)
    assert b"\x00" in broken and b"=?utf-8?B?U2VndW5kYSBvcGluacOz\r\n" in broken
    assert b"\r\nThis header line has no colon at all\r\n" in broken
    assert parse(broken).defects  # still parses, with defects
    assert b"Message-ID" not in ms.headers_only_broken(message_id=None)

    huge = ms.huge_header()
    subject_line = re.search(rb"(?m)^Subject: ([^\r\n]*)\r\n", huge).group(1)
    assert len(subject_line) == ms.HUGE_HEADER_SIZE and subject_line.decode() == ms.huge_subject()
    folded = parse(ms.huge_header(folded=True))
    assert folded["subject"] == ms.huge_subject()
    assert max(map(len, ms.huge_header(folded=True).split(b"\r\n"))) <= 78

    raw = ms.nul_bytes()
    assert b"s de sangre.\x00\x00\x00\r\n" in raw
    assert parse(raw).get_content().replace("\r\n", "\n") == ms.NUL_BODY + "\n"
    assert parse(ms.nul_bytes(cte="base64")).get_payload(decode=True).count(b"\x00") == 4
    assert parse(ms.nul_bytes(nul_in_subject=True))["subject"] == "Resultados\x00 del análisis"


def test_every_sample_parses():
    samples = ms.all_samples()
    assert len(set(samples.values())) == len(samples)
    for name, raw in samples.items():
        assert isinstance(raw, bytes), name
        msg = parse(raw)
        str(msg["subject"])
        list(msg.walk())
    for name in ("plain", "chinese_gb2312", "nested_multipart", "huge_header", "nul_bytes"):
        assert ms.expected(name).subject == parse(samples[name])["subject"]


def test_mbox_round_trip(tmp_path):
    messages = [ms.plain(), ms.plain(body="Hola\nFrom my side, gracias.\n>From quoted", message_id="<m-2@x>"),
                ms.arabic_windows_1256_with_pdf(), ms.no_message_id(), ms.bounce()]
    content = ms.mbox(messages)
    assert content.startswith(b"From ana.perez@example.org Mon Mar  2 08:15:00 2026\n")
    assert b"\r\n" not in content
    path = tmp_path / "inbox.mbox"
    path.write_bytes(content)
    box = mailbox.mbox(path, create=False)
    try:
        stored = [box.get_bytes(key) for key in box.keys()]
    finally:
        box.close()
    assert len(stored) == len(messages)
    assert [parse(m)["message-id"] for m in stored] == [parse(m)["message-id"] for m in messages]
    second = parse(stored[1]).get_payload(decode=True)
    assert b"\n>From my side" in second and b"\n>>From quoted" in second
    assert stored[0] == messages[0].replace(b"\r\n", b"\n")
    assert next(parse(stored[2]).iter_attachments()).get_content() == ms.MINIMAL_PDF


def test_maildir_round_trip(tmp_path):
    messages = [ms.plain(), ms.russian_koi8r(), ms.forwarded()]
    keys = ms.write_maildir(tmp_path / "Maildir", messages)
    assert len(keys) == 3
    assert {p.name for p in (tmp_path / "Maildir").iterdir()} >= {"cur", "new", "tmp"}
    assert len(list((tmp_path / "Maildir" / "new").iterdir())) == 3
    box = mailbox.Maildir(tmp_path / "Maildir", create=False)
    assert [box.get_bytes(key) for key in keys] == [m.replace(b"\r\n", b"\n") for m in messages]
    crlf = ms.write_maildir(tmp_path / "Raw", [ms.plain()], lf=False)
    assert mailbox.Maildir(tmp_path / "Raw", create=False).get_bytes(crlf[0]) == ms.plain()


def test_encoded_word_helper_never_splits_characters():
    words = ms.encoded_words(ms.JAPANESE_BODY.replace("\n", ""), "iso-2022-jp", "B")
    assert all(len(word) <= 75 for word in words) and len(words) > 1
    decoded = "".join(base64.b64decode(w.split("?")[3]).decode("iso-2022-jp") for w in words)
    assert decoded == ms.JAPANESE_BODY.replace("\n", "")
    q = ms.encoded_words("Segunda opinión", "utf-8", "Q")
    assert q == ["=?utf-8?Q?Segunda_opini=C3=B3n?="]
    assert quopri.decodestring(q[0][10:-2].replace("_", " ").encode(), header=True).decode() == \
        "Segunda opinión"
