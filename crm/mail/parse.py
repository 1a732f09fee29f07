"""Reading real-world mail: any charset, encoded headers, nested multiparts, HTML-only mail,
forwarded messages, attachments, auto-replies and delivery reports. Never raises on bad mail:
what cannot be read is reported as ``ParsedMail.problem``."""
from __future__ import annotations

import codecs
import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

import html2text
from charset_normalizer import from_bytes

#: Lenient and fast: the legacy policy never raises on a defect and parses headers only when
#: asked (five times faster than ``policy.default`` on real mail); ``header`` decodes them.
POLICY = email.policy.compat32
#: Labels that real mail uses for a wider charset than it names.
CHARSET_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
                     "iso-8859-1": "windows-1252", "latin1": "windows-1252", "latin-1": "windows-1252",
                     "ks_c_5601-1987": "cp949", "iso-8859-8-i": "iso-8859-8", "tis-620": "cp874",
                     "windows-874": "cp874", "x-mac-arabic": "mac-arabic"}
AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk", "list"}
MAX_DEPTH = 4


@dataclass
class Attachment:
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    """What ingestion needs from one message."""

    message_id: str | None = None
    from_name: str = ""
    from_addr: str = ""
    recipients: list[str] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    language: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    is_auto_reply: bool = False
    #: A delivery report: the addresses that failed and the Message-ID of our mail that bounced.
    is_bounce: bool = False
    bounced_addresses: list[str] = field(default_factory=list)
    bounced_message_id: str | None = None
    #: Why the message cannot be used (then it goes to the quarantine).
    problem: str | None = None


def message_key(raw: bytes, message_id: str | None) -> str:
    """One key per message: its Message-ID, else a digest of its bytes."""
    return (message_id or f"<sha256:{hashlib.sha256(raw).hexdigest()}>")[:255]


