"""Possible duplicate patients: finding them, merging two records into one, and setting aside
the pairs a coordinator found to be different people."""
from __future__ import annotations

import bisect
import hashlib
import heapq
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from itertools import groupby
from operator import itemgetter

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, func, or_, select, update

from ..extensions import db
from ..models import (AuditEvent, DuplicateCandidate, DuplicateDismissal, Inquiry, Patient,
                      PortalLink, User)
from ..models.base import utcnow
from ..models.patient import fold
from . import audit
from .errors import DomainError, StaleVersion, ValidationError, flush_or_conflict
from .visibility import get_patient, patient_scope, visible_patients

#: Why two records may be the same person, in the order they are shown.
REASONS = ("email", "phone", "name_and_birth_date", "name_transliterated")
#: At most this many matches on a patient's page (an agency's shared address can match hundreds).
MATCHES_SHOWN = 20
#: Blank fields of the record kept are filled from the other record's; nothing set is overwritten.
FILLED_FIELDS = ("email", "phone", "date_of_birth", "sex", "country", "timezone", "mrn")
#: The other record's details shown on the kept record's page when they differ.
KEPT_DETAILS = ("full_name", "email", "phone", "date_of_birth", "mrn")
#: Pairs listed, and pairs looked at, of one shared detail (an agency's address shared by
#: hundreds of patients must not fill the list).
_PAIRS_PER_GROUP = 10
_PAIRS_EXAMINED_PER_GROUP = 2000
#: A group of records sharing a detail read whole with the others; larger ones, newest first.
_SMALL_GROUP = 64
#: Details, records or ids handled per statement.
_CHUNK = 500
#: Records not yet compared taken at once (their shared details are brought up to date once).
_BACKLOG_BATCH = 20_000
#: A backlog of at least this many records and one in this many of all is compared by working
#: out every pair again: at 100,000 records, 2 s instead of 0.5 ms or so per record.
_REBUILD_FROM = 5_000
_REBUILD_SHARE = 20
_REBUILD_READ = 5_000
#: The details that flag a pair, and the column holding each.
_KINDS = {"email": Patient.email_lower, "phone": Patient.phone, "name": Patient.name_key}
#: The PostgreSQL advisory lock held while the candidates are brought up to date.
_LOCK = 0x1735_D0B1
_MERGED_DETAIL = re.compile(r"merged=(\d+)")


class MergeRefused(DomainError):
    """The two records cannot be merged (the same record, or one merged already)."""

    code = "merge_refused"
    status = 409
    default_message = _l("These two records cannot be merged.")


def _same_name(a: Patient, b: Patient) -> bool:
    """The same words in the names, ignoring case, accents, punctuation and order."""
    def words(p):
        return sorted(re.findall(r"\w+", fold(f"{p.given_name} {p.family_name}")))
    return words(a) == words(b)


def match_reasons(a: Patient, b: Patient) -> list[str]:
    """Why ``a`` and ``b`` may be the same person (an empty list when nothing matches).

    A same name with different birth dates is no reason: namesakes are common.
    """
    reasons = []
    if a.email_lower and a.email_lower == b.email_lower:
        reasons.append("email")
    if a.phone and a.phone == b.phone:
        reasons.append("phone")
    if a.name_key and a.name_key == b.name_key:
        if a.date_of_birth and a.date_of_birth == b.date_of_birth and _same_name(a, b):
            reasons.append("name_and_birth_date")
        elif a.date_of_birth is None or b.date_of_birth is None or a.date_of_birth == b.date_of_birth:
            reasons.append("name_transliterated")
    return reasons


def _ordered(a_id: int, b_id: int) -> tuple[int, int]:
    return (a_id, b_id) if a_id < b_id else (b_id, a_id)


def _not_dismissed_with(patient_id: int):
    """No dismissal of the pair (``patient_id``, the row's patient): two primary-key lookups."""
    return ~exists().where(or_(
        and_(DuplicateDismissal.patient_id == patient_id, DuplicateDismissal.other_id == Patient.id),
        and_(DuplicateDismissal.patient_id == Patient.id, DuplicateDismissal.other_id == patient_id)))


