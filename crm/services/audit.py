"""The audit trail: one call records one access, with ids and field names only; the rows are
chained by hash (``models.audit``) and checked by ``verify``.

``record`` only takes note of an event. Its row is written when the transaction commits, as the
last thing before the commit, under a lock (PostgreSQL: ``pg_advisory_xact_lock``; SQLite holds
its write lock from the first statement, ``extensions._begin_immediate``): the previous row's
hash is read, the transaction's events get the next ids and their hashes, one ``INSERT`` writes
them. So two transactions never fork the chain, and the lock is held only for that moment, after
every other lock of the transaction was taken (no deadlock with a writer waiting for it). Events
noted in a savepoint that rolls back are forgotten with it, and nothing about the chain is kept
across a rollback. A query of the trail in the same transaction writes what is noted first (as
an autoflush would). Rows are never written by the unit of work: an ``AuditEvent`` added to the
session is taken over by ``record``'s queue, and a bulk ``INSERT`` through the session is refused.
"""
from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event as sa_event
from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import iterate

from ..extensions import db
from ..models import AuditEvent, Inquiry, Patient, User
from ..models.audit import FAILED, GENESIS, HASHED, SERVICE_ROLE, SUCCESS, row_hash
from ..models.base import utcnow

log = logging.getLogger(__name__)
#: The advisory lock that serializes appends on PostgreSQL (the scheduler's is 0x17E7A).
LOCK_KEY = 0x17E7A0D17
_TABLE = AuditEvent.__table__
_PENDING = "crm.audit.pending"  # entries noted, not written yet
_WRITTEN = "crm.audit.written"  # entries written in the transaction, not committed yet
_TAIL = "crm.audit.tail"  # (id, hash) of the last row, read under the lock in this transaction
#: A service account named by where an event comes from (``origin``).
_SERVICES = {"portal": "portal", "scheduler": "scheduler", "mail": "mail", "imap": "mail", "cli": "cli"}
#: The "service" of a sign-in attempt with an address that is no account's.
ANONYMOUS = "anonymous"
_order = itertools.count()


def current_origin() -> str | None:
    """Where the current action comes from, as set by the web, API or CLI entry point."""
    return g.get("origin") if has_app_context() else None


@dataclass(eq=False)
class _Entry:
    """An event noted, with the objects whose ids it takes when written."""

    event: AuditEvent
    actor: User | None
    patient: Patient | None
    inquiry: Inquiry | None
    record: object | None
    recorded_in: object
    written_in: object = None
    committed: bool = False
    order: int = field(default_factory=lambda: next(_order))

    def values(self) -> dict:
        event = self.event
        if self.actor is not None:
            event.actor_id = self.actor.id
        if self.patient is not None:
            event.patient_id = self.patient.id
        elif self.inquiry is not None:
            event.patient_id = self.inquiry.patient_id
        if self.inquiry is not None:
            event.inquiry_id = self.inquiry.id
        if self.record is not None:
            event.record_id = self.record.id
        return {name: getattr(event, name) for name in HASHED if name != "id"}

    def waiting_for_ids(self) -> bool:
        objects = (self.actor, self.patient, self.inquiry, self.record)
        return any(obj is not None and obj.id is None for obj in objects) or (
            self.inquiry is not None and self.patient is None and self.inquiry.patient_id is None)


