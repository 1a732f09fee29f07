"""Realistic raw RFC 5322 messages (``bytes``) for the tests of the mail-ingestion parser.

Every builder is deterministic: fixed dates, fixed Message-IDs (keyword arguments with defaults),
fixed MIME boundaries (derived from the Message-ID). Messages use CRLF line endings, as on the
wire and in an IMAP FETCH; ``mbox()`` and ``write_maildir()`` store them with LF, as on disk.

Structure is built with the standard library (``email.message.EmailMessage`` as the tree,
``email.generator.BytesGenerator`` via ``as_bytes`` to serialise). Envelope headers are stored
pre-encoded with ``set_raw`` so that each message keeps the charset a real mailer would have used
for its RFC 2047 encoded-words (windows-1256, GB2312, KOI8-R, ISO-2022-JP...): the stdlib would
otherwise re-encode everything as UTF-8. Deliberately broken messages are hand-written bytes.

Common keyword arguments of the message builders (all keyword-only):
    sender, to, cc          "Display Name <addr>" strings (``to``/``cc`` also accept a list);
                            non-ASCII display names become encoded-words in the message charset.
    subject, body           text (``str``); the body gets a final newline if it lacks one.
    message_id              passed verbatim, ``None`` leaves the header out.
    in_reply_to             passed verbatim (``None``: no header).
    references              a string or a list of Message-IDs (``None``: no header).
    date                    the Date header, verbatim (default ``DATE``).
    extra_headers           a mapping or an iterable of (name, value); ``str`` values that are
                            not printable ASCII are RFC 2047-encoded, ``bytes`` values go out raw.

Expected decoded values: module constants (``ARABIC_SUBJECT``, ``ARABIC_BODY``...) and
``expected(builder_name) -> Expected(subject, body)``, a 2-field NamedTuple for the builder's
default arguments: ``body`` is the decoded text of the main text part (for ``html_only`` the
decoded HTML source). Decoded bodies come back from the wire with CRLF and a final newline:
compare with ``normalize(text)`` (CRLF -> LF, strip trailing whitespace) on both sides.

Builders: plain, arabic_windows_1256_with_pdf, chinese_gb2312, chinese_gb18030, russian_koi8r,
latin1_portuguese, french_iso8859_15, japanese_iso2022jp, mislabeled_charset, unknown_charset,
html_only, multipart_alternative, nested_multipart, forwarded, forwarded_inline, auto_reply,
auto_reply_precedence, bounce, no_message_id, garbage, empty, headers_only_broken, huge_header,
nul_bytes; containers: mbox, write_maildir; ``all_samples()`` gives every builder's default
output by name (for "never crashes" parametrised tests).
"""
from __future__ import annotations

import base64
import codecs
import hashlib
import mailbox
import os
import quopri
import re
import struct
import zlib
from collections.abc import Iterable, Mapping
from datetime import timezone
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import NamedTuple

# --------------------------------------------------------------------------------------------
# Shared constants
# --------------------------------------------------------------------------------------------

CLINIC_ADDRESS = "international@itinera.example"
DATE = "Mon, 02 Mar 2026 09:15:00 +0100"
OUTBOUND_MESSAGE_ID = "<outbound-1@itinera.example>"  # a message Itinera sent; replies point at it

_WIRE = email_policy.default.clone(linesep="\r\n", max_line_length=None)


class Expected(NamedTuple):
    subject: str
    body: str