def possible_duplicates(patient: Patient, *, user: User, limit: int = MATCHES_SHOWN) -> list[dict]:
    """Other current records that ``user`` may see and that may be the same person as
    ``patient``, oldest first: ``[{"patient": Patient, "reasons": [...]}]``.

    Runs on every view of a patient's page: one query, answered from the indexes on email,
    phone and name key (and the primary keys of the visibility and dismissal checks).
    """
    if patient.merged_into_id is not None:
        return []
    matches = []
    if patient.email_lower:
        matches.append(Patient.email_lower == patient.email_lower)
    if patient.phone:
        matches.append(Patient.phone == patient.phone)
    if patient.name_key:
        same_key = Patient.name_key == patient.name_key
        if patient.date_of_birth is not None:
            same_key = and_(same_key, or_(Patient.date_of_birth.is_(None),
                                          Patient.date_of_birth == patient.date_of_birth))
        matches.append(same_key)
    if not matches:
        return []
    others = db.session.scalars(
        visible_patients(user)
        .where(or_(*matches), Patient.id != patient.id, Patient.merged_into_id.is_(None),
               _not_dismissed_with(patient.id))
        .order_by(Patient.id).limit(limit)).all()
    found = []
    for other in others:
        reasons = match_reasons(patient, other)
        if reasons:
            found.append({"patient": other, "reasons": reasons})
    return found


def _dates_agree(a: date | None, b: date | None) -> bool:
    """Names alone say nothing of namesakes born on different days."""
    return a is None or b is None or a == b


