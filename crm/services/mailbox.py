"""Mail in: one way for every entry point (files, IMAP, the API). Each message is stored whole,
then opens an inquiry, joins its thread, or is recorded as automatic mail; what cannot be read
waits in the quarantine. Nothing received is ever lost, nothing is taken twice."""
from __future__ import annotations

import gc
import imaplib
import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, islice
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..mail import archive
from ..mail.parse import ParsedMail, message_key, parse
from ..mail.render import render
from ..models import InboundMail, Inquiry, Message, Patient
from ..models.base import give_ids, utcnow, write_new_rows
from ..models.mail import CREATED, DUPLICATE, IGNORED, INBOUND_OUTCOMES, REJECTED, THREADED
from . import audit, conversation, outbox, portal_links, routing, uploads
from .duplicates import surviving_patient
from .errors import DomainError
from .intake import REASON_MAX, find_patient_by_email, open_inquiry
from .language import guess_language

log = logging.getLogger(__name__)
BATCH = 200
TAKEN_FLAG = "$ItineraTaken"


@dataclass
class Summary:
    """What ``crm mail ingest`` prints: one count per outcome."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(INBOUND_OUTCOMES, 0))

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1

    def as_dict(self) -> dict[str, int]:
        return {"created": self.counts[CREATED], "threaded": self.counts[THREADED],
                "duplicates": self.counts[DUPLICATE], "ignored": self.counts[IGNORED],
                "rejected": self.counts[REJECTED]}


@dataclass
class _Item:
    """One message as read: its bytes, what parsing found, its key."""

    raw: bytes
    parsed: ParsedMail
    key: str

    @cached_property
    def text_language(self) -> str:
        """The language its words are written in (for a sender who does not declare one)."""
        return guess_language(f"{self.parsed.subject}\n{self.parsed.text}")


def _read(raw: bytes) -> _Item:
    parsed = parse(raw)
    return _Item(raw, parsed, message_key(raw, parsed.message_id))


def _read_ahead(raws: list[bytes]) -> list[_Item]:
    """A batch read in the second process, its languages guessed there too."""
    items = list(map(_read, raws))
    for item in items:
        if item.parsed.language is None:
            item.text_language  # noqa: B018 - computed here, on the other core
    return items


def ingest(raw: bytes, *, source: str) -> str:
    """Take one raw message; returns its outcome (see ``_take``). Flushes."""
    return _take([_read(raw)], source=source)[0]


def _take(items: list[_Item], *, source: str, helper: ProcessPoolExecutor | None = None,
          acknowledge: bool = True) -> list[str]:
    """Take messages, in order; returns their outcomes. They are written together, in one
    savepoint: if anything fails, each is taken again alone, so that a failure of any kind only
    ever leaves the message that caused it in the quarantine, never lost, never half-applied.
    Flushes. ``helper``: a second process that renders the acknowledgements meanwhile;
    ``acknowledge``: whether each new case's patient is answered at once (not for an old archive)."""
    try:
        with db.session.begin_nested():
            return _Batch(source, items, helper, acknowledge=acknowledge).take_all()
    except Exception as error:  # noqa: BLE001 - any bug still keeps every message whole
        if len(items) > 1:
            log.warning("a batch of %d messages failed (%s): taking them one by one", len(items),
                        type(error).__name__)
            return [_take([item], source=source, helper=helper, acknowledge=acknowledge)[0] for item in items]
        return [_quarantine(items[0].raw, items[0].key, source, error)]


def _quarantine(raw: bytes, key: str, source: str, error: Exception) -> str:
    if isinstance(error, IntegrityError):
        if db.session.scalar(select(InboundMail.id).where(InboundMail.message_key == key)) is not None:
            return DUPLICATE  # another poller took it a moment ago
        reason = "could not be stored: integrity error"
    else:
        log.error("mail %s could not be ingested", key[:40], exc_info=error)
        reason = f"could not be processed: {type(error).__name__}"
    with db.session.begin_nested():
        db.session.add(InboundMail(message_key=key, source=source, outcome=REJECTED, reason=reason,
                                   size=len(raw), raw=raw, received_at=utcnow()))
    return REJECTED