def normalize(text: str) -> str:
    """CRLF/CR -> LF and strip trailing whitespace: compare decoded bodies through this."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


# --------------------------------------------------------------------------------------------
# Binary payloads made by hand: a one-page PDF, a 1x1 PNG, a 1x1 baseline JPEG
# --------------------------------------------------------------------------------------------

def _minimal_pdf(text: str = "Informe ECG - Itinera sample") -> bytes:
    content = b"BT /F1 18 Tf 72 770 Td (" + text.encode("ascii") + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _tiny_png() -> bytes:
    scanline = b"\x00\xc0\x1e\x2d"  # filter "none" + one RGB pixel
    # zlib stream with a single stored (uncompressed) deflate block: identical on every zlib build
    idat = (b"\x78\x01\x01" + struct.pack("<HH", len(scanline), len(scanline) ^ 0xFFFF)
            + scanline + struct.pack(">I", zlib.adler32(scanline)))
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def _tiny_jpeg() -> bytes:
    """A 1x1 grey baseline JPEG: one 8x8 block whose coefficients are all zero."""
    soi, eoi = b"\xff\xd8", b"\xff\xd9"
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb\x00\x43\x00" + b"\x01" * 64
    sof0 = b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # one 1-bit code ("0") for symbol 0x00
    dht_dc = b"\xff\xc4\x00\x14\x00" + one_code
    dht_ac = b"\xff\xc4\x00\x14\x10" + one_code
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    scan = b"\x3f"  # DC diff category 0 ("0"), AC end-of-block ("0"), padded with 1 bits
    return soi + app0 + dqt + sof0 + dht_dc + dht_ac + sos + scan + eoi


MINIMAL_PDF = _minimal_pdf()
TINY_PNG = _tiny_png()
TINY_JPEG = _tiny_jpeg()

# --------------------------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------------------------

PLAIN_SENDER = "Ana Pérez <ana.perez@example.org>"
PLAIN_SUBJECT = "Segunda opinión"
PLAIN_BODY = (
    "Hola,\n\n"
    "Me llamo Ana Pérez y les escribo desde Sevilla. A mi padre le han diagnosticado un cáncer "
    "de próstata y nos gustaría pedir una segunda opinión en su hospital.\n\n"
    "¿Podrían indicarme qué documentos necesitan y cuánto tardaría la revisión?\n\n"
    "Muchas gracias,\n"
    "Ana Pérez\n"
    "Tel. +34 600 111 222"
)

ARABIC_SENDER = "محمد العتيبي <m.alotaibi@example.sa>"
ARABIC_SENDER_NAME = "محمد العتيبي"
ARABIC_SUBJECT = "طلب رأي طبي ثان"
ARABIC_BODY = (
    "السلام عليكم ورحمة الله وبركاته،\n\n"
    "اسمي محمد العتيبي، عمري 54 عاماً. تم تشخيصي قبل ثلاثة أشهر باضطراب في نظم القلب "
    "(رجفان أذيني) مع خفقان متكرر ودوخة، وأوصى طبيبي في الرياض بإجراء عملية كي كهربائي "
    "للقلب بالقسطرة.\n\n"
    "أرغب في الحصول على رأي طبي ثان من أطباء القلب لديكم قبل اتخاذ القرار. "
    "أرفقت لكم تقرير تخطيط القلب وتقرير الطبيب المعالج.\n\n"
    "هل يمكنكم إخباري بالتكلفة التقريبية ومدة الإقامة المتوقعة؟\n\n"
    "مع خالص الشكر،\n"
    "محمد العتيبي\n"
    "جوال: +966 50 123 4567"
)
ARABIC_FILENAME = "تقرير.pdf"

CHINESE_GB2312_SENDER = "张伟 <zhang.wei@example.cn>"
CHINESE_GB2312_SUBJECT = "咨询肝移植手术"
CHINESE_GB2312_BODY = (
    "您好！\n\n"
    "我父亲今年58岁，被诊断为肝硬化晚期，国内医生建议进行肝移植手术。\n"
    "请问贵院是否接收国际患者？手术费用大概是多少？需要准备哪些病历资料？\n\n"
    "他最近的检查报告我稍后发给您。\n\n"
    "谢谢！\n"
    "张伟"
)

CHINESE_GB18030_SENDER = "王玥 <wang.yue@example.cn>"
CHINESE_GB18030_SUBJECT = "肝移植术后复查咨询（患者：王喆）"
CHINESE_GB18030_BODY = (
    "您好！\n\n"
    "我是患者王喆的女儿王玥。我父亲去年在贵院接受了肝移植手术，主治医生是李堃教授。\n"
    "现在需要预约术后一年的复查，请问最近可以安排在哪一天？\n\n"
    "谢谢🙏\n"
    "王玥"
)
CHINESE_GB18030_NON_GB2312 = "喆玥堃🙏"  # characters of the sample that GB2312 cannot encode

RUSSIAN_SENDER = "Ирина Смирнова <i.smirnova@example.ru>"
RUSSIAN_SUBJECT = "Консультация нейрохирурга: опухоль мозга"
RUSSIAN_BODY = (
    "Здравствуйте!\n\n"
    "Моему сыну 34 года, на МРТ обнаружили опухоль мозга (предположительно глиома левой "
    "лобной доли). Наши врачи предлагают операцию, но мы хотели бы получить мнение ваших "
    "нейрохирургов.\n\n"
    "Можно ли прислать снимки МРТ в электронном виде? Сколько стоит консультация?\n\n"
    "С уважением,\n"
    "Ирина Смирнова\n"
    "г. Екатеринбург"
)

PORTUGUESE_SENDER = "Mariana Gonçalves <mariana.goncalves@example.pt>"
PORTUGUESE_SUBJECT = "Pedido de orçamento: cirurgia cardíaca"
PORTUGUESE_BODY = (
    "Bom dia,\n\n"
    "O meu pai, João, tem 67 anos e precisa de uma cirurgia de revascularização do miocárdio. "
    "Gostaríamos de saber se é possível realizar a operação no vosso hospital em maio e qual "
    "seria o orçamento aproximado, incluindo o internamento.\n\n"
    "Agradeço desde já a atenção.\n\n"
    "Com os melhores cumprimentos,\n"
    "Mariana Gonçalves"
)

FRENCH_SENDER = "Élodie Lefèvre <elodie.lefevre@example.fr>"
FRENCH_SUBJECT = "Question sur le devis de 18 500 €"
FRENCH_BODY = (
    "Bonjour,\n\n"
    "Nous avons bien reçu votre devis de 18 500 € pour la protonthérapie de notre fille Chloé. "
    "Pourriez-vous nous confirmer que l'hébergement (environ 95 € par nuit) n'est pas inclus ?\n\n"
    "Nous aimerions aussi savoir si le traitement de l'œdème post-opératoire est compris "
    "dans le forfait.\n\n"
    "Bien cordialement,\n"
    "Élodie Lefèvre"
)

JAPANESE_SENDER = "佐藤健一 <k.sato@example.jp>"
JAPANESE_SUBJECT = "セカンドオピニオンのお願い（膵臓がん）"
JAPANESE_BODY = (
    "国際患者センター御中\n\n"
    "はじめまして。東京在住の佐藤健一と申します。\n"
    "父（72歳）が膵臓がんと診断され、手術が可能かどうか\n"
    "セカンドオピニオンをお願いしたく、ご連絡いたしました。\n\n"
    "CT画像と紹介状は郵送でお送りできます。\n"
    "費用と受診までの期間を教えていただけますでしょうか。\n\n"
    "よろしくお願いいたします。\n"
    "佐藤健一"
)

MISLABELED_SENDER = "José Núñez <jose.nunez@example.mx>"
MISLABELED_SUBJECT = "Información sobre el tratamiento de mi niño"
MISLABELED_BODY = (
    "Buenos días,\n\n"
    "Mi niño de 6 años necesita una operación de corazón (comunicación interauricular). "
    "¿Cuánto costaría el tratamiento completo?\n\n"
    "Un saludo,\n"
    "José Núñez"
)
# default (sender, subject, body) of mislabeled_charset() per actual encoding
MISLABELED_DEFAULTS = {
    "utf-8": (MISLABELED_SENDER, MISLABELED_SUBJECT, MISLABELED_BODY),
    "windows-1256": (ARABIC_SENDER, ARABIC_SUBJECT, ARABIC_BODY),
}

UNKNOWN_CHARSET = "x-unknown-42"
UNKNOWN_SENDER = "Marta Díaz <marta.diaz@example.es>"
UNKNOWN_SUBJECT = "Cita para revisión cardiológica"
UNKNOWN_BODY = (
    "Buenas tardes,\n\n"
    "Necesito cambiar la cita de revisión cardiológica del día 12 al día 19.\n\n"
    "Gracias,\n"
    "Marta Díaz"
)

HTML_ONLY_SENDER = "Lucía Fernández <lucia.fernandez@example.es>"
HTML_ONLY_SUBJECT = "Consulta: prótesis de cadera para mi madre"
HTML_ONLY_LINK = "https://example.org/informe-cadera.pdf"
HTML_ONLY_HTML = f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Consulta</title>
<style type="text/css">
p {{ font-family: Calibri, sans-serif; color: #1f3864; }}
.firma {{ font-size: 9pt; }}
</style>
<script>alert(1)</script>
</head>
<body>
<p>Buenos d&iacute;as:</p>
<p>Mi madre necesita una prótesis de cadera.<br>&iquest;Podr&iacute;an operarla en abril?</p>
<p>El informe está en este <a href="{HTML_ONLY_LINK}">enlace al informe médico</a>.</p>
<img src=x onerror="alert(document.cookie)">
<p>Gracias de antemano.</p>
<p class="firma">Lucía Fernández<br>Tel. +34 600 123 456</p>
<script type="text/javascript">document.write('<p>tracking</p>')</script>
</body>
</html>"""
# sentences a text rendering of HTML_ONLY_HTML must show (compare after collapsing whitespace)
HTML_ONLY_VISIBLE = (
    "Buenos días:",
    "Mi madre necesita una prótesis de cadera.",
    "¿Podrían operarla en abril?",
    "enlace al informe médico",
    "Gracias de antemano.",
    "Lucía Fernández",
)
# strings that must not survive into the text rendering (script, handlers, CSS)
HTML_ONLY_HIDDEN = ("alert(", "onerror", "font-family", "document.write", "tracking", "<script", "<p")

ALTERNATIVE_SENDER = "Javier Moreno <javier.moreno@example.es>"
ALTERNATIVE_SUBJECT = "Información sobre prótesis de rodilla"
ALTERNATIVE_TEXT = (
    "Buenos días:\n\n"
    "Quisiera información sobre la cirugía de prótesis de rodilla para mi mujer, que tiene 70 años.\n"
    "¿Cuánto tiempo dura la recuperación en el hospital?\n\n"
    "Gracias,\n"
    "Javier Moreno"
)
ALTERNATIVE_HTML = (
    '<div dir="ltr"><p>Buenos días:</p>\n'
    "<p>Quisiera información sobre la cirugía de prótesis de rodilla para mi mujer, que tiene 70 años.<br>\n"
    "¿Cuánto tiempo dura la recuperación en el hospital?</p>\n"
    "<p>Gracias,<br>\nJavier Moreno</p></div>"
)

NESTED_SENDER = "Laura Gómez <coordinacion@clinica-norte.example>"
NESTED_SUBJECT = "Derivación de paciente: radiografía adjunta"
NESTED_CID = "logo-clinica@clinica-norte.example"  # Content-ID of the inline PNG, without <>
NESTED_IMAGE_FILENAME = "logo.png"
NESTED_ATTACHMENT_FILENAME = "radiografia_torax.jpg"
NESTED_TEXT = (
    "Buenos días:\n\n"
    "Les remitimos a la paciente Rosa Martín (62 años) para valoración por traumatología. "
    "Adjuntamos la radiografía de tórax del 20 de febrero.\n\n"
    "Un saludo,\n"
    "Laura Gómez\n"
    "Coordinación de derivaciones - Clínica Norte"
)
NESTED_HTML = (
    "<html><body>\n"
    "<p>Buenos días:</p>\n"
    "<p>Les remitimos a la paciente Rosa Martín (62 años) para valoración por traumatología. "
    "Adjuntamos la radiografía de tórax del 20 de febrero.</p>\n"
    "<p>Un saludo,<br>Laura Gómez<br>Coordinación de derivaciones - Clínica Norte</p>\n"
    f'<p><img src="cid:{NESTED_CID}" alt="Clínica Norte" width="120" height="40"></p>\n'
    "</body></html>"
)