def record(action: str, *, actor: User | None, patient: Patient | None = None,
           inquiry: Inquiry | None = None, origin: str | None = None, detail: str = "",
           outcome: str | None = None, service: str | None = None, record_type: str | None = None,
           record_id: int | None = None, record_object=None, address: str | None = None,
           inquiry_id: int | None = None, patient_id: int | None = None) -> AuditEvent:
    """Note one event for the audit trail; it is written when the transaction commits (and
    forgotten if it rolls back). ``detail`` must never hold patient values.

    :param actor: the staff member, or None for a service account: ``service``, else the one
        ``origin`` names (``portal``, ``scheduler``, ``mail``, ``cli``), else ``public`` in a
        request (the request form), else ``system``.
    :param outcome: ``success`` (default; ``failed`` for an action ending in ``_failed``),
        ``denied`` or ``failed``.
    :param record_type: what was asked for, when not the inquiry or patient (``task``…), with
        ``record_id`` or ``record_object`` (whose id is taken when the row is written).
    :param inquiry_id: with ``patient_id``, the case by its ids, when it is not loaded.
    The ids of ``patient``, ``inquiry`` (and its patient) are taken when the row is written:
    nothing is read now, and a record new in this transaction has its id by then.
    """
    origin = (origin or current_origin() or "")[:64] or None
    if address is None and has_request_context():
        address = request.remote_addr
    if record_type is None:
        if inquiry is not None:
            record_type, record_object = "inquiry", inquiry
        elif inquiry_id is not None:
            record_type, record_id = "inquiry", inquiry_id
        elif patient is not None:
            record_type, record_object = "patient", patient
        elif patient_id is not None:
            record_type, record_id = "patient", patient_id
    if actor is None:
        service = service or _SERVICES.get((origin or "").split(" ", 1)[0]) or (
            "public" if has_request_context() else "system")
    actor_id = actor.id if actor is not None else None  # read now: ``actor`` may be a request's proxy
    event = AuditEvent(
        created_at=utcnow(), actor_id=actor_id,
        service=None if actor is not None else service[:20],
        role=actor.role if actor is not None else (None if service == ANONYMOUS else SERVICE_ROLE),
        action=action[:20],
        outcome=outcome or (FAILED if action.endswith("_failed") else SUCCESS),
        record_type=record_type[:20] if record_type else None, record_id=record_id,
        inquiry_id=inquiry_id, patient_id=patient_id,
        address=(address or "")[:64] or None, origin=origin, detail=(detail or "")[:200])
    session = db.session()
    entry = _Entry(event, actor if actor is not None and actor_id is None else None, patient, inquiry,
                   record_object, _transaction(session))
    session.info.setdefault(_PENDING, []).append(entry)
    if has_request_context():
        g.setdefault("audit_entries", []).append(entry)
    return event


def committed_in_request() -> bool:
    """Whether an event recorded during the current request is committed to the trail."""
    return any(entry.committed for entry in g.get("audit_entries", ()))


# --- writing the chain ---------------------------------------------------------------------------

def _transaction(session: Session):
    return session.get_nested_transaction() or session.get_transaction()


def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def write_pending(session: Session | None = None) -> int:
    """Write the events noted in ``session``'s transaction now, chained after the last row
    (taking the lock, which is then held until the transaction ends). Returns how many."""
    session = session or db.session()
    entries = session.info.get(_PENDING)
    if not entries:
        return 0
    if any(entry.waiting_for_ids() for entry in entries):
        session.flush()
    connection = session.connection()
    tail = session.info.get(_TAIL)
    if tail is None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        row = connection.execute(select(_TABLE.c.id, _TABLE.c.hash)
                                 .order_by(_TABLE.c.id.desc()).limit(1)).first()
        tail = (row.id, row.hash) if row is not None else (0, GENESIS)
    last_id, last_hash = tail
    rows = []
    now = _transaction(session)
    for entry in entries:
        values = entry.values()
        last_id += 1
        values["id"] = last_id
        values["prev_hash"] = last_hash
        values["hash"] = last_hash = row_hash(values, last_hash)
        entry.event.id, entry.event.prev_hash, entry.event.hash = last_id, values["prev_hash"], last_hash
        entry.written_in = now
        rows.append(values)
    connection.execute(insert(_TABLE), rows)
    session.info[_TAIL] = (last_id, last_hash)
    session.info.setdefault(_WRITTEN, []).extend(entries)
    session.info[_PENDING] = []
    return len(rows)


def _before_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        session.flush()  # everything else first: the lock is the transaction's last
        write_pending(session)


def _after_commit(session: Session) -> None:
    for entry in session.info.pop(_WRITTEN, ()):
        entry.committed = True
    session.info.pop(_TAIL, None)