def read_again(record: InboundMail) -> str:
    """A quarantined message read again (after a fix): it leaves the quarantine if it can now be
    read, else it stays, once. Flushes."""
    raw = record.raw
    db.session.delete(record)
    db.session.flush()
    return ingest(raw, source="file")


class _Batch:
    """Messages being taken together. What the batch learns as it goes (its senders, the cases
    it opens, the Message-IDs it files) answers the questions of the messages after it without
    writing anything first: the batch's new cases are written at once, then acknowledged."""

    def __init__(self, source: str, items: list[_Item], helper: ProcessPoolExecutor | None = None, *,
                 acknowledge: bool = True) -> None:
        self.source, self.items, self.helper, self.acknowledge = source, items, helper, acknowledge
        self.own_address = _own_address()
        self.routing = routing.Context()
        self.opened: list[Inquiry] = []
        self.taken = set(_existing(InboundMail.message_key, [item.key for item in items]))
        #: email (lower case) -> the surviving patient with that address, or None
        senders = {item.parsed.from_addr.lower() for item in items if item.parsed.from_addr}
        self.patients: dict[str, Patient | None] = dict.fromkeys(senders)
        for patient in _existing(Patient, senders, column=Patient.email_lower, order_by=Patient.id.desc()):
            self.patients[patient.email_lower] = patient  # the oldest record of an address wins
        for email, patient in self.patients.items():
            self.patients[email] = surviving_patient(patient)
        #: patient -> their newest open inquiry, or None
        self.open_cases: dict[Patient, Inquiry | None] = {}
        known = {p.id: p for p in self.patients.values() if p is not None}
        for inquiry in _existing(Inquiry, list(known), column=Inquiry.patient_id,
                                 where=Inquiry.stage != "closed", order_by=Inquiry.created_at,
                                 options=[selectinload(Inquiry.tasks)]):
            self.open_cases[known[inquiry.patient_id]] = inquiry
        self.open_cases.update({p: None for p in known.values() if p not in self.open_cases})
        #: Message-ID -> (rank, inquiry or its id): the newest message with that id wins
        self.threads: dict[str, tuple[int, Inquiry | int]] = {}
        answered = {mid for item in items for mid in item.parsed.in_reply_to[-50:]}
        for message_id, inquiry_id, rank in _existing(
                (Message.message_id, Message.inquiry_id, Message.id), answered,
                column=Message.message_id, order_by=Message.id):
            self.threads[message_id] = (rank, inquiry_id)
        self.rank = 2 ** 62  # above every message written before the batch
        #: message key -> the case its signed reply address names, if any
        self.tokens = {item.key: outbox.inquiry_id_from_token(
            " ".join(item.parsed.recipients + [item.parsed.subject])) for item in items}
        # the cases answered, read now: looking one up later would write the batch so far first
        wanted = ({i for _rank, i in self.threads.values()} | set(self.tokens.values())) - {None}
        self.answered = {i.id: i for i in _existing(Inquiry, wanted, column=Inquiry.id,
                                                    options=[selectinload(Inquiry.tasks)])}

    def take_all(self) -> list[str]:
        outcomes = [self.take(item) for item in self.items]
        if self.opened and self.acknowledge:
            links = {inquiry: portal_links.new_link(inquiry) for inquiry in self.opened
                     if outbox.can_mail(inquiry.patient)}
            give_ids(db.session())  # references and links are known before the batch is written
            rendered = _render_later(self.helper, [
                (conversation.ACKNOWLEDGEMENT, inquiry.patient.preferred_language,
                 outbox.mail_context(inquiry, link=link)) for inquiry, link in links.items()])
            self.write()  # … and the acknowledgements are rendered meanwhile
            with db.session.no_autoflush:  # each acknowledgement is new: nothing to check first
                for (inquiry, link), mail in zip(links.items(), rendered(), strict=True):
                    conversation.acknowledge(inquiry, link=link, rendered=mail)
        self.write()
        return outcomes

    @staticmethod
    def write() -> None:
        """Write what the batch added so far, each table in one statement."""
        write_new_rows(db.session())

    def take(self, item: _Item) -> str:
        raw, parsed, key = item.raw, item.parsed, item.key
        if key in self.taken:
            return DUPLICATE
        self.taken.add(key)
        record = InboundMail(message_key=key, source=self.source, outcome=REJECTED, reason="",
                             size=len(raw), raw=raw, received_at=utcnow())
        db.session.add(record)
        if parsed.problem:
            record.reason = parsed.problem
            return REJECTED
        if parsed.is_bounce:
            return self.bounce(record, parsed)
        if parsed.from_addr == self.own_address:
            record.outcome, record.reason = IGNORED, "sent by this system"
            return IGNORED
        inquiry = self.find_thread(parsed, key)
        if parsed.is_auto_reply:
            record.outcome, record.reason = IGNORED, "automatic reply"
            if inquiry is not None:
                record.inquiry = inquiry
                self.message(inquiry, record, parsed, kind="auto_reply")
            return IGNORED
        if inquiry is not None:
            record.outcome, record.inquiry = THREADED, inquiry
            with db.session.no_autoflush:  # the rules read the case's tasks from its task list
                message = conversation.record_patient_message(
                    inquiry, parsed.text, channel="email", subject=parsed.subject, from_addr=parsed.from_addr,
                    message_id=parsed.message_id, inbound=record, language=parsed.language)
            self.filed(parsed.message_id, inquiry)
            _attach(inquiry, message, parsed)
            audit.record("change", actor=None, inquiry=inquiry, origin="mail", detail="mail=threaded")
            return THREADED
        inquiry = self.open_inquiry(item)
        record.outcome, record.inquiry = CREATED, inquiry
        _attach(inquiry, self.message(inquiry, record, parsed, kind="email"), parsed)
        self.opened.append(inquiry)
        return CREATED

    def find_thread(self, parsed: ParsedMail, key: str) -> Inquiry | None:
        """The inquiry a message answers: by its signed reply address, by the Message-IDs it
        answers, else the sender's newest open inquiry."""
        found: Inquiry | int | None = self.tokens[key]
        if found is None:
            hits = [self.threads[mid] for mid in parsed.in_reply_to[-50:] if mid in self.threads]
            found = max(hits, key=lambda hit: hit[0])[1] if hits else None
        if isinstance(found, int):
            found = self.answered.get(found)
        if found is not None:
            return found
        patient = self.patient_for(parsed.from_addr)
        if patient is None:
            return None
        if patient not in self.open_cases:
            self.open_cases[patient] = db.session.scalars(select(Inquiry).where(
                Inquiry.patient_id == patient.id, Inquiry.stage != "closed")
                .order_by(Inquiry.created_at.desc()).limit(1)).first()
        return self.open_cases[patient]

    def patient_for(self, email: str | None) -> Patient | None:
        """The patient with this address (the surviving record after a merge), if any."""
        if not email:
            return None
        if email.lower() not in self.patients:
            self.patients[email.lower()] = find_patient_by_email(email)
        return self.patients[email.lower()]

    def open_inquiry(self, item: _Item) -> Inquiry:
        """A new inquiry (``source=email``) for a sender we do not know, or whose cases are closed."""
        parsed = item.parsed
        given, _, family = (parsed.from_name or parsed.from_addr.split("@")[0]).strip("\"' ").partition(" ")
        data = {"given_name": given[:100] or "?", "family_name": family[:100] or "—",
                "email": parsed.from_addr, "service": "second_opinion_in_person",
                "preferred_language": _contract_language(parsed.language) or item.text_language,
                "reason": (f"{parsed.subject}\n\n{parsed.text}" if parsed.subject else parsed.text)[:REASON_MAX]
                or "—"}
        options = {"source": "email", "origin": "mail", "find_patient": self.patient_for,
                   "routing_context": self.routing}
        try:
            inquiry = open_inquiry(data, **options)
        except DomainError:
            # an address our validator refuses (rare but real): keep the case, without it
            inquiry = open_inquiry({**data, "email": None}, contact_required=False, **options)
        patient = inquiry.patient
        for email in {parsed.from_addr.lower(), (patient.email or "").lower()} - {""}:
            self.patients[email] = patient
        self.open_cases[patient] = inquiry
        return inquiry

    def message(self, inquiry: Inquiry, record: InboundMail, parsed: ParsedMail, *, kind: str) -> Message:
        message = Message(inquiry=inquiry, direction="in", channel="email", kind=kind,
                          from_addr=parsed.from_addr, subject=parsed.subject, body_text=parsed.text,
                          language=parsed.language, message_id=parsed.message_id, inbound=record,
                          created_at=record.received_at)
        db.session.add(message)
        self.filed(parsed.message_id, inquiry)
        return message

    def filed(self, message_id: str | None, inquiry: Inquiry) -> None:
        """A message with this Message-ID is now on ``inquiry``'s thread."""
        if message_id:
            self.rank += 1
            self.threads[message_id] = (self.rank, inquiry)

    def bounce(self, record: InboundMail, parsed: ParsedMail) -> str:
        """A delivery failure: flag the address, note it on the case, answer nothing."""
        record.outcome, record.reason = IGNORED, "delivery failure"
        inquiry = None
        if parsed.bounced_message_id:
            inquiry_id = db.session.scalar(select(Message.inquiry_id).where(
                Message.message_id == parsed.bounced_message_id).limit(1))
            inquiry = db.session.get(Inquiry, inquiry_id) if inquiry_id else None
        for address in parsed.bounced_addresses:
            for patient in db.session.scalars(select(Patient).where(Patient.email_lower == address)):
                if patient.email_bounced_at is None:
                    audit.record("change", actor=None, patient=patient, origin="mail",
                                 detail="fields=email_bounced_at")
                patient.email_bounced_at = patient.email_bounced_at or record.received_at
                if inquiry is None:
                    inquiry = db.session.scalars(select(Inquiry).where(Inquiry.patient_id == patient.id)
                                                 .order_by(Inquiry.created_at.desc()).limit(1)).first()
        if inquiry is not None:
            record.inquiry = inquiry
            self.message(inquiry, record, parsed, kind="bounce")
        return IGNORED