PHYSICIAN_SENDER = "Dr. Luis Ortega <l.ortega@clinica-sevilla.example>"
FORWARDED_SUBJECT = "Fwd: Consulta sobre protonterapia para mi hijo"
FORWARDED_BODY = (
    "Estimados colegas:\n\n"
    "Les reenvío adjunta la consulta de una paciente, la Sra. Carmen Ruiz, cuyo hijo de 9 años "
    "ha sido operado de un meduloblastoma. La familia desea valorar la protonterapia en su centro.\n\n"
    "Quedo a su disposición.\n\n"
    "Dr. Luis Ortega\n"
    "Oncología Pediátrica - Clínica Sevilla"
)
FORWARDED_INNER_SENDER = "Carmen Ruiz <carmen.ruiz@example.es>"
FORWARDED_INNER_TO = "Luis Ortega <l.ortega@clinica-sevilla.example>"
FORWARDED_INNER_SUBJECT = "Consulta sobre protonterapia para mi hijo"
FORWARDED_INNER_MESSAGE_ID = "<inner-1@example.es>"
FORWARDED_INNER_DATE = "Fri, 27 Feb 2026 18:42:10 +0100"
FORWARDED_INNER_BODY = (
    "Doctor Ortega:\n\n"
    "Como hablamos en la consulta, le escribo para pedirle que envíe el caso de mi hijo Pablo "
    "a un centro con protonterapia. Tenemos el informe de la resonancia y el de anatomía patológica.\n\n"
    "Muchas gracias por todo,\n"
    "Carmen Ruiz"
)
FORWARDED_INLINE_MARKER = "---------- Forwarded message ---------"

AUTO_REPLY_SENDER = PLAIN_SENDER
AUTO_REPLY_SUBJECT = "Out of office"
AUTO_REPLY_BODY = (
    "Estaré fuera de la oficina hasta el 16 de marzo, con acceso limitado al correo.\n"
    "I am out of the office until 16 March with limited access to email."
)
AUTO_REPLY_PRECEDENCE_SUBJECT = "Respuesta automática: Segunda opinión"
AUTO_REPLY_PRECEDENCE_BODY = (
    "Gracias por su mensaje. Le responderé lo antes posible.\n"
    "Este es un mensaje automático."
)

BOUNCE_SENDER = "MAILER-DAEMON@mx.itinera.example (Mail Delivery System)"
BOUNCE_SUBJECT = "Undelivered Mail Returned to Sender"
BOUNCE_ORIGINAL_SUBJECT = "Re: Segunda opinión"
BOUNCE_ORIGINAL_BODY = (
    "Estimada Sra. Pérez:\n\n"
    "Hemos recibido su consulta. Para la segunda opinión necesitamos el informe de la biopsia.\n\n"
    "Un saludo,\n"
    "Centro Internacional de Pacientes"
)

NO_MESSAGE_ID_SENDER = "Omar Haddad <omar.haddad@example.org>"
NO_MESSAGE_ID_SUBJECT = "Pregunta sobre el visado médico"
NO_MESSAGE_ID_BODY = (
    "Buenas tardes,\n\n"
    "¿Pueden enviarme una carta de invitación para solicitar el visado médico?\n\n"
    "Gracias,\n"
    "Omar Haddad"
)

NUL_SENDER = "Pedro Gil <pedro.gil@example.es>"
NUL_SUBJECT = "Resultados del análisis"
NUL_BODY = (
    "Buenos días,\n\n"
    "Le envío los resultados del análisis de sangre.\x00\x00\x00\n\n"
    "Saludos,\n"
    "Pedro Gil\x00"
)

HUGE_HEADER_SIZE = 100_000

# --------------------------------------------------------------------------------------------
# Header encoding helpers
# --------------------------------------------------------------------------------------------

_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')


def _codec(charset: str) -> str:
    return codecs.lookup(charset).name


def _encoded_word(chunk: str, label: str, enc: str, codec: str) -> str:
    data = chunk.encode(codec)
    if enc == "B":
        payload = base64.b64encode(data).decode("ascii")
    else:
        payload = "".join(chr(b) if b in _Q_SAFE else "_" if b == 0x20 else f"={b:02X}" for b in data)
    return f"=?{label}?{enc}?{payload}?="


def encoded_words(text: str, charset: str = "utf-8", enc: str | None = None,
                  codec: str | None = None) -> list[str]:
    """RFC 2047 encoded-words (each <= 75 chars, never splitting a character) for ``text``."""
    codec = codec or _codec(charset)
    if enc is None:
        ascii_share = sum(ch.isascii() for ch in text) / max(len(text), 1)
        enc = "Q" if ascii_share >= 0.6 else "B"
    words, chunk = [], ""
    for ch in text:
        if chunk and len(_encoded_word(chunk + ch, charset, enc, codec)) > 75:
            words.append(_encoded_word(chunk, charset, enc, codec))
            chunk = ch
        else:
            chunk += ch
    if chunk:
        words.append(_encoded_word(chunk, charset, enc, codec))
    return words


def _fold(name: str, tokens: list[str]) -> str:
    """Join tokens with spaces, breaking lines before a token where a line would pass 78."""
    lines, current, width = [], "", len(name) + 2
    for token in tokens:
        if not current:
            current = token
        elif width + len(current) + 1 + len(token) <= 78:
            current += " " + token
        else:
            lines.append(current)
            current, width = token, 1
    lines.append(current)
    return "\n ".join(lines)


def _plain_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for piece in text.split(" "):
        if tokens and (not piece or not tokens[-1].strip()):
            tokens[-1] += " " + piece
        else:
            tokens.append(piece)
    return tokens


def _header_charset(text: str, charset: str, codec: str | None = None) -> tuple[str, str]:
    try:
        text.encode(codec or _codec(charset))
        return charset, codec or _codec(charset)
    except (UnicodeEncodeError, LookupError):
        return "utf-8", "utf-8"


def _is_plain(text: str) -> bool:
    return text.isascii() and text.isprintable() and "=?" not in text


def _text_tokens(text: str, charset: str, enc: str | None, codec: str | None = None) -> list[str]:
    """Unstructured header text: ASCII words stay raw, runs of other words become encoded-words
    ("Re: =?utf-8?Q?opini=C3=B3n?=", as mailers do)."""
    if _is_plain(text):
        return _plain_tokens(text)
    label, codec = _header_charset(text, charset, codec)
    pieces = text.split(" ")
    if "" in pieces:
        return encoded_words(text, label, enc, codec)
    tokens: list[str] = []
    run: list[str] = []
    for piece in pieces + [None]:
        if piece is None or _is_plain(piece):
            if run:
                tokens += encoded_words(" ".join(run), label, enc, codec)
                run = []
            if piece is not None:
                tokens.append(piece)
        else:
            run.append(piece)
    return tokens