def group_key(kind: str, value: str) -> int:
    """The stored name of a shared detail (``kind`` is ``email``, ``phone`` or ``name``): a
    64-bit hash, so that the candidates table holds no email address or phone number."""
    digest = hashlib.blake2b(f"{kind}\n{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def groups_of(patient: Patient) -> set[tuple[str, str]]:
    """The details ``patient`` may share with other records: ``{(kind, value)}``."""
    details = {("email", patient.email_lower), ("phone", patient.phone), ("name", patient.name_key)}
    return {(kind, value) for kind, value in details if value}


def top_pairs(kind: str, members: list[tuple[int, date | None]],
              dismissed: set[tuple[int, int]]) -> tuple[list[tuple[int, int]], bool]:
    """The pairs a group of records sharing one detail puts on the review list, and whether
    more members than ``members`` (the older ones) could have changed them.

    ``members`` are ``(id, date of birth)``, newest first. Pairs are taken newest first (the
    newest record with each older one, then the next…), at most ``_PAIRS_PER_GROUP`` of them
    among the first ``_PAIRS_EXAMINED_PER_GROUP``: an address an agency gives for hundreds of
    patients shows its latest arrivals without filling the list. Pairs set aside as different
    people are skipped, and so, for a name, are pairs born on different days.
    """
    found: list[tuple[int, int]] = []
    if kind == "name":  # who may pair with whom: the same birth date, or one not known
        unknown, by_birth = [], defaultdict(list)
        for position, (_id, born) in enumerate(members):
            (unknown if born is None else by_birth[born]).append(position)
    examined = 0  # pairs looked at before the current newer record's
    for index, (newer, born) in enumerate(members):
        if kind == "name" and born is not None:
            older_ones = heapq.merge(_after(by_birth[born], index), _after(unknown, index))
        else:
            older_ones = range(index + 1, len(members))
        for position in older_ones:
            if examined + position - index > _PAIRS_EXAMINED_PER_GROUP:
                return found, index > 0
            if (members[position][0], newer) in dismissed:
                continue
            found.append((members[position][0], newer))
            if len(found) == _PAIRS_PER_GROUP:
                return found, index > 0  # past the newest record, whose older ones all counted
        examined += len(members) - 1 - index
    return found, True


def _after(positions: list[int], index: int) -> list[int]:
    return positions[bisect.bisect_right(positions, index):]


def _serialize() -> None:
    """One transaction at a time brings the candidates up to date (on PostgreSQL; SQLite's
    transactions are serial already): two records written at once are then compared with each
    other by whichever comes second. Taken last in a transaction, held until it ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(_LOCK)))


def _members(kind: str, values: list[str], limit: int | None = None) -> tuple[dict[str, list], int]:
    """The current records holding each of ``values``, newest first (``{value: [(id, born)]}``),
    and how many rows were read (merged records are read, then left out: a condition on
    ``merged_into_id`` lures SQLite onto that column's index, which nearly every row shares)."""
    column = _KINDS[kind]
    stmt = select(column, Patient.id, Patient.date_of_birth, Patient.merged_into_id).where(column.in_(values))
    if limit is not None:
        stmt = stmt.order_by(Patient.id.desc()).limit(limit)
    rows = db.session.execute(stmt).all()
    found: dict[str, list] = defaultdict(list)
    for value, patient_id, born, merged_into_id in rows:
        if merged_into_id is None:
            found[value].append((patient_id, born))
    for members in found.values():
        members.sort(key=lambda member: member[0], reverse=True)
    return found, len(rows)


def refresh_groups(groups: Iterable[tuple[str, str]]) -> None:
    """Bring the candidate pairs of these shared details up to date (after records holding
    them were created, edited, merged or set apart). Flushes.

    For a few hundred details, a dozen queries: how many records hold each (from the
    indexes alone); the members of the small groups at once, of the large ones only the
    newest; the dismissals among them; the pairs stored; then only the rows that changed.
    """
    groups = sorted({(kind, value) for kind, value in groups if value})
    if not groups:
        return
    db.session.flush()
    _serialize()
    for start in range(0, len(groups), _CHUNK):
        _refresh_chunk(groups[start:start + _CHUNK])


def _refresh_chunk(groups: list[tuple[str, str]]) -> None:
    wanted: dict[tuple[str, str], list[tuple[int, int]]] = {}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in groups:
        by_kind[kind].append(value)
    for kind, values in by_kind.items():
        column = _KINDS[kind]
        counts = dict(db.session.execute(
            select(column, func.count()).where(column.in_(values)).group_by(column)).all())
        small = [v for v in values if 1 < counts.get(v, 0) <= _SMALL_GROUP]
        members = _members(kind, small)[0] if small else {}
        dismissed = _dismissed_among(sorted({i for rows in members.values() for i, _b in rows}))
        for value in values:
            if counts.get(value, 0) > _SMALL_GROUP:
                wanted[kind, value] = _large_group_pairs(kind, value)
            else:
                wanted[kind, value] = top_pairs(kind, members.get(value, []), dismissed)[0]
    keys = {group_key(kind, value): pairs for (kind, value), pairs in wanted.items()}
    table = DuplicateCandidate.__table__
    stored = {tuple(row) for row in db.session.execute(
        select(table.c.group_key, table.c.patient_id, table.c.other_id)
        .where(table.c.group_key.in_(list(keys))))}
    rows = {(key, older, newer) for key, pairs in keys.items() for older, newer in pairs}
    _write(stored - rows, rows - stored)


def _write(gone: set[tuple[int, int, int]], new: set[tuple[int, int, int]]) -> None:
    """Remove and add candidate rows ``(group_key, older, newer)``, each by its primary key."""
    table = DuplicateCandidate.__table__
    if gone:
        db.session.execute(
            table.delete().where(table.c.group_key == bindparam("key"),
                                 table.c.patient_id == bindparam("older"),
                                 table.c.other_id == bindparam("newer")),
            [{"key": key, "older": older, "newer": newer} for key, older, newer in sorted(gone)])
    if new:
        now = utcnow()
        db.session.execute(table.insert(), [
            {"group_key": key, "patient_id": older, "other_id": newer, "created_at": now}
            for key, older, newer in sorted(new)])


def _large_group_pairs(kind: str, value: str) -> list[tuple[int, int]]:
    """``top_pairs`` of a group too large to read whole: its newest members, all if need be."""
    for limit in (_SMALL_GROUP, None):
        found, read = _members(kind, [value], limit=limit)
        members = found.get(value, [])
        pairs, partial = top_pairs(kind, members, _dismissed_among([i for i, _b in members]))
        if not partial or read != limit:
            break
    return pairs


def check_new_patients() -> int:
    """Compare the records not yet compared (new ones, and those whose blank details were
    filled in) with the others; returns how many. Flushes.

    Intake leaves this to be done later so that the mail import, which writes a batch's new
    records at once, pays nothing for it per message; the review list calls it first. A
    backlog is taken in large batches, each shared detail brought up to date once per batch;
    a backlog of a large share of all records (after the demo or an import of an archive),
    by ``rebuild_candidates`` instead, several times faster then.
    """
    table = Patient.__table__
    stmt = (select(Patient.id, Patient.email_lower, Patient.phone, Patient.name_key)
            .where(Patient.duplicates_checked_at.is_(None)).order_by(Patient.id))
    if not db.session.execute(stmt.limit(1)).first():
        return 0  # the usual case: nothing to do, nothing locked
    _serialize()
    # rows another transaction is changing are left to it (it compares them itself, or they
    # stay for next time): waiting for them here while holding the lock could deadlock
    pending = db.session.execute(stmt.with_for_update(skip_locked=True)).all()
    if len(pending) >= _REBUILD_FROM and \
            len(pending) * _REBUILD_SHARE >= db.session.scalar(select(func.count(Patient.id))):
        rebuild_candidates()
    else:
        for start in range(0, len(pending), _BACKLOG_BATCH):
            refresh_groups((kind, value) for row in pending[start:start + _BACKLOG_BATCH]
                           for kind, value in (("email", row.email_lower), ("phone", row.phone),
                                               ("name", row.name_key)))
    ids = [row.id for row in pending]
    now = utcnow()
    for start in range(0, len(ids), _CHUNK):
        db.session.execute(update(table).where(table.c.id.in_(ids[start:start + _CHUNK]))
                           .values(duplicates_checked_at=now, updated_at=table.c.updated_at))
    return len(pending)


def rebuild_candidates() -> None:
    """Work out every candidate pair from scratch and store what differs. Flushes.

    Three reads of the patients table in the order of each detail's index; the pairs of each
    group as ``top_pairs`` finds them (as ``refresh_groups`` does, one group at a time).
    """
    db.session.flush()
    _serialize()
    dismissed = {tuple(row) for row in db.session.execute(
        select(DuplicateDismissal.patient_id, DuplicateDismissal.other_id))}
    rows = set()
    for kind, column in _KINDS.items():
        stmt = (select(column, Patient.id, Patient.date_of_birth)
                .where(column.is_not(None), column != "", Patient.merged_into_id.is_(None))
                .order_by(column, Patient.id.desc()).execution_options(yield_per=_REBUILD_READ))
        for value, group in groupby(db.session.execute(stmt), key=itemgetter(0)):
            members = [(patient_id, born) for _value, patient_id, born in group]
            if len(members) > 1:
                key = group_key(kind, value)
                rows.update((key, older, newer) for older, newer in top_pairs(kind, members, dismissed)[0])
    table = DuplicateCandidate.__table__
    stored = {tuple(row) for row in db.session.execute(
        select(table.c.group_key, table.c.patient_id, table.c.other_id))}
    _write(stored - rows, rows - stored)


def review_list(user: User, *, limit: int = 100) -> list[dict]:
    """Pairs of current records that may be the same person, both visible to ``user``, the
    newest first: ``[{"patient": older, "other": newer, "reasons": [...]}]``.

    Read from the candidates table (``refresh_groups``), newest pair first along its index,
    once the records not yet compared have been (``check_new_patients``); only the records
    of the pairs shown are loaded.
    """
    check_new_patients()
    candidate = DuplicateCandidate
    visible = [exists(select(Patient.id).where(Patient.id == column, patient_scope(user)))
               for column in (candidate.patient_id, candidate.other_id)]
    shown = db.session.execute(
        select(candidate.other_id, candidate.patient_id).distinct().where(*visible)
        .order_by(candidate.other_id.desc(), candidate.patient_id.desc()).limit(limit)).all()
    ids = {i for pair in shown for i in pair}
    records = {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(ids)))} \
        if ids else {}
    pairs = []
    for newer, older in shown:
        reasons = match_reasons(records[older], records[newer])
        if reasons:
            pairs.append({"patient": records[older], "other": records[newer], "reasons": reasons})
    return pairs


