"""Routing: which center an inquiry belongs to, and which coordinator carries it."""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import ahocorasick
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Center, Inquiry, RoutingDecision, Task, User
from ..models.base import utcnow
from ..models.patient import fold
from ..models.task import OPEN
from ..models.user import user_centers
from . import audit, followups
from .errors import Forbidden, NotFound
from .pipeline import CLOSED

#: A suggestion routes by itself when its center scores at least this much and no other
#: center scores anything; or at least twice the runner-up and 2 or more.
CONFIDENT_ALONE, CONFIDENT_MARGIN = 1.0, 2.0
CHILD_AGE = 18


@dataclass
class Suggestion:
    center: Center | None
    confident: bool
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[dict] = field(default_factory=list)


class Context:
    """What routing reads, read once and kept up to date: a bulk intake routes hundreds of new
    inquiries on one, counting the cases it hands out as it goes. It reads centers and staff
    only, never what is being written: its reads need not write the session first."""

    def __init__(self) -> None:
        self._centers: list[Center] | None = None
        self._coordinators: dict[int, list[User]] | None = None
        self._loads: dict[int, int] = {}
        self._automaton: ahocorasick.Automaton | None = None

    def centers(self) -> list[Center]:
        """The active centers."""
        if self._centers is None:
            with db.session.no_autoflush:
                self._centers = list(db.session.scalars(
                    select(Center).where(Center.is_active.is_(True)).order_by(Center.id)))
        return self._centers

    def keywords(self, text: str) -> dict[int, set[str]]:
        """Center id -> its folded keywords that occur in the folded ``text``: all the
        centers' keywords found in one pass over the text (an Aho-Corasick automaton)."""
        if self._automaton is None:
            owners: dict[str, set[int]] = {}
            for center in self.centers():
                for word in _folded_keywords(center):
                    owners.setdefault(word, set()).add(center.id)
            self._automaton = ahocorasick.Automaton()
            for word, center_ids in owners.items():
                self._automaton.add_word(word, (word, frozenset(center_ids)))
            self._automaton.make_automaton()
        found: dict[int, set[str]] = {}
        if len(self._automaton):
            for _end, (word, center_ids) in self._automaton.iter(text):
                for center_id in center_ids:
                    found.setdefault(center_id, set()).add(word)
        return found

    def coordinators(self, center: Center) -> list[User]:
        """The active coordinators of ``center`` who are not away."""
        if self._coordinators is None:
            self._coordinators = {}
            with db.session.no_autoflush:
                for center_id, user in db.session.execute(
                        select(user_centers.c.center_id, User).join(user_centers, user_centers.c.user_id == User.id)
                        .where(User.role == "coordinator", User.is_active.is_(True), User.is_away.is_(False))
                        .options(selectinload(User.language_rows)).order_by(User.id)):
                    self._coordinators.setdefault(center_id, []).append(user)
        return self._coordinators.get(center.id, [])

    def loads(self, users: list[User]) -> dict[int, int]:
        """Open cases of each of ``users`` (those handed out through this context included)."""
        missing = [u.id for u in users if u.id not in self._loads]
        if missing:
            with db.session.no_autoflush:  # the cases handed out here are counted by ``handed``
                counted = dict(db.session.execute(
                    select(Inquiry.coordinator_id, func.count(Inquiry.id))
                    .where(Inquiry.coordinator_id.in_(missing), Inquiry.stage != CLOSED)
                    .group_by(Inquiry.coordinator_id)).all())
            self._loads.update({user_id: counted.get(user_id, 0) for user_id in missing})
        return {u.id: self._loads[u.id] for u in users}

    def handed(self, user: User | None) -> None:
        """One more open case for ``user``."""
        if user is not None and user.id in self._loads:
            self._loads[user.id] += 1


def _folded_keywords(center: Center) -> frozenset[str]:
    return _fold_keywords(json.dumps(center.keywords or {}, sort_keys=True, ensure_ascii=False))


@lru_cache(maxsize=256)
def _fold_keywords(keywords_json: str) -> frozenset[str]:
    """The folded keywords of a center (cached by their value: an admin's edit is a new key)."""
    words = (word for group in json.loads(keywords_json).values() for word in group)
    return frozenset(folded for folded in map(fold, words) if folded)