def _existing(what, values, *, column=None, where=None, order_by=None, options=(), chunk: int = 500) -> list:
    """Rows (or columns) of ``what`` whose ``column`` is one of ``values``, asked ``chunk`` at a
    time (a batch's keys could pass a database's limit on parameters). ``order_by`` orders the
    rows of each value among themselves: all of them come in the same chunk."""
    values = list(values)
    if column is None:
        column = what
    columns = what if isinstance(what, tuple) else (what,)
    rows = []
    for start in range(0, len(values), chunk):
        query = select(*columns).where(column.in_(values[start:start + chunk]))
        if where is not None:
            query = query.where(where)
        if order_by is not None:
            query = query.order_by(order_by)
        query = query.options(*options)
        result = db.session.execute(query)
        rows += result.all() if isinstance(what, tuple) else result.scalars().all()
    return rows


def _own_address() -> str:
    from email.utils import parseaddr
    return parseaddr(current_app.config["MAIL_FROM"])[1].lower()


def _contract_language(value: str | None) -> str | None:
    from ..i18n import language_for_locale, normalize_locale
    locale = normalize_locale(value)
    return language_for_locale(locale) if locale else None


def _attach(inquiry: Inquiry, message: Message, parsed: ParsedMail) -> None:
    """Attachments of the accepted kinds become the case's documents; the others stay in the
    raw message, and the thread names them."""
    config = current_app.config
    refused = []
    for attachment in parsed.attachments:
        try:
            stored = uploads.store(attachment.data, attachment.filename, upload_dir=config["UPLOAD_DIR"],
                                   max_bytes=int(config["MAX_UPLOAD_MB"]) * 1024 * 1024)
        except DomainError:
            refused.append(attachment.filename or attachment.content_type)
            continue
        conversation.add_document(inquiry, stored, source="email", message=message)
    message.refused_attachments = [name[:200] for name in refused]