def _after_soft_rollback(session: Session, previous) -> None:
    """What the rollback undid is forgotten: events noted in it, and rows written in it (events
    noted before it are written again later); the chain's end is read again next time."""
    session.info.pop(_TAIL, None)
    if previous.parent is None:
        _forget(session)
        return
    pending = [e for e in session.info.get(_PENDING, ()) if not _within(e.recorded_in, previous)]
    written = []
    for entry in session.info.get(_WRITTEN, ()):
        if not _within(entry.written_in, previous):
            written.append(entry)
        elif not _within(entry.recorded_in, previous):
            entry.written_in = None
            entry.event.id = entry.event.prev_hash = entry.event.hash = None
            pending.append(entry)
    session.info[_PENDING] = sorted(pending, key=lambda entry: entry.order)
    session.info[_WRITTEN] = written


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed, rolled back or closed: nothing carries over
        _forget(session)


def _forget(session: Session) -> None:
    for key in (_PENDING, _WRITTEN, _TAIL):
        session.info.pop(key, None)


def _before_flush(session: Session, _context, _instances) -> None:
    """An ``AuditEvent`` added to the session joins the queue instead (chained at commit)."""
    for obj in [obj for obj in session.new if isinstance(obj, AuditEvent)]:
        session.expunge(obj)
        obj.created_at = obj.created_at or utcnow()
        obj.outcome = obj.outcome or SUCCESS
        obj.detail = obj.detail or ""
        if obj.actor_id is None and obj.service is None:
            obj.service, obj.role = "system", SERVICE_ROLE
        session.info.setdefault(_PENDING, []).append(
            _Entry(obj, None, None, None, None, _transaction(session)))


def _reads_trail(statement) -> bool:
    """Whether ``statement`` reads the trail: its elements walked (about 20 µs; compiling an ORM
    statement to ask its FROM list took milliseconds)."""
    return any(isinstance(element, Table) and element.name == _TABLE.name for element in iterate(statement))


def _on_execute(state) -> None:
    if state.is_insert and getattr(getattr(state.statement, "table", None), "name", None) == _TABLE.name:
        raise RuntimeError("audit events are written through crm.services.audit.record, never inserted")
    if state.is_select and state.session.info.get(_PENDING) and _reads_trail(state.statement):
        write_pending(state.session)


def install() -> None:
    """Listen to every session's commits, rollbacks, flushes and queries (once per process;
    after the other listeners, so that the chain's lock is the last thing a commit takes)."""
    if not sa_event.contains(Session, "before_commit", _before_commit):
        sa_event.listen(Session, "before_commit", _before_commit)
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_soft_rollback", _after_soft_rollback)
        sa_event.listen(Session, "after_transaction_end", _after_transaction_end)
        sa_event.listen(Session, "before_flush", _before_flush)
        sa_event.listen(Session, "do_orm_execute", _on_execute)


# --- checking the chain --------------------------------------------------------------------------

@dataclass
class Verification:
    """What ``verify`` found: how many rows hold, the last one's id and hash; or the first row
    where the chain breaks and why (``changed``: its hash does not match its contents;
    ``unlinked``: it does not follow the row before it)."""

    count: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS
    broken_id: int | None = None
    problem: str | None = None
    previous_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(*, batch: int = 5000) -> Verification:
    """Read the whole trail in id order, ``batch`` rows at a time (memory stays flat, and no
    transaction stays open between batches unless the caller had one open), and check every
    row's link and hash."""
    release = not db.session().in_transaction()
    result = Verification()
    columns = [_TABLE.c[name] for name in (*HASHED, "prev_hash", "hash")]
    after = None
    while True:
        stmt = select(*columns).order_by(_TABLE.c.id).limit(batch)
        if after is not None:
            stmt = stmt.where(_TABLE.c.id > after)
        rows = db.session.execute(stmt).mappings().all()
        if release:
            db.session.rollback()  # nothing held between batches (SQLite's write lock)
        for row in rows:
            if row["prev_hash"] != result.last_hash:
                result.broken_id, result.problem, result.previous_id = row["id"], "unlinked", result.last_id
                return result
            if row_hash(row, row["prev_hash"]) != row["hash"]:
                result.broken_id, result.problem, result.previous_id = row["id"], "changed", result.last_id
                return result
            result.count += 1
            result.last_id, result.last_hash = row["id"], row["hash"]
        if len(rows) < batch:
            return result
        after = rows[-1]["id"]