def suggest_center(inquiry: Inquiry, context: Context | None = None) -> Suggestion:
    """Score every active center on the request's words (in any language) and the patient's
    age; the reasons say which words matched."""
    context = context or Context()
    centers = context.centers()
    text = fold(" ".join(filter(None, [inquiry.reason, inquiry.referring_institution])))
    scores: dict[str, float] = {}
    reasons: list[dict] = []
    found = context.keywords(text)
    for center in centers:
        matched = sorted(found.get(center.id, ()))
        # a keyword inside a longer matched keyword of the same center counts once
        matched = [w for w in matched if not any(w != o and w in o for o in matched)]
        if matched:
            scores[center.key] = float(len(matched))
            reasons += [{"kind": "keyword", "value": _word_in(text, word), "center": center.key}
                        for word in matched]
    patient = inquiry.patient
    if patient is not None and patient.date_of_birth and any(c.key == "pediatrics" for c in centers):
        age = _age(patient.date_of_birth)
        if age < CHILD_AGE:
            scores["pediatrics"] = scores.get("pediatrics", 0) + 1
            reasons.append({"kind": "age", "value": age, "center": "pediatrics"})
    if not scores:
        return Suggestion(center=None, confident=False, scores={}, reasons=[])
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    best_key, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    confident = (best >= CONFIDENT_ALONE and runner_up == 0) or (
        best >= 2 and best >= CONFIDENT_MARGIN * runner_up)
    center = next(c for c in centers if c.key == best_key)
    return Suggestion(center=center, confident=confident, scores=scores, reasons=reasons)


def _word_in(text: str, keyword: str) -> str:
    """The word of the text that a keyword stem matched ("arrhythmi" -> "arrhythmia")."""
    if " " in keyword or any(unicodedata.east_asian_width(c) in "WF" for c in keyword):
        return keyword  # a phrase, or a script written without spaces between words
    for token in re.findall(r"\w+", text):
        if keyword in token and len(token) <= len(keyword) + 8:
            return token
    return keyword


def _age(born: date) -> int:
    today = date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def pick_coordinator(center: Center, language: str | None, *, exclude: set[int] = frozenset(),
                     context: Context | None = None) -> tuple[User | None, list[dict]]:
    """An active coordinator of ``center``, not away, who speaks ``language`` when there is
    one, else the least loaded (open cases). Returns the reasons too."""
    context = context or Context()
    users = [u for u in context.coordinators(center) if u.id not in exclude]
    loads = context.loads(users)
    candidates = [(u, loads[u.id]) for u in users]
    if not candidates:
        return None, []
    speakers = [(u, n) for u, n in candidates if language and language in u.languages]
    pool = speakers or candidates
    user, load = min(pool, key=lambda item: (item[1], item[0].id))
    reasons = [{"kind": "language", "value": language}] if speakers else []
    reasons.append({"kind": "load", "value": int(load)})
    return user, reasons


def assign(inquiry: Inquiry, center: Center | None, coordinator: User | None) -> None:
    """Give the inquiry its center and coordinator; its open follow-ups go with it."""
    previous = inquiry.coordinator_id
    inquiry.center, inquiry.coordinator = center, coordinator
    new_id = coordinator.id if coordinator else None
    if new_id != previous:
        followups.hand_over(inquiry, previous, new_id)


def record_manual(inquiry: Inquiry, *, actor: User, reasons=()) -> RoutingDecision:
    """Put a person's routing of the inquiry on its timeline."""
    decision = RoutingDecision(inquiry_id=inquiry.id, kind="manual", center_id=inquiry.center_id,
                               coordinator_id=inquiry.coordinator_id, actor_id=actor.id,
                               reasons=list(reasons), created_at=utcnow())
    db.session.add(decision)
    return decision