# --- entry points -------------------------------------------------------------------------

def iter_paths(paths: Iterable[str | Path]) -> Iterator[bytes]:
    """The raw messages of ``.eml`` files, mbox files and Maildir folders (``mail.archive``)."""
    for _where, raw in archive.read(archive.find(paths)):
        yield raw


def ingest_all(messages: Iterable[bytes], *, source: str, acknowledge: bool = True,
               progress: Callable[[int], None] | None = None) -> Summary:
    """Ingest many messages, ``BATCH`` at a time, committing each batch: memory stays flat
    however large the mailbox. ``acknowledge=False`` imports history: no mail goes out."""
    summary = Summary()
    messages = iter(messages)
    batches = iter(lambda: list(islice(messages, BATCH)), [])
    first = next(batches, None)
    with _bulk_collection(), _helper(first is not None and len(first) == BATCH) as helper:
        for items in _read_batches(chain([first] if first else [], batches), helper):
            for outcome in _take(items, source=source, helper=helper, acknowledge=acknowledge):
                summary.add(outcome)
            db.session.commit()
            db.session.expunge_all()
            if progress:
                progress(len(items))
    return summary


@contextmanager
def _bulk_collection() -> Iterator[None]:
    """The garbage collector tuned for a bulk import: what is loaded already is frozen (no longer
    rescanned at every collection), and collections come less often while thousands of rows are
    made (each batch is let go as a whole). A tenth of the time went to the collector before."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@contextmanager
def _helper(wanted: bool) -> Iterator[ProcessPoolExecutor | None]:
    """With a second core, a second process that reads (parses, guesses languages) the batch
    ahead of the one being taken and renders its acknowledgements while it is written. It is
    forked with an app context of its own, so it starts at once with everything loaded; it only
    ever parses and renders, and leaves without closing what it inherited."""
    if not wanted or (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods():
        yield None
        return
    with ProcessPoolExecutor(1, mp_context=mp.get_context("fork"), initializer=_start_helper,
                             initargs=(current_app.app_context(),)) as helper:
        yield helper


def _start_helper(context) -> None:
    """The helper's own app context (made here, pushed there: the fork carries it over)."""
    context.push()