def _mailbox_tokens(value: str, charset: str, enc: str | None, codec: str | None = None) -> list[str]:
    match = re.fullmatch(r"\s*(.*?)\s*<([^<>]*)>\s*", value, re.S)
    if not match:
        return _plain_tokens(value.strip())
    name, address = match.groups()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not name:
        return [f"<{address}>"]
    if name.isascii() and name.isprintable():
        if "=?" not in name and _SPECIALS.search(name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return _plain_tokens(name) + [f"<{address}>"]
    label, codec = _header_charset(name, charset, codec)
    return encoded_words(name, label, enc, codec) + [f"<{address}>"]


def _address_header(name: str, value: str | Iterable[str], charset: str, enc: str | None,
                    codec: str | None = None) -> str:
    values = [value] if isinstance(value, str) else list(value)
    tokens: list[str] = []
    for i, item in enumerate(values):
        item_tokens = _mailbox_tokens(item, charset, enc, codec)
        if i < len(values) - 1:
            item_tokens[-1] += ","
        tokens += item_tokens
    return _fold(name, tokens)


def _extra_items(extra_headers, charset: str) -> list[tuple[str, str]]:
    if not extra_headers:
        return []
    items = extra_headers.items() if isinstance(extra_headers, Mapping) else extra_headers
    out = []
    for name, value in items:
        if isinstance(value, (bytes, bytearray)):
            out.append((name, bytes(value).decode("ascii", "surrogateescape")))
        else:
            out.append((name, _fold(name, _text_tokens(str(value), charset, None))))
    return out


def _envelope(*, sender, to, cc=None, subject, date, message_id, in_reply_to=None, references=None,
              charset="utf-8", enc=None, codec=None, extra_headers=None, before=(), after=()):
    headers = list(before)
    if sender is not None:
        headers.append(("From", _address_header("From", sender, charset, enc, codec)))
    if to:
        headers.append(("To", _address_header("To", to, charset, enc, codec)))
    if cc:
        headers.append(("Cc", _address_header("Cc", cc, charset, enc, codec)))
    if subject is not None:
        headers.append(("Subject", _fold("Subject", _text_tokens(subject, charset, enc, codec))))
    if date is not None:
        headers.append(("Date", date))
    if message_id is not None:
        headers.append(("Message-ID", message_id))
    if in_reply_to is not None:
        headers.append(("In-Reply-To", in_reply_to))
    if references:
        refs = references.split() if isinstance(references, str) else list(references)
        headers.append(("References", _fold("References", refs)))
    headers += list(after)
    headers += _extra_items(extra_headers, charset)
    headers.append(("MIME-Version", "1.0"))
    return headers


# --------------------------------------------------------------------------------------------
# Body / MIME helpers
# --------------------------------------------------------------------------------------------

_BASE64_CHARSETS = {"gb2312", "gbk", "gb18030", "big5", "euc-kr", "shift_jis", "euc-jp", "utf-16"}


def _auto_cte(charset: str, data: bytes) -> str:
    name = charset.lower()
    if data.isascii() and max((len(line) for line in data.split(b"\n")), default=0) <= 76:
        return "7bit"
    if name == "iso-2022-jp":
        return "7bit"
    if name in ("koi8-r", "koi8-u"):
        return "8bit"
    if name.startswith(("iso-8859-", "windows-125")):
        return "quoted-printable"
    if name in _BASE64_CHARSETS:
        return "base64"
    return "quoted-printable" if len(_cte_encode(data, "quoted-printable")) <= len(
        _cte_encode(data, "base64")) else "base64"


def _body_bytes(text: str, codec: str) -> bytes:
    text = text.replace("\r\n", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return text.encode(codec)


def _cte_encode(data: bytes, cte: str) -> str:
    cte = cte.lower()
    if cte == "base64":
        return base64.encodebytes(data).decode("ascii")
    if cte == "quoted-printable":
        return quopri.encodestring(data).decode("ascii")
    if cte == "7bit":
        return data.decode("ascii")
    if cte in ("8bit", "binary"):
        return data.decode("ascii", "surrogateescape")
    raise ValueError(f"unsupported Content-Transfer-Encoding {cte!r}")


def _new(headers=()) -> EmailMessage:
    msg = EmailMessage()
    for name, value in headers:
        msg.set_raw(name, value)
    return msg


_DEFAULT_LABEL = object()


def _text_part(text: str, *, charset: str = "utf-8", subtype: str = "plain", cte: str | None = None,
               codec: str | None = None, label=_DEFAULT_LABEL, envelope=(), headers=()) -> EmailMessage:
    data = _body_bytes(text, codec or _codec(charset))
    cte = cte or _auto_cte(charset, data)
    label = charset if label is _DEFAULT_LABEL else label
    content_type = f"text/{subtype}" + (f'; charset="{label}"' if label is not None else "")
    part = _new(envelope)
    part.set_raw("Content-Type", content_type)
    part.set_raw("Content-Transfer-Encoding", cte)
    for name, value in headers:
        part.set_raw(name, value)
    part.set_payload(_cte_encode(data, cte))
    return part


def _filename_params(filename: str, charset: str) -> tuple[str, str]:
    """(Content-Type name= param, Content-Disposition filename param), Outlook style when non-ASCII."""
    if filename.isascii():
        return f'name="{filename}"', f'filename="{filename}"'
    word = " ".join(encoded_words(filename, charset, "B"))
    pct = "".join(chr(b) if (chr(b).isalnum() and b < 128) or chr(b) in "!#$&+-.^_`|~" else f"%{b:02X}"
                  for b in filename.encode(_codec(charset)))
    return f'name="{word}"', f"filename*={charset}''{pct}"


def _binary_part(data: bytes, content_type: str, *, filename: str | None = None,
                 disposition: str | None = "attachment", cid: str | None = None,
                 filename_charset: str = "utf-8") -> EmailMessage:
    part = EmailMessage()
    if filename:
        name_param, filename_param = _filename_params(filename, filename_charset)
        part.set_raw("Content-Type", f"{content_type};\n {name_param}")
    else:
        part.set_raw("Content-Type", content_type)
    part.set_raw("Content-Transfer-Encoding", "base64")
    if cid:
        part.set_raw("Content-ID", f"<{cid}>")
    if disposition:
        part.set_raw("Content-Disposition",
                     f"{disposition};\n {filename_param}" if filename else disposition)
    part.set_payload(base64.encodebytes(data).decode("ascii"))
    return part


def _boundary(tag: str, seed: str | None) -> str:
    digest = hashlib.sha1((seed or "no-id").encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"----=_Part_{tag}_{digest}"


def _multipart(subtype: str, parts, boundary: str, *, params: str = "", envelope=(),
               preamble: str | None = None) -> EmailMessage:
    msg = _new(envelope)
    extra = f" {params};" if params else ""
    msg.set_raw("Content-Type", f'multipart/{subtype};{extra}\n boundary="{boundary}"')
    msg.set_payload(list(parts))
    msg.preamble = preamble
    return msg


def _wire(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=_WIRE)


_PREAMBLE = "This is a multi-part message in MIME format."

# --------------------------------------------------------------------------------------------
# Builders: plain text in various charsets
# --------------------------------------------------------------------------------------------


def _plain_message(*, sender, to, subject, body, message_id, charset="utf-8", cte=None,
                   in_reply_to=None, references=None, extra_headers=None, cc=None, date=DATE,
                   enc=None, before=(), after=()) -> EmailMessage:
    envelope = _envelope(sender=sender, to=to, cc=cc, subject=subject, date=date,
                         message_id=message_id, in_reply_to=in_reply_to, references=references,
                         charset=charset, enc=enc, extra_headers=extra_headers,
                         before=before, after=after)
    return _text_part(body, charset=charset, cte=cte, envelope=envelope)


def plain(*, sender=PLAIN_SENDER, to=CLINIC_ADDRESS, subject=PLAIN_SUBJECT, body=PLAIN_BODY,
          message_id="<plain-1@example.org>", charset="utf-8", in_reply_to=None, references=None,
          extra_headers=None, cc=None, date=DATE, cte=None) -> bytes:
    """A single text/plain part. ``cte=None`` picks what a mailer would use for ``charset``:
    7bit for ASCII text and ISO-2022-JP, 8bit for KOI8-R, quoted-printable for ISO-8859-*,
    windows-125x and Latin-heavy UTF-8, base64 for CJK charsets and non-Latin UTF-8.
    Headers use ``charset`` for encoded-words when it can encode them, else UTF-8."""
    return _wire(_plain_message(sender=sender, to=to, subject=subject, body=body,
                                message_id=message_id, charset=charset, cte=cte,
                                in_reply_to=in_reply_to, references=references,
                                extra_headers=extra_headers, cc=cc, date=date))


def arabic_windows_1256_with_pdf(*, message_id="<arabic-1@example.sa>", sender=ARABIC_SENDER,
                                 to=CLINIC_ADDRESS, subject=ARABIC_SUBJECT, body=ARABIC_BODY,
                                 in_reply_to=None, references=None, extra_headers=None, cc=None,
                                 date=DATE, cte="quoted-printable", attachment=MINIMAL_PDF,
                                 filename=ARABIC_FILENAME, filename_charset="utf-8") -> bytes:
    """multipart/mixed: text/plain windows-1256 (quoted-printable) + application/pdf whose
    filename is RFC 2231-encoded (``filename*=utf-8''...``; Content-Type ``name=`` carries the
    same as an RFC 2047 word). Subject and display name are =?windows-1256?B?...?= words."""
    envelope = _envelope(sender=sender, to=to, cc=cc, subject=subject, date=date,
                         message_id=message_id, in_reply_to=in_reply_to, references=references,
                         charset="windows-1256", enc="B", extra_headers=extra_headers,
                         after=[("X-Mailer", "Microsoft Outlook 16.0")])
    text = _text_part(body, charset="windows-1256", cte=cte)
    pdf = _binary_part(attachment, "application/pdf", filename=filename,
                       filename_charset=filename_charset)
    return _wire(_multipart("mixed", [text, pdf], _boundary("mixed", message_id),
                            envelope=envelope, preamble=_PREAMBLE))


def _charset_builder(charset, enc, cte, *, sender, to, subject, body, message_id, in_reply_to,
                     references, extra_headers, cc, date, mailer=None) -> bytes:
    after = [("X-Mailer", mailer)] if mailer else []
    return _wire(_plain_message(sender=sender, to=to, subject=subject, body=body,
                                message_id=message_id, charset=charset, cte=cte, enc=enc,
                                in_reply_to=in_reply_to, references=references,
                                extra_headers=extra_headers, cc=cc, date=date, after=after))


def chinese_gb2312(*, sender=CHINESE_GB2312_SENDER, to=CLINIC_ADDRESS, subject=CHINESE_GB2312_SUBJECT,
                   body=CHINESE_GB2312_BODY, message_id="<gb2312-1@example.cn>", in_reply_to=None,
                   references=None, extra_headers=None, cc=None, date=DATE, cte="base64") -> bytes:
    """text/plain; charset="gb2312", base64 body, =?gb2312?B?...?= headers (liver transplant)."""
    return _charset_builder("gb2312", "B", cte, sender=sender, to=to, subject=subject, body=body,
                            message_id=message_id, in_reply_to=in_reply_to, references=references,
                            extra_headers=extra_headers, cc=cc, date=date, mailer="Foxmail 7.2.25")


def chinese_gb18030(*, sender=CHINESE_GB18030_SENDER, to=CLINIC_ADDRESS,
                    subject=CHINESE_GB18030_SUBJECT, body=CHINESE_GB18030_BODY,
                    message_id="<gb18030-1@example.cn>", in_reply_to=None, references=None,
                    extra_headers=None, cc=None, date=DATE, cte="base64") -> bytes:
    """text/plain; charset="gb18030", base64; names 喆/玥/堃 and an emoji that GB2312 lacks
    (玥 is b'\\xabh' in GB18030: an ASCII trail byte)."""
    return _charset_builder("gb18030", "B", cte, sender=sender, to=to, subject=subject, body=body,
                            message_id=message_id, in_reply_to=in_reply_to, references=references,
                            extra_headers=extra_headers, cc=cc, date=date)


def russian_koi8r(*, sender=RUSSIAN_SENDER, to=CLINIC_ADDRESS, subject=RUSSIAN_SUBJECT,
                  body=RUSSIAN_BODY, message_id="<koi8r-1@example.ru>", in_reply_to=None,
                  references=None, extra_headers=None, cc=None, date=DATE, cte="8bit") -> bytes:
    """text/plain; charset="koi8-r", raw 8bit body, =?koi8-r?B?...?= headers (brain tumour)."""
    return _charset_builder("koi8-r", "B", cte, sender=sender, to=to, subject=subject, body=body,
                            message_id=message_id, in_reply_to=in_reply_to, references=references,
                            extra_headers=extra_headers, cc=cc, date=date, mailer="The Bat! (v9.4.5)")


def latin1_portuguese(*, sender=PORTUGUESE_SENDER, to=CLINIC_ADDRESS, subject=PORTUGUESE_SUBJECT,
                      body=PORTUGUESE_BODY, message_id="<latin1-1@example.pt>", in_reply_to=None,
                      references=None, extra_headers=None, cc=None, date=DATE,
                      cte="quoted-printable") -> bytes:
    """text/plain; charset="iso-8859-1", quoted-printable, =?iso-8859-1?Q?...?= headers."""
    return _charset_builder("iso-8859-1", "Q", cte, sender=sender, to=to, subject=subject, body=body,
                            message_id=message_id, in_reply_to=in_reply_to, references=references,
                            extra_headers=extra_headers, cc=cc, date=date)


def french_iso8859_15(*, sender=FRENCH_SENDER, to=CLINIC_ADDRESS, subject=FRENCH_SUBJECT,
                      body=FRENCH_BODY, message_id="<latin9-1@example.fr>", in_reply_to=None,
                      references=None, extra_headers=None, cc=None, date=DATE,
                      cte="quoted-printable") -> bytes:
    """text/plain; charset="iso-8859-15", quoted-printable; € is =A4 and œ is =BD (read as
    Latin-1 they would become ¤ and ½)."""
    return _charset_builder("iso-8859-15", "Q", cte, sender=sender, to=to, subject=subject, body=body,
                            message_id=message_id, in_reply_to=in_reply_to, references=references,
                            extra_headers=extra_headers, cc=cc, date=date)


def japanese_iso2022jp(*, sender=JAPANESE_SENDER, to=CLINIC_ADDRESS, subject=JAPANESE_SUBJECT,
                       body=JAPANESE_BODY, message_id="<iso2022jp-1@example.jp>", in_reply_to=None,
                       references=None, extra_headers=None, cc=None, date=DATE, cte="7bit") -> bytes:
    """text/plain; charset="iso-2022-jp", 7bit body (escape sequences), =?iso-2022-jp?B?...?=."""
    return _charset_builder("iso-2022-jp", "B", cte, sender=sender, to=to, subject=subject, body=body,
                            message_id=message_id, in_reply_to=in_reply_to, references=references,
                            extra_headers=extra_headers, cc=cc, date=date)


def mislabeled_charset(*, actual="utf-8", declared="us-ascii", sender=None, to=CLINIC_ADDRESS,
                       subject=None, body=None, message_id="<mislabeled-1@example.org>",
                       in_reply_to=None, references=None, extra_headers=None, cc=None, date=DATE,
                       cte="8bit", raw_headers=True) -> bytes:
    """Body bytes in ``actual`` ("utf-8" or "windows-1256"; any codec works if you pass texts)
    labelled ``charset="<declared>"``; ``declared=None`` gives a bare ``text/plain`` (RFC default:
    us-ascii). With ``raw_headers`` the Subject and From display name are raw 8-bit bytes in
    ``actual`` (no encoded-words), as broken mailers send them. Defaults: MISLABELED_DEFAULTS."""
    default_sender, default_subject, default_body = MISLABELED_DEFAULTS.get(
        actual, MISLABELED_DEFAULTS["utf-8"])
    sender = default_sender if sender is None else sender
    subject = default_subject if subject is None else subject
    body = default_body if body is None else body
    codec = _codec(actual)
    raw = []
    if raw_headers:
        raw = [("From", sender.encode(codec).decode("ascii", "surrogateescape")),
               ("Subject", subject.encode(codec).decode("ascii", "surrogateescape"))]
        envelope = _envelope(sender=None, to=to, cc=cc, subject=None, date=date,
                             message_id=message_id, in_reply_to=in_reply_to, references=references,
                             charset=actual, extra_headers=extra_headers, before=raw)
    else:
        envelope = _envelope(sender=sender, to=to, cc=cc, subject=subject, date=date,
                             message_id=message_id, in_reply_to=in_reply_to, references=references,
                             charset=actual, extra_headers=extra_headers)
    return _wire(_text_part(body, charset=actual, cte=cte, label=declared, envelope=envelope))


def unknown_charset(*, charset=UNKNOWN_CHARSET, actual="utf-8", sender=UNKNOWN_SENDER,
                    to=CLINIC_ADDRESS, subject=UNKNOWN_SUBJECT, body=UNKNOWN_BODY,
                    message_id="<unknown-charset-1@example.es>", in_reply_to=None, references=None,
                    extra_headers=None, cc=None, date=DATE, cte="quoted-printable") -> bytes:
    """``charset="x-unknown-42"`` on the body (quoted-printable of ``actual`` bytes, UTF-8 by
    default) and on the encoded-words of Subject and From (=?x-unknown-42?Q?...?=)."""
    codec = _codec(actual)
    envelope = _envelope(sender=sender, to=to, cc=cc, subject=subject, date=date,
                         message_id=message_id, in_reply_to=in_reply_to, references=references,
                         charset=charset, codec=codec, enc="Q", extra_headers=extra_headers)
    return _wire(_text_part(body, charset=charset, codec=codec, cte=cte, envelope=envelope))


# --------------------------------------------------------------------------------------------
# Builders: HTML and MIME structure
# --------------------------------------------------------------------------------------------


def html_only(*, sender=HTML_ONLY_SENDER, to=CLINIC_ADDRESS, subject=HTML_ONLY_SUBJECT,
              html=HTML_ONLY_HTML, message_id="<html-only-1@example.es>", in_reply_to=None,
              references=None, extra_headers=None, cc=None, date=DATE,
              cte="quoted-printable") -> bytes:
    """A single text/html; charset="utf-8" part (quoted-printable): <style>, two <script>s,
    <img onerror>, a link, entities, <br>. See HTML_ONLY_VISIBLE / HTML_ONLY_HIDDEN."""
    envelope = _envelope(sender=sender, to=to, cc=cc, subject=subject, date=date,
                         message_id=message_id, in_reply_to=in_reply_to, references=references,
                         extra_headers=extra_headers)
    return _wire(_text_part(html, subtype="html", cte=cte, envelope=envelope))


def multipart_alternative(*, sender=ALTERNATIVE_SENDER, to=CLINIC_ADDRESS,
                          subject=ALTERNATIVE_SUBJECT, text=ALTERNATIVE_TEXT, html=ALTERNATIVE_HTML,
                          message_id="<alternative-1@example.es>", in_reply_to=None,
                          references=None, extra_headers=None, cc=None, date=DATE) -> bytes:
    """multipart/alternative: text/plain then text/html, both UTF-8 quoted-printable."""
    envelope = _envelope(sender=sender, to=to, cc=cc, subject=subject, date=date,
                         message_id=message_id, in_reply_to=in_reply_to, references=references,
                         extra_headers=extra_headers)
    parts = [_text_part(text, cte="quoted-printable"),
             _text_part(html, subtype="html", cte="quoted-printable")]
    return _wire(_multipart("alternative", parts, _boundary("alt", message_id), envelope=envelope))


def nested_multipart(*, sender=NESTED_SENDER, to=CLINIC_ADDRESS, subject=NESTED_SUBJECT,
                     text=NESTED_TEXT, html=NESTED_HTML, message_id="<nested-1@clinica-norte.example>",
                     in_reply_to=None, references=None, extra_headers=None, cc=None, date=DATE,
                     image=TINY_PNG, attachment=TINY_JPEG) -> bytes:
    """multipart/mixed[ multipart/related[ multipart/alternative[text/plain, text/html],
    image/png inline (Content-ID <NESTED_CID>, logo.png) ], image/jpeg attachment
    (radiografia_torax.jpg) ]."""
    envelope = _envelope(sender=sender, to=to, cc=cc, subject=subject, date=date,
                         message_id=message_id, in_reply_to=in_reply_to, references=references,
                         extra_headers=extra_headers)
    alternative = _multipart("alternative", [_text_part(text, cte="quoted-printable"),
                                             _text_part(html, subtype="html", cte="quoted-printable")],
                             _boundary("alt", message_id))
    inline = _binary_part(image, "image/png", filename=NESTED_IMAGE_FILENAME, disposition="inline",
                          cid=NESTED_CID)
    related = _multipart("related", [alternative, inline], _boundary("rel", message_id),
                         params='type="multipart/alternative"')
    jpeg = _binary_part(attachment, "image/jpeg", filename=NESTED_ATTACHMENT_FILENAME)
    return _wire(_multipart("mixed", [related, jpeg], _boundary("mixed", message_id),
                            envelope=envelope, preamble=_PREAMBLE))


def _forwarded_inner(inner_sender, inner_subject, inner_body, inner_message_id) -> EmailMessage:
    return _plain_message(sender=inner_sender, to=FORWARDED_INNER_TO, subject=inner_subject,
                          body=inner_body, message_id=inner_message_id, date=FORWARDED_INNER_DATE,
                          cte="quoted-printable")


def forwarded(*, sender=PHYSICIAN_SENDER, to=CLINIC_ADDRESS, subject=FORWARDED_SUBJECT,
              body=FORWARDED_BODY, message_id="<forward-1@clinica-sevilla.example>",
              inner_sender=FORWARDED_INNER_SENDER, inner_subject=FORWARDED_INNER_SUBJECT,
              inner_body=FORWARDED_INNER_BODY, inner_message_id=FORWARDED_INNER_MESSAGE_ID,
              in_reply_to=None, references=None, extra_headers=None, cc=None, date=DATE) -> bytes:
    """multipart/mixed: the physician's note (text/plain) + message/rfc822 attachment
    ("<inner_subject>.eml", RFC 2231 filename) holding the patient's own message with its own
    From/To/Subject/Date/Message-ID."""
    envelope = _envelope(sender=sender, to=to, cc=cc, subject=subject, date=date,
                         message_id=message_id, in_reply_to=in_reply_to, references=references,
                         extra_headers=extra_headers)
    note = _text_part(body, cte="quoted-printable")
    inner = _forwarded_inner(inner_sender, inner_subject, inner_body, inner_message_id)
    name_param, filename_param = _filename_params(f"{inner_subject}.eml", "utf-8")
    attached = _new([("Content-Type", f"message/rfc822;\n {name_param}"),
                     ("Content-Transfer-Encoding", "7bit"),
                     ("Content-Disposition", f"attachment;\n {filename_param}")])
    attached.set_payload([inner])
    return _wire(_multipart("mixed", [note, attached], _boundary("mixed", message_id),
                            envelope=envelope, preamble=_PREAMBLE))


def forwarded_inline(*, sender=PHYSICIAN_SENDER, to=CLINIC_ADDRESS, subject=FORWARDED_SUBJECT,
                     body=FORWARDED_BODY, message_id="<forward-inline-1@clinica-sevilla.example>",
                     inner_sender=FORWARDED_INNER_SENDER, inner_subject=FORWARDED_INNER_SUBJECT,
                     inner_body=FORWARDED_INNER_BODY, in_reply_to=None, references=None,
                     extra_headers=None, cc=None, date=DATE) -> bytes:
    """Gmail-style inline forward: one text/plain part = note, blank line, FORWARDED_INLINE_MARKER,
    From/Date/Subject/To lines, two blank lines, the patient's text. See forwarded_inline_text()."""
    envelope = _envelope(sender=sender, to=to, cc=cc, subject=subject, date=date,
                         message_id=message_id, in_reply_to=in_reply_to, references=references,
                         extra_headers=extra_headers)
    text = forwarded_inline_text(body=body, inner_sender=inner_sender, inner_subject=inner_subject,
                                 inner_body=inner_body)
    return _wire(_text_part(text, cte="quoted-printable", envelope=envelope))


def forwarded_inline_text(*, body=FORWARDED_BODY, inner_sender=FORWARDED_INNER_SENDER,
                          inner_subject=FORWARDED_INNER_SUBJECT,
                          inner_body=FORWARDED_INNER_BODY) -> str:
    """The decoded text of forwarded_inline() for the same arguments."""
    return (f"{body}\n\n{FORWARDED_INLINE_MARKER}\n"
            f"From: {inner_sender}\n"
            f"Date: Fri, 27 Feb 2026 at 18:42\n"
            f"Subject: {inner_subject}\n"
            f"To: {FORWARDED_INNER_TO}\n\n\n"
            f"{inner_body}")


def auto_reply(*, in_reply_to=OUTBOUND_MESSAGE_ID, sender=AUTO_REPLY_SENDER, to=CLINIC_ADDRESS,
               subject=AUTO_REPLY_SUBJECT, body=AUTO_REPLY_BODY,
               message_id="<autoreply-1@example.org>", references=None, extra_headers=None,
               cc=None, date=DATE) -> bytes:
    """RFC 3834 auto-reply: ``Auto-Submitted: auto-replied`` (+ Exchange's
    ``X-Auto-Response-Suppress: All``), In-Reply-To and References = ``in_reply_to``."""
    references = in_reply_to if references is None else references
    return _wire(_plain_message(sender=sender, to=to, subject=subject, body=body,
                                message_id=message_id, in_reply_to=in_reply_to,
                                references=references, extra_headers=extra_headers, cc=cc,
                                date=date, cte="quoted-printable",
                                after=[("Auto-Submitted", "auto-replied"),
                                       ("X-Auto-Response-Suppress", "All")]))


def auto_reply_precedence(*, in_reply_to=OUTBOUND_MESSAGE_ID, sender=AUTO_REPLY_SENDER,
                          to=CLINIC_ADDRESS, subject=AUTO_REPLY_PRECEDENCE_SUBJECT,
                          body=AUTO_REPLY_PRECEDENCE_BODY, message_id="<autoreply-2@example.org>",
                          references=None, extra_headers=None, cc=None, date=DATE) -> bytes:
    """Old-style vacation reply: ``Precedence: auto_reply`` and ``X-Autoreply: yes``, no
    Auto-Submitted header."""
    references = in_reply_to if references is None else references
    return _wire(_plain_message(sender=sender, to=to, subject=subject, body=body,
                                message_id=message_id, in_reply_to=in_reply_to,
                                references=references, extra_headers=extra_headers, cc=cc,
                                date=date, cte="quoted-printable",
                                after=[("Precedence", "auto_reply"), ("X-Autoreply", "yes")]))


def _angle(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def bounce(*, original_message_id=OUTBOUND_MESSAGE_ID, recipient="ana.perez@example.org",
           original_sender=CLINIC_ADDRESS, original_subject=BOUNCE_ORIGINAL_SUBJECT,
           message_id="<20260302082003.4R2xYz1234@mx.itinera.example>", sender=BOUNCE_SENDER,
           to=CLINIC_ADDRESS, subject=BOUNCE_SUBJECT, date="Mon, 02 Mar 2026 09:20:03 +0100",
           action="failed", status="5.1.1", diagnostic_code=None,
           reporting_mta="mx.itinera.example", remote_mta="mx.example.org",
           returned="headers", extra_headers=None) -> bytes:
    """Postfix-style DSN: multipart/report; report-type=delivery-status from MAILER-DAEMON
    (``Return-Path: <>``, ``Auto-Submitted: auto-replied``) with 3 parts: text/plain notice,
    message/delivery-status (per-message block: Reporting-MTA...; per-recipient block:
    Final-Recipient: rfc822; <recipient>, Action, Status, Remote-MTA, Diagnostic-Code), then the
    original: ``returned="headers"`` -> text/rfc822-headers, ``"message"`` -> message/rfc822.
    The original carries ``Message-ID: <original_message_id>`` (angle brackets added if absent)."""
    original_id = _angle(original_message_id)
    diagnostic_code = diagnostic_code or (
        f"smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown in virtual"
        " mailbox table")
    envelope = _envelope(sender=sender, to=to, subject=subject, date=date, message_id=message_id,
                         extra_headers=extra_headers, before=[("Return-Path", "<>")],
                         after=[("Auto-Submitted", "auto-replied")])
    notice = _text_part(
        f"This is the mail system at host {reporting_mta}.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "For further assistance, please send mail to postmaster.\n\n"
        "If you do so, please include this problem report. You can\n"
        "delete your own text from the attached returned message.\n\n"
        "                   The mail system\n\n"
        f"<{recipient}>: host {remote_mta}[198.51.100.25] said: 550 {status}\n"
        f"    <{recipient}>: Recipient address rejected: User unknown in virtual mailbox\n"
        "    table (in reply to RCPT TO command)",
        charset="us-ascii", cte="7bit", headers=[("Content-Description", "Notification")])
    per_message = _new([("Reporting-MTA", f"dns; {reporting_mta}"),
                        ("X-Postfix-Queue-ID", "4R2xYz1234"),
                        ("X-Postfix-Sender", f"rfc822; {original_sender}"),
                        ("Arrival-Date", "Mon,  2 Mar 2026 09:20:01 +0100 (CET)")])
    per_recipient = _new([("Final-Recipient", f"rfc822; {recipient}"),
                          ("Original-Recipient", f"rfc822;{recipient}"),
                          ("Action", action),
                          ("Status", status),
                          ("Remote-MTA", f"dns; {remote_mta}"),
                          ("Diagnostic-Code", _fold("Diagnostic-Code", diagnostic_code.split(" ")))])
    report = _new([("Content-Description", "Delivery report"),
                   ("Content-Type", "message/delivery-status")])
    report.set_payload([per_message, per_recipient])
    original = _plain_message(
        sender=original_sender, to=recipient, subject=original_subject, body=BOUNCE_ORIGINAL_BODY,
        message_id=original_id, date="Mon, 02 Mar 2026 09:20:00 +0100", in_reply_to="<plain-1@example.org>",
        references="<plain-1@example.org>", cte="quoted-printable",
        before=[("Return-Path", f"<{original_sender}>"),
                ("Received", f"from app.itinera.example (app.itinera.example [192.0.2.10])\n"
                             f"\tby {reporting_mta} (Postfix) with ESMTPS id 4R2xYz1234\n"
                             f"\tfor <{recipient}>; Mon,  2 Mar 2026 09:20:01 +0100 (CET)")])
    if returned == "headers":
        head = _wire(original).split(b"\r\n\r\n", 1)[0].decode("ascii") + "\r\n"
        returned_part = _new([("Content-Description", "Undelivered Message Headers"),
                              ("Content-Type", "text/rfc822-headers")])
        returned_part.set_payload(head)
    elif returned == "message":
        returned_part = _new([("Content-Description", "Undelivered Message"),
                              ("Content-Type", "message/rfc822")])
        returned_part.set_payload([original])
    else:
        raise ValueError("returned must be 'headers' or 'message'")
    return _wire(_multipart("report", [notice, report, returned_part], _boundary("report", message_id),
                            params="report-type=delivery-status", envelope=envelope,
                            preamble="This is a MIME-encapsulated message."))


# --------------------------------------------------------------------------------------------
# Builders: missing / broken / hostile
# --------------------------------------------------------------------------------------------


def no_message_id(*, sender=NO_MESSAGE_ID_SENDER, to=CLINIC_ADDRESS, subject=NO_MESSAGE_ID_SUBJECT,
                  body=NO_MESSAGE_ID_BODY, in_reply_to=None, references=None, extra_headers=None,
                  cc=None, date=DATE) -> bytes:
    """A normal UTF-8 text/plain message without a Message-ID header."""
    return plain(sender=sender, to=to, subject=subject, body=body, message_id=None,
                 in_reply_to=in_reply_to, references=references, extra_headers=extra_headers,
                 cc=cc, date=date)


def garbage(kind: str = "binary") -> bytes:
    """Not an email: ``"binary"`` 4 KiB of deterministic pseudo-random bytes, ``"png"`` TINY_PNG,
    ``"pdf"`` MINIMAL_PDF."""
    if kind == "png":
        return TINY_PNG
    if kind == "pdf":
        return MINIMAL_PDF
    if kind != "binary":
        raise ValueError("kind must be 'binary', 'png' or 'pdf'")
    blocks, seed = [], b"itinera-garbage"
    while sum(map(len, blocks)) < 4096:
        seed = hashlib.sha256(seed).digest()
        blocks.append(seed)
    return b"\xff\xfe\x00" + b"".join(blocks)[:4093]


def empty() -> bytes:
    return b""


def headers_only_broken(*, message_id="<broken-1@example.org>") -> bytes:
    """Header lines only (no blank line, no body), all mangled: no From, an unterminated
    encoded-word Subject, a nonsense Date, binary junk (NUL, 0xFF, lone UTF-8 lead byte, ESC),
    an unterminated quoted Content-Type param, a line without a colon, then one more header.
    ``message_id=None`` leaves out the only sane header."""
    lines = [
        b"Received: from ??? (unknown [203.0.113.66])",
        b"Subject: =?utf-8?B?U2VndW5kYSBvcGluacOz",
        b"To: international@itinera.example",
        b"Date: Yesterday, 32 Foo 20XX 99:99:99 +9999",
    ]
    if message_id is not None:
        lines.append(b"Message-ID: " + message_id.encode("ascii"))
    lines += [
        b"X-Binary-Junk: \x00\x01\xff\xfe\x80\x9b\xc3\x28\x1b[31mred\x7f",
        b'Content-Type: text/plain; charset="utf-8',
        b"Content-Transfer-Encoding: base64",
        b"This header line has no colon at all",
        b"X-After-Broken-Line: still a header?",
    ]
    return b"\r\n".join(lines) + b"\r\n"


def huge_subject(size: int = HUGE_HEADER_SIZE) -> str:
    """The exact Subject text of huge_header(size=size): ASCII words, ``size`` characters."""
    base = "Solicitud urgente de segunda opinion medica para mi padre. "
    text = (base * (size // len(base) + 1))[:size]
    return text[:-1] + "." if text.endswith(" ") else text


def huge_header(*, size=HUGE_HEADER_SIZE, folded=False, sender=PLAIN_SENDER, to=CLINIC_ADDRESS,
                body="Mensaje con un asunto enorme.", message_id="<huge-header-1@example.org>",
                date=DATE) -> bytes:
    """A text/plain message whose Subject is huge_subject(size) (100 000 chars): one physical
    line by default (RFC 5322 caps lines at 998), or folded at spaces with ``folded=True``."""
    subject = huge_subject(size)
    envelope = _envelope(sender=sender, to=to, subject=None, date=date, message_id=message_id)
    envelope.insert(1, ("Subject", _fold("Subject", subject.split(" ")) if folded else subject))
    return _wire(_text_part(body, cte="quoted-printable", envelope=envelope))


def nul_bytes(*, sender=NUL_SENDER, to=CLINIC_ADDRESS, subject=NUL_SUBJECT, body=NUL_BODY,
              message_id="<nul-1@example.es>", cte="8bit", nul_in_subject=False, date=DATE) -> bytes:
    """text/plain UTF-8 whose body contains NUL bytes (raw on the wire with ``cte="8bit"``, or
    after decoding with "base64"/"quoted-printable"). ``nul_in_subject=True`` makes the Subject
    ``=?utf-8?Q?Resultados=00_del_an=C3=A1lisis?=`` (decodes to "Resultados\\x00 del análisis")."""
    if nul_in_subject:
        subject = subject.replace(" ", "\x00 ", 1)
    return plain(sender=sender, to=to, subject=subject, body=body, message_id=message_id,
                 cte=cte, date=date)


# --------------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------------

_FALLBACK_FROM_LINE_DATE = "Mon Mar  2 08:15:00 2026"


def _from_line(message: bytes) -> bytes:
    head = message.split(b"\n\n", 1)[0]
    sender = b"MAILER-DAEMON"
    match = re.search(rb"(?mi)^From:[^\n]*?<([^<>\s]+@[^<>\s]+)>", head) or \
        re.search(rb"(?mi)^From:[ \t]*([^<>\s]+@[^<>\s]+)", head)
    if match:
        sender = match.group(1)
    when = _FALLBACK_FROM_LINE_DATE
    date = re.search(rb"(?mi)^Date:[ \t]*([^\n]*)", head)
    if date:
        try:
            moment = parsedate_to_datetime(date.group(1).decode("latin-1").strip())
            if moment.tzinfo is not None:
                moment = moment.astimezone(timezone.utc)
            when = f"{moment:%a %b} {moment.day:2d} {moment:%H:%M:%S %Y}"
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return b"From " + sender + b" " + when.encode("ascii") + b"\n"


def mbox(messages: Iterable[bytes]) -> bytes:
    """An mbox file's content: per message a ``From <envelope sender> <asctime UTC of Date>``
    line (MAILER-DAEMON / a fixed date when missing), the message with CRLF -> LF and
    mboxrd quoting (a line matching ``>*From `` gets one more ``>``), a final newline and a blank
    separator line. ``mailbox.mbox`` reads it back (it does not un-quote ``>From``)."""
    out = bytearray()
    for raw in messages:
        message = bytes(raw).replace(b"\r\n", b"\n")
        out += _from_line(message)
        message = re.sub(rb"(?m)^(>*From )", rb">\1", message)
        if message and not message.endswith(b"\n"):
            message += b"\n"
        out += message + b"\n"
    return bytes(out)


def write_maildir(path, messages: Iterable[bytes], *, lf: bool = True) -> list[str]:
    """Create a Maildir at ``path`` (cur/new/tmp) with each message delivered to new/ through
    ``mailbox.Maildir.add``; CRLF -> LF unless ``lf=False``. Returns the keys, in order."""
    box = mailbox.Maildir(os.fspath(path), create=True)
    try:
        return [box.add(bytes(raw).replace(b"\r\n", b"\n") if lf else bytes(raw)) for raw in messages]
    finally:
        box.close()


# --------------------------------------------------------------------------------------------
# Expectations and the catalogue
# --------------------------------------------------------------------------------------------

_EXPECTED = {
    "plain": Expected(PLAIN_SUBJECT, PLAIN_BODY),
    "arabic_windows_1256_with_pdf": Expected(ARABIC_SUBJECT, ARABIC_BODY),
    "chinese_gb2312": Expected(CHINESE_GB2312_SUBJECT, CHINESE_GB2312_BODY),
    "chinese_gb18030": Expected(CHINESE_GB18030_SUBJECT, CHINESE_GB18030_BODY),
    "russian_koi8r": Expected(RUSSIAN_SUBJECT, RUSSIAN_BODY),
    "latin1_portuguese": Expected(PORTUGUESE_SUBJECT, PORTUGUESE_BODY),
    "french_iso8859_15": Expected(FRENCH_SUBJECT, FRENCH_BODY),
    "japanese_iso2022jp": Expected(JAPANESE_SUBJECT, JAPANESE_BODY),
    "mislabeled_charset": Expected(MISLABELED_SUBJECT, MISLABELED_BODY),
    "unknown_charset": Expected(UNKNOWN_SUBJECT, UNKNOWN_BODY),
    "html_only": Expected(HTML_ONLY_SUBJECT, HTML_ONLY_HTML),
    "multipart_alternative": Expected(ALTERNATIVE_SUBJECT, ALTERNATIVE_TEXT),
    "nested_multipart": Expected(NESTED_SUBJECT, NESTED_TEXT),
    "forwarded": Expected(FORWARDED_SUBJECT, FORWARDED_BODY),
    "forwarded_inline": Expected(FORWARDED_SUBJECT, forwarded_inline_text()),
    "auto_reply": Expected(AUTO_REPLY_SUBJECT, AUTO_REPLY_BODY),
    "auto_reply_precedence": Expected(AUTO_REPLY_PRECEDENCE_SUBJECT, AUTO_REPLY_PRECEDENCE_BODY),
    "no_message_id": Expected(NO_MESSAGE_ID_SUBJECT, NO_MESSAGE_ID_BODY),
    "nul_bytes": Expected(NUL_SUBJECT, NUL_BODY),
    "huge_header": Expected(huge_subject(), "Mensaje con un asunto enorme."),
}


def expected(name: str) -> Expected:
    """Expected(subject, body) of builder ``name`` called with its defaults (KeyError otherwise)."""
    return _EXPECTED[name]


def all_samples() -> dict[str, bytes]:
    """Every builder's default output by name, plus a few notable variants."""
    return {
        "plain": plain(),
        "plain_iso8859_1": plain(charset="iso-8859-1", message_id="<plain-2@example.org>"),
        "arabic_windows_1256_with_pdf": arabic_windows_1256_with_pdf(),
        "chinese_gb2312": chinese_gb2312(),
        "chinese_gb18030": chinese_gb18030(),
        "russian_koi8r": russian_koi8r(),
        "latin1_portuguese": latin1_portuguese(),
        "french_iso8859_15": french_iso8859_15(),
        "japanese_iso2022jp": japanese_iso2022jp(),
        "mislabeled_charset": mislabeled_charset(),
        "mislabeled_charset_windows_1256": mislabeled_charset(actual="windows-1256", declared=None),
        "unknown_charset": unknown_charset(),
        "html_only": html_only(),
        "multipart_alternative": multipart_alternative(),
        "nested_multipart": nested_multipart(),
        "forwarded": forwarded(),
        "forwarded_inline": forwarded_inline(),
        "auto_reply": auto_reply(),
        "auto_reply_precedence": auto_reply_precedence(),
        "bounce": bounce(),
        "bounce_full_message": bounce(returned="message"),
        "no_message_id": no_message_id(),
        "garbage": garbage(),
        "garbage_png": garbage("png"),
        "empty": empty(),
        "headers_only_broken": headers_only_broken(),
        "huge_header": huge_header(),
        "nul_bytes": nul_bytes(),
        "nul_in_subject": nul_bytes(nul_in_subject=True, message_id="<nul-2@example.es>"),
    }
