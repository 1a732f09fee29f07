"""Possible duplicate patients: finding them, merging two records into one, and setting aside
the pairs a coordinator found to be different people."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from itertools import combinations, islice

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select, update

from ..extensions import db
from ..models import AuditEvent, DuplicateDismissal, Inquiry, Patient, PortalLink, User
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
#: Candidate groups read in the review list's first round; pairs shown, and pairs looked at,
#: of one group (an agency's address shared by hundreds of patients must not fill the list).
_GROUPS_PER_ROUND = 200
_PAIRS_PER_GROUP = 10
_PAIRS_EXAMINED_PER_GROUP = 2000
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


def _candidate_groups(user: User) -> list[tuple[str, str, int]]:
    """Values of email, phone and name key shared by at least two current records that
    ``user`` may see (for names, with birth dates that may agree), newest first:
    ``[(column, value, newest id)]``.

    Two steps per column: the values that occur twice, from the column's index alone (a
    covering scan, no row read); then only the rows holding those values, to leave out merged
    records, records out of the user's reach and namesakes born on different days. Reading
    every row instead costs SQLite a random read per row in index order (twice as slow at
    100,000 patients). No ``COUNT(DISTINCT)``, which sorts within each group: different dates
    show as ``MIN`` != ``MAX``; a group of three or more is settled by ``match_reasons``.
    """
    groups = []
    for name in ("email_lower", "phone", "name_key"):
        column = getattr(Patient, name)
        present = column != "" if name == "name_key" else column.is_not(None)
        shared = select(column).where(present).group_by(column).having(func.count() > 1)
        having = [func.count() > 1]
        if name == "name_key":
            dob = Patient.date_of_birth
            having.append(or_(func.count(dob) < func.count(), func.min(dob) == func.max(dob),
                              func.count() > 2))
        stmt = (select(column, func.max(Patient.id))
                .where(column.in_(shared), Patient.merged_into_id.is_(None), patient_scope(user))
                .group_by(column).having(*having))
        groups.extend((name, value, newest) for value, newest in db.session.execute(stmt))
    groups.sort(key=lambda group: group[2], reverse=True)
    return groups


#: What ``review_list`` reads of each candidate record before it knows which pairs it shows.
_PAIR_COLUMNS = (Patient.id, Patient.email_lower, Patient.phone, Patient.name_key,
                 Patient.date_of_birth, Patient.given_name, Patient.family_name)


def review_list(user: User, *, limit: int = 100) -> list[dict]:
    """Pairs of current records that may be the same person, both visible to ``user``, the
    newest first: ``[{"patient": older, "other": newer, "reasons": [...]}]``.

    The database finds the shared values (``_candidate_groups``); the records of those values
    are read a round at a time (a few columns, rounds growing fourfold) until ``limit`` pairs
    are found; only the records of the pairs shown are loaded whole.
    """
    groups = _candidate_groups(user)
    pairs: dict[tuple[int, int], list[str]] = {}
    start, size = 0, _GROUPS_PER_ROUND
    while start < len(groups) and len(pairs) < limit:
        wanted: dict[str, set] = defaultdict(set)
        for name, value, _newest in groups[start:start + size]:
            wanted[name].add(value)
        start, size = start + size, size * 4
        members = []
        for name, values in wanted.items():
            values = sorted(values)
            for chunk in range(0, len(values), 500):
                members.extend(db.session.execute(
                    select(*_PAIR_COLUMNS)
                    .where(getattr(Patient, name).in_(values[chunk:chunk + 500]),
                           Patient.merged_into_id.is_(None), patient_scope(user))).all())
        members = list({row.id: row for row in members}.values())
        dismissed = _dismissed_among([row.id for row in members])
        buckets: dict[tuple[str, str], list] = defaultdict(list)
        for row in members:
            for name, values in wanted.items():
                if getattr(row, name) in values:
                    buckets[name, getattr(row, name)].append(row)
        for bucket in buckets.values():
            # newest first, so that a large group (a relative's or an agency's address) gives
            # its latest arrivals and does not crowd out the other groups
            bucket.sort(key=lambda row: row.id, reverse=True)
            found_here = 0
            for newer, older in islice(combinations(bucket, 2), _PAIRS_EXAMINED_PER_GROUP):
                key = (older.id, newer.id)
                if key in pairs or key in dismissed:
                    continue
                reasons = match_reasons(older, newer)
                if reasons:
                    pairs[key] = reasons
                    found_here += 1
                    if found_here >= _PAIRS_PER_GROUP:
                        break
    shown = sorted(pairs, key=lambda key: (key[1], key[0]), reverse=True)[:limit]
    ids = {i for key in shown for i in key}
    records = {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(ids)))} \
        if ids else {}
    return [{"patient": records[a], "other": records[b], "reasons": pairs[a, b]} for a, b in shown]


def _dismissed_among(ids: list[int]) -> set[tuple[int, int]]:
    """The dismissed pairs among ``ids`` (looked up by the primary key's first column)."""
    if not ids:
        return set()
    found = set()
    chunk = 500
    wanted = set(ids)
    for start in range(0, len(ids), chunk):
        rows = db.session.execute(
            select(DuplicateDismissal.patient_id, DuplicateDismissal.other_id)
            .where(DuplicateDismissal.patient_id.in_(ids[start:start + chunk]))).all()
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