def parse(raw: bytes) -> ParsedMail:
    """Parse one raw RFC 5322 message."""
    out = ParsedMail()
    if not raw or not raw.strip():
        out.problem = "empty message"
        return out
    try:
        msg = email.message_from_bytes(raw, policy=POLICY)
    except Exception as error:  # noqa: BLE001 - the parser is lenient; this is a last resort
        out.problem = f"unreadable: {type(error).__name__}"
        return out
    out.message_id = _message_id(header(msg, "Message-ID"))
    out.from_name, out.from_addr = _address(header(msg, "From"))
    if not out.from_addr or "@" not in out.from_addr:
        if not msg.keys() or not any(k.lower() in ("subject", "to", "date", "from") for k in msg.keys()):
            out.problem = "not an email: no headers"
        else:
            out.problem = "no sender address"
        return out
    out.recipients = [addr.lower() for name, addr in getaddresses(
        [header(msg, h) for h in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")])
        if addr]
    out.subject = " ".join(header(msg, "Subject").split())[:300]
    out.in_reply_to = _message_ids(header(msg, "In-Reply-To") + " " + header(msg, "References"))
    language = header(msg, "Content-Language").split(",")[0].strip()
    out.language = language or None
    out.is_auto_reply = _is_auto(msg)
    if msg.get_content_type() == "multipart/report" and \
            (msg.get_param("report-type") or "").lower() == "delivery-status":
        _read_report(msg, out)
    body, attachments = [], []
    _walk(msg, body, attachments, depth=0)
    out.text = "\n\n".join(t for t in body if t.strip()).strip()
    out.attachments = attachments
    return out


def header(msg: Message, name: str) -> str:
    """A header as text, decoded from RFC 2047 or raw 8-bit bytes whatever their charset;
    '' when absent."""
    wanted = name.lower()
    value = next((v for k, v in msg.raw_items() if k.lower() == wanted), None)
    if value is None:
        return ""
    text = str(value)
    if any("\udc80" <= c <= "\udcff" for c in text):  # raw 8-bit bytes in a header
        text = decode_bytes(text.encode("ascii", "surrogateescape"))
    if "=?" in text:
        text = decode_words(text)
    return " ".join(text.replace("\x00", "").split())


def decode_words(text: str) -> str:
    """RFC 2047 encoded-words decoded, each in its charset, whatever that charset is."""
    try:
        chunks = [(decode_bytes(chunk, (charset or "").lower()).encode("utf-8"), "utf-8")
                  if isinstance(chunk, bytes) and charset else (chunk, charset)
                  for chunk, charset in decode_header(text)]
        return str(make_header(chunks))
    except Exception:  # noqa: BLE001 - a malformed word stays as it was written
        return text


def _message_id(value: str) -> str | None:
    ids = _message_ids(value)
    return ids[0] if ids else (value.strip()[:255] or None)


def _message_ids(value: str) -> list[str]:
    return [m[:255] for m in re.findall(r"<[^<>\s]+>", value or "")]


def _address(value: str) -> tuple[str, str]:
    name, addr = parseaddr(value or "")
    return " ".join(name.split())[:200], addr.strip().lower()[:254]


def _is_auto(msg: Message) -> bool:
    auto = header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if header(msg, "X-Autoreply") or header(msg, "X-Autorespond") or header(msg, "X-Auto-Reply"):
        return True
    return header(msg, "Precedence").lower() in AUTO_PRECEDENCE


def _read_report(msg: Message, out: ParsedMail) -> None:
    """A delivery status notification (RFC 3464): who failed, and which of our messages. A
    report of a delay or of a delivery is only an automatic message."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status" and part.is_multipart():
            for block in part.get_payload():
                action = (block.get("Action") or "").strip().lower()
                recipient = block.get("Final-Recipient") or block.get("Original-Recipient") or ""
                if action == "failed" and recipient:
                    out.bounced_addresses.append(recipient.split(";")[-1].strip().strip("<>").lower())
        elif ctype in ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers"):
            if ctype == "message/rfc822" and part.is_multipart():
                inner = part.get_payload(0)
            else:
                inner = email.message_from_bytes(part.get_payload(decode=True) or b"", policy=POLICY)
            out.bounced_message_id = _message_id(header(inner, "Message-ID"))
    out.is_bounce = bool(out.bounced_addresses)
    out.is_auto_reply = out.is_auto_reply or not out.is_bounce


def _walk(part: Message, body: list[str], attachments: list[Attachment], depth: int) -> None:
    """Collect the readable text and the attachments of ``part``, recursively."""
    if depth > MAX_DEPTH:
        return
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        for inner in part.get_payload() if part.is_multipart() else []:
            body.append(_forward_header(inner))
            _walk(inner, body, attachments, depth + 1)
        return
    if part.is_multipart():
        children = part.get_payload()
        if ctype == "multipart/alternative":
            children = _best_alternative(children)
        elif ctype == "multipart/report":
            children = children[:1]  # the human-readable part; the rest is read by _read_report
        for child in children:
            _walk(child, body, attachments, depth + 1)
        return
    filename = _filename(part)
    disposition = (part.get_content_disposition() or "").lower()
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = decode_text(part)
        body.append(html_to_text(text) if ctype == "text/html" else text)
        return
    data = part.get_payload(decode=True) or b""
    if data:
        attachments.append(Attachment(filename, ctype, data))


def _best_alternative(children: list[Message]) -> list[Message]:
    """Of an alternative, the plain text when there is one with words, else the richest."""
    for child in children:
        if child.get_content_type() == "text/plain" and decode_text(child).strip():
            return [child]
    return children[-1:]


def _forward_header(inner: Message) -> str:
    parts = [f"{label}: {header(inner, name)}" for label, name in
             (("From", "From"), ("Date", "Date"), ("Subject", "Subject")) if header(inner, name)]
    return "---------- Forwarded message ----------\n" + "\n".join(parts)


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if name and "=?" in name:
        name = decode_words(name)
    return name or None


def decode_text(part: Message) -> str:
    """A text part's characters, whatever charset it declares (or misdeclares)."""
    data = part.get_payload(decode=True) or b""
    declared = (part.get_content_charset() or "").lower()
    return decode_bytes(data, declared)


def decode_bytes(data: bytes, declared: str = "") -> str:
    charset = CHARSET_SUPERSETS.get(declared, declared)
    candidates = [charset] if charset and charset not in ("us-ascii", "ascii") else []
    candidates += ["utf-8"]
    for name in candidates:
        try:
            codecs.lookup(name)
            return data.decode(name).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            continue
    best = from_bytes(data).best()
    if best is not None:
        return str(best).replace("\x00", "")
    return data.decode("utf-8", errors="replace").replace("\x00", "")


def html_to_text(html: str) -> str:
    """HTML mail as plain text: scripts, styles and markup dropped, links kept as text."""
    converter = html2text.HTML2Text()
    converter.ignore_images, converter.ignore_emphasis, converter.body_width = True, True, 0
    converter.unicode_snob, converter.single_line_break = True, True
    try:
        text = converter.handle(html)
    except Exception:  # noqa: BLE001 - broken HTML still gives its words
        text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