def route_inquiry(inquiry: Inquiry, *, actor: User | None = None,
                  context: Context | None = None) -> RoutingDecision:
    """Route a new inquiry: a center already chosen (by the patient or a coordinator) is kept
    and only a coordinator is found; else a confident suggestion routes it, and an unsure one
    leaves it in the triage queue with the suggestion on the timeline."""
    context = context or Context()
    now = utcnow()
    language = inquiry.patient.preferred_language if inquiry.patient else None
    if inquiry.center is not None:
        reasons = [{"kind": "chosen", "value": inquiry.center.key, "center": inquiry.center.key}]
        center, kind = inquiry.center, "auto"
    else:
        suggestion = suggest_center(inquiry, context)
        reasons = list(suggestion.reasons)
        if inquiry.service:
            reasons.append({"kind": "service", "value": inquiry.service})
        if not suggestion.confident:
            decision = RoutingDecision(inquiry=inquiry, kind="triage", reasons=reasons,
                                       center=suggestion.center, actor=actor, created_at=now)
            db.session.add(decision)
            return decision
        center, kind = suggestion.center, "auto"
    coordinator = inquiry.coordinator
    if coordinator is None:
        coordinator, why = pick_coordinator(center, language, context=context)
        reasons += why
    assign(inquiry, center, coordinator)
    context.handed(coordinator)
    decision = RoutingDecision(inquiry=inquiry, kind=kind, center=center, coordinator=coordinator,
                               actor=actor, reasons=reasons, created_at=now)
    db.session.add(decision)
    return decision


def route_by_hand(inquiry: Inquiry, center: Center, *, actor: User, expected_version,
                  coordinator: User | None = None) -> RoutingDecision:
    """A coordinator sends the inquiry to ``center`` (from the triage queue or to re-route it);
    the coordinator is kept if given, else found as for automatic routing. Flushes."""
    from .errors import flush_or_conflict
    from .pipeline import check_version
    check_version(inquiry, expected_version)
    reasons = []
    if coordinator is None:
        coordinator, reasons = pick_coordinator(center, inquiry.patient.preferred_language)
    assign(inquiry, center, coordinator)
    inquiry.bump_version()
    inquiry.updated_at = utcnow()
    db.session.flush()
    decision = record_manual(inquiry, actor=actor, reasons=reasons)
    flush_or_conflict(db.session)
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"routed center={center.key}")
    return decision


def set_away(user: User, away: bool, *, actor: User) -> int:
    """A manager marks a coordinator away (no new cases, their open work handed to colleagues)
    or back; returns how many cases were handed over. Flushes."""
    if not actor.is_manager:
        raise Forbidden()
    if user.role != "coordinator":
        raise NotFound()
    user.is_away = bool(away)
    db.session.flush()
    return reassign_open_work(user, actor=actor) if away else 0


def reassign_open_work(user: User, *, actor: User) -> int:
    """Hand every open case of ``user`` (and its open tasks) to another coordinator of the
    case's center, by language and load; returns how many moved. Flushes."""
    moved = 0
    cases = db.session.scalars(select(Inquiry).where(Inquiry.coordinator_id == user.id,
                                                     Inquiry.stage != CLOSED).order_by(Inquiry.id)).all()
    for inquiry in cases:
        if inquiry.center is None:
            new, reasons = None, []
        else:
            new, reasons = pick_coordinator(inquiry.center, inquiry.patient.preferred_language,
                                            exclude={user.id})
        assign(inquiry, inquiry.center, new)
        inquiry.bump_version()
        db.session.add(RoutingDecision(inquiry_id=inquiry.id, kind="reassigned",
                                       center_id=inquiry.center_id,
                                       coordinator_id=new.id if new else None, actor_id=actor.id,
                                       reasons=reasons + [{"kind": "away", "value": user.name}],
                                       created_at=utcnow()))
        db.session.flush()
        moved += 1
    for task in db.session.scalars(select(Task).where(Task.assignee_id == user.id, Task.state == OPEN)):
        task.assignee_id = task.inquiry.coordinator_id if task.inquiry.coordinator_id != user.id else None
    db.session.flush()
    return moved


def decisions_of(inquiry: Inquiry) -> list[RoutingDecision]:
    return list(db.session.scalars(select(RoutingDecision).where(
        RoutingDecision.inquiry_id == inquiry.id).order_by(RoutingDecision.id)))