def _dismissed_among(ids: list[int]) -> set[tuple[int, int]]:
    """The dismissed pairs among ``ids`` (looked up by the primary key's first column)."""
    if not ids:
        return set()
    found = set()
    wanted = set(ids)
    for start in range(0, len(ids), _CHUNK):
        rows = db.session.execute(
            select(DuplicateDismissal.patient_id, DuplicateDismissal.other_id)
            .where(DuplicateDismissal.patient_id.in_(ids[start:start + _CHUNK]))).all()
        found.update((a, b) for a, b in rows if b in wanted)
    return found


def _expected(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError("version", _l("The version you read these records at is missing.")) \
            from None


def merge_patients(survivor: Patient, duplicate: Patient, *, actor: User,
                   expected_versions) -> Patient:
    """Merge ``duplicate`` into ``survivor`` in one step; flushes, never commits.

    The duplicate's inquiries (with their messages, documents and checklists) and portal links
    move to the survivor; the survivor's blank fields are filled from the duplicate's, never
    overwritten. The duplicate's record stays, marked ``merged_into_id``, with all its own
    values: those that differ (another email, another phone…) are shown on the survivor's page
    (``merged_details``). Both records are audited, with ids and field names only.

    :param expected_versions: ``(survivor's version, duplicate's version)`` as the actor read them.
    :raises NotFound: the actor may not see one of the records.
    :raises MergeRefused: the same record twice, or one of them already merged.
    :raises StaleVersion: one of them changed since the actor read it (nothing is changed).
    """
    get_patient(actor, survivor.id)
    get_patient(actor, duplicate.id)
    if survivor.id == duplicate.id:
        raise MergeRefused(_l("A record cannot be merged into itself."))
    if survivor.merged_into_id is not None or duplicate.merged_into_id is not None:
        raise MergeRefused(_l("One of these records has already been merged into another."))
    survivor_version, duplicate_version = (_expected(v) for v in expected_versions)
    if survivor_version != survivor.version or duplicate_version != duplicate.version:
        raise StaleVersion(_l("Someone changed one of these records while you were comparing "
                              "them. Review them again, then merge."))

    groups = groups_of(survivor) | groups_of(duplicate)
    filled = [f for f in FILLED_FIELDS if not getattr(survivor, f) and getattr(duplicate, f)]
    moved = db.session.scalars(select(Inquiry).where(Inquiry.patient_id == duplicate.id)
                               .order_by(Inquiry.id)).all()
    duplicate.merged_into_id = survivor.id
    duplicate.bump_version()
    if "mrn" in filled:
        # the number is unique: it leaves the duplicate before it reaches the survivor
        mrn, duplicate.mrn = duplicate.mrn, None
        flush_or_conflict(db.session)
        survivor.mrn = mrn
    for field in filled:
        if field != "mrn":
            setattr(survivor, field, getattr(duplicate, field))
    if "email" in filled:
        survivor.email_bounced_at = duplicate.email_bounced_at
    for inquiry in moved:
        inquiry.patient = survivor
    survivor.refresh_search_text()
    survivor.bump_version()
    flush_or_conflict(db.session)
    db.session.execute(update(PortalLink).where(PortalLink.patient_id == duplicate.id)
                       .values(patient_id=survivor.id))
    _carry_dismissals(duplicate.id, survivor.id, actor)
    db.session.flush()
    audit.record("merge", actor=actor, patient=survivor,
                 detail=f"merged={duplicate.id};inquiries={len(moved)};filled={','.join(filled)}")
    audit.record("merge", actor=actor, patient=duplicate,
                 detail=f"into={survivor.id};inquiries={len(moved)}")
    refresh_groups(groups | groups_of(survivor))
    return survivor


def _carry_dismissals(duplicate_id: int, survivor_id: int, actor: User) -> None:
    """Whom the duplicate was found different from, the survivor is different from too."""
    others = db.session.execute(
        select(DuplicateDismissal.patient_id, DuplicateDismissal.other_id)
        .where(or_(DuplicateDismissal.patient_id == duplicate_id,
                   DuplicateDismissal.other_id == duplicate_id))).all()
    for a, b in others:
        other = b if a == duplicate_id else a
        if other == survivor_id:
            continue
        pair = _ordered(survivor_id, other)
        if db.session.get(DuplicateDismissal, pair) is None:
            db.session.add(DuplicateDismissal(patient_id=pair[0], other_id=pair[1],
                                              dismissed_by_id=actor.id if actor else None))


def dismiss(patient: Patient, other: Patient, *, actor: User) -> DuplicateDismissal:
    """Record that ``patient`` and ``other`` are different people: the pair is no longer
    flagged. Idempotent; flushes.

    :raises NotFound: the actor may not see one of them.
    """
    get_patient(actor, patient.id)
    get_patient(actor, other.id)
    if patient.id == other.id:
        raise MergeRefused(_l("A record cannot be compared with itself."))
    pair = _ordered(patient.id, other.id)
    dismissal = db.session.get(DuplicateDismissal, pair)
    if dismissal is None:
        dismissal = DuplicateDismissal(patient_id=pair[0], other_id=pair[1], dismissed_by_id=actor.id)
        db.session.add(dismissal)
        db.session.flush()
        audit.record("change", actor=actor, patient=patient, detail=f"not_duplicate_of={other.id}")
        audit.record("change", actor=actor, patient=other, detail=f"not_duplicate_of={patient.id}")
        refresh_groups(groups_of(patient) & groups_of(other))
    return dismissal


def surviving_patient(patient: Patient | None) -> Patient | None:
    """The record ``patient`` was merged into (through any chain of merges), else ``patient``:
    what intake and mail should attach new inquiries and messages to."""
    seen = set()
    while patient is not None and patient.merged_into_id is not None and patient.id not in seen:
        seen.add(patient.id)
        patient = db.session.get(Patient, patient.merged_into_id)
    return patient


def surviving_id(patient_id: int) -> int | None:
    """The id of the record that ``patient_id`` was merged into, or None if it was not merged
    (or does not exist)."""
    patient = db.session.get(Patient, patient_id)
    if patient is None or patient.merged_into_id is None:
        return None
    survivor = surviving_patient(patient)
    return survivor.id if survivor is not None and survivor.merged_into_id is None else None


def merged_records(patient: Patient, *, limit: int = 50) -> list[tuple[Patient, datetime]]:
    """The records merged into ``patient``, directly or through earlier merges, with when,
    newest first.

    Found through the survivors' ``merge`` events on the audit trail (indexed by patient), so
    that the patient's page needs no scan of the patients table.
    """
    merged_at: dict[int, datetime] = {}
    frontier = [patient.id]
    while frontier and len(merged_at) < limit:
        events = db.session.execute(select(AuditEvent.detail, AuditEvent.created_at).where(
            AuditEvent.patient_id.in_(frontier), AuditEvent.action == "merge")).all()
        frontier = []
        for detail, created_at in events:
            match = _MERGED_DETAIL.match(detail or "")
            if match and int(match.group(1)) not in merged_at and int(match.group(1)) != patient.id:
                merged_at[int(match.group(1))] = created_at
                frontier.append(int(match.group(1)))
    if not merged_at:
        return []
    records = db.session.scalars(select(Patient).where(
        Patient.id.in_(list(merged_at)[:limit]), Patient.merged_into_id.is_not(None))).all()
    return sorted(((r, merged_at[r.id]) for r in records if surviving_patient(r) is patient),
                  key=lambda item: (item[1], item[0].id), reverse=True)


def merged_details(patient: Patient) -> list[dict]:
    """For each record merged into ``patient``, its details that differ from the patient's
    (another email, phone, spelling of the name…):
    ``[{"record": Patient, "merged_at": datetime, "details": {field: value}}]``."""
    out = []
    for record, merged_at in merged_records(patient):
        details = {}
        for field in KEPT_DETAILS:
            value = getattr(record, field)
            if value and value != getattr(patient, field):
                details[field] = value
        out.append({"record": record, "merged_at": merged_at, "details": details})
    return out