def _read_batches(batches: Iterator[list[bytes]],
                  helper: ProcessPoolExecutor | None) -> Iterator[list[_Item]]:
    """Each batch of raw messages, read: by the ``helper`` one batch ahead, if there is one."""
    if helper is None:
        for batch in batches:
            yield list(map(_read, batch))
        return
    ahead = None
    for batch in batches:
        following = _later(helper, _read_ahead, batch, fallback=lambda batch=batch: list(map(_read, batch)))
        if ahead is not None:
            yield ahead()
        ahead = following
    if ahead is not None:
        yield ahead()


def _render_later(helper: ProcessPoolExecutor | None,
                  jobs: list[tuple[str, str, dict]]) -> Callable[[], list]:
    """The mail of ``jobs`` (kind, language, context), rendered by the ``helper`` meanwhile,
    else here when it is asked for."""
    if helper is None or not jobs:
        return lambda: _render_all(jobs)
    return _later(helper, _render_all, jobs, fallback=lambda: _render_all(jobs))


def _render_all(jobs: list[tuple[str, str, dict]]) -> list:
    return [render(kind, language, **context) for kind, language, context in jobs]


def _later(helper: ProcessPoolExecutor, function, argument, *,
           fallback: Callable[[], list]) -> Callable[[], list]:
    """``function(argument)`` started in the helper; calling the result waits for it. If the helper
    fails (it died: memory?), ``fallback`` does the work here instead."""
    future = helper.submit(function, argument)

    def result() -> list:
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - nothing is lost: the work is done here
            log.warning("the second process failed: doing its work here", exc_info=True)
            return fallback()
    return result


def poll_imap(url: str | None = None) -> Summary:
    """One poll of ``CRM_IMAP_URL``: take each message not taken yet, commit it, then flag it
    taken (and seen). A crash between the two only makes it a duplicate next time."""
    url = url or current_app.config.get("IMAP_URL")
    summary = Summary()
    if not url:
        return summary
    parts = urlsplit(url)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    cls = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    client = cls(parts.hostname or "localhost", parts.port or (993 if parts.scheme == "imaps" else 143),
                 timeout=30)
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        status, _ = client.select(_quote(folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {folder}")
        status, data = client.uid("SEARCH", None, "UNKEYWORD", TAKEN_FLAG)
        for uid in (data[0] or b"").split():
            status, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched or [] if isinstance(item, tuple)), None)
            if status != "OK" or raw is None:
                continue
            summary.add(ingest(raw, source="imap"))
            db.session.commit()
            client.uid("STORE", uid, "+FLAGS", f"({TAKEN_FLAG} \\Seen)")
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return summary


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
