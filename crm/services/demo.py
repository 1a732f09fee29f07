"""``crm demo``: a believable international center, deterministic by seed."""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import func, select, text

from ..extensions import db
from ..models import Center, Inquiry, Note, Patient, StageChange, Task, User
from ..models.patient import fold, name_key
from . import demo_data as data
from . import followups
from .duplicates import check_new_patients
from .centers import ensure_default_centers
from .pipeline import CLOSED, path_for
from .users import hash_password

DEMO_PASSWORD = "itinera-demo"  # nosec B105 - the demo accounts' password, printed by crm demo
DEMO_LOGINS = {"password": DEMO_PASSWORD,
               "accounts": [(email, role) for email, _n, role, _c, _l in data.STAFF]}
STAGE_WEIGHTS = {"new": 7, "intake": 9, "records": 14, "clinical_review": 10,
                 "financial_clearance": 8, "scheduling": 7, "travel": 5, "in_care": 6,
                 "follow_up": 6, "closed": 28}
OUTCOME_WEIGHTS = {"completed": 45, "declined_by_patient": 12, "not_accepted": 10, "no_response": 20,
                   "referred_elsewhere": 8, "duplicate": 5}
SERVICE_WEIGHTS = {"second_opinion_in_person": 30, "second_opinion_online": 22, "treatment": 25,
                   "surgery": 15, "clinical_trial": 8}
SOURCE_WEIGHTS = {"email": 45, "web_form": 30, "referral": 15, "phone": 8, "api": 2}
CENTER_WEIGHTS = {"cardiology": 16, "digestive_health": 12, "neurology": 14, "cancer": 18,
                  "orthopaedics": 10, "transplant": 5, "pediatrics": 8, "urology_kidney": 6,
                  "womens_health": 5, "endocrinology": 6}
BATCH = 5000


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def ensure_demo_staff() -> dict[str, User]:
    """The demo accounts (created once, never changed). Flushes."""
    centers = {c.key: c for c in db.session.scalars(select(Center))}
    existing = {u.email: u for u in db.session.scalars(select(User))}
    password_hash = None
    for email, name, role, center_keys, languages in data.STAFF:
        if email in existing:
            continue
        password_hash = password_hash or hash_password(DEMO_PASSWORD)
        user = User(email=email, name=name, role=role, password_hash=password_hash,
                    centers=[centers[k] for k in center_keys if k in centers])
        user.languages = languages
        db.session.add(user)
        existing[email] = user
    db.session.flush()
    return existing


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def load_demo(count: int, *, seed: int = 1, progress: Callable[[int], None] | None = None,
              today: datetime | None = None) -> dict:
    """Create ``count`` inquiries with their patients and histories. Same seed and day, same
    data. Commits in batches, so that 100,000 inquiries fit in memory and in a minute."""
    rng = random.Random(seed)  # nosec B311 - synthetic data, the same for a seed: no secret
    answers = random.Random(f"{seed}:answers")  # nosec B311 - its own draws: the rest stays as it was
    ensure_default_centers()
    staff = ensure_demo_staff()
    db.session.commit()
    centers = {c.key: c.id for c in db.session.scalars(select(Center))}
    by_center: dict[str, list[User]] = {}
    for user in staff.values():
        if user.role == "coordinator" and user.is_active:
            for center in user.centers:
                by_center.setdefault(center.key, []).append(user)
    managers = [u.id for u in staff.values() if u.role == "manager"]
    now = datetime.combine((today or datetime.now(timezone.utc)).date(), time(12), timezone.utc)
    countries = [c for c in data.COUNTRIES]
    country_weights = [c[3] for c in countries]
    patient_id, inquiry_id = _next_id(Patient), _next_id(Inquiry)
    change_id, note_id, task_id = _next_id(StageChange), _next_id(Note), _next_id(Task)
    calendar = followups.calendar()
    made = {"inquiries": 0, "patients": 0, "users": len(staff)}
    patients, inquiries, changes, notes, tasks = [], [], [], [], []
    recent: list[dict] = []  # patients who may come back with a second inquiry

    def flush():
        for model, rows in ((Patient, patients), (Inquiry, inquiries), (StageChange, changes),
                            (Note, notes), (Task, tasks)):
            if rows:
                db.session.execute(model.__table__.insert(), rows)
                rows.clear()
        db.session.commit()

    for n in range(count):
        if recent and rng.random() < 0.07:
            patient = rng.choice(recent)
        else:
            iso2, language, zones, _w = rng.choices(countries, weights=country_weights)[0]
            sex = rng.choice(("female", "male"))
            names = data.NAMES[iso2]
            given, family = rng.choice(names[sex]), rng.choice(names["family"])
            latin = language not in ("ar", "zh-Hans", "ru")
            handle = f"patient{patient_id}"
            email = f"{handle}@example.{'com' if latin else 'net'}" if rng.random() < 0.9 else None
            phone = "".join(str(rng.randrange(10)) if ch == "#" else ch
                            for ch in data.PHONE_PATTERNS[iso2])
            dob = (now - timedelta(days=rng.randrange(365 * 2, 365 * 85))).date()
            patient = {"id": patient_id, "given_name": given, "family_name": family, "email": email,
                       "phone": phone, "date_of_birth": dob, "sex": sex, "country": iso2,
                       "preferred_language": language, "timezone": rng.choice(zones),
                       "mrn": f"{patient_id + 1000000:07d}" if rng.random() < 0.45 else None,
                       "created_at": now, "updated_at": now, "version": 1}
            patient["email_lower"] = email.lower() if email else None
            patient["name_key"] = name_key(given, family)
            patient["search_text"] = fold(" ".join(filter(None, [given, family, email, phone,
                                                                 patient["mrn"]])))
            patients.append(patient)
            recent.append(patient)
            if len(recent) > 500:
                recent.pop(0)
            patient_id += 1
            made["patients"] += 1

        service = _pick(rng, SERVICE_WEIGHTS)
        center_key = _pick(rng, CENTER_WEIGHTS)
        stage = _pick(rng, STAGE_WEIGHTS)
        path = list(path_for(service))
        if stage == CLOSED:
            closed_from = rng.choice(path[:-1] if rng.random() < 0.5 else path)
            steps = path[:path.index(closed_from) + 1] + [CLOSED]
        else:
            if stage not in path:
                stage = "in_care"
            steps = path[:path.index(stage) + 1]
        # Days spent in each stage before the current one; open cases are recent and most
        # move within days, a few have stalled; closed ones are spread over the past year.
        durations = [timedelta(days=rng.uniform(0.2, 9)) for _ in steps[1:]]
        if stage == CLOSED:
            waiting = timedelta(days=rng.uniform(0, 330))
        elif rng.random() < 0.12:
            waiting = timedelta(days=rng.uniform(7.5, 40))
        elif stage == "new":
            waiting = timedelta(hours=rng.uniform(0.5, 30))
        else:
            waiting = timedelta(hours=rng.uniform(1, 24 * 6.5))
        created = now - waiting - sum(durations, timedelta())
        if created < patient["created_at"]:
            patient["created_at"] = patient["updated_at"] = created
        routed = stage != "new" or rng.random() < 0.65
        language = patient["preferred_language"]
        team = by_center.get(center_key, [])
        speakers = [u for u in team if language in u.languages]
        coordinator = (rng.choice(speakers or team).id if team and routed and stage != "new" else None)
        when = created
        inquiry = {"id": inquiry_id, "patient_id": patient["id"], "service": service, "stage": stage,
                   "outcome": _pick(rng, OUTCOME_WEIGHTS) if stage == CLOSED else None,
                   "center_id": centers.get(center_key) if routed else None,
                   "coordinator_id": coordinator,
                   "source": _pick(rng, SOURCE_WEIGHTS),
                   "reason": rng.choice(data.REASONS[center_key][language]),
                   "consent_at": created, "created_at": created, "version": len(steps),
                   "referring_name": None, "referring_email": None, "referring_institution": None,
                   "referring_country": None}
        if inquiry["source"] == "referral":
            inquiry.update(referring_name=rng.choice(data.PHYSICIANS),
                           referring_institution=rng.choice(data.INSTITUTIONS[patient["country"]]),
                           referring_country=patient["country"])
        previous = None
        for index, step in enumerate(steps):
            if previous is not None:
                when = when + durations[index - 1]
            actor = None if previous is None else (coordinator or (rng.choice(managers) if managers else None))
            note = ""
            if previous is not None and step in data.STAGE_NOTES and rng.random() < 0.6:
                note = rng.choice(data.STAGE_NOTES[step])
            changes.append({"id": change_id, "inquiry_id": inquiry_id, "actor_id": actor,
                            "from_stage": previous, "to_stage": step,
                            "outcome": inquiry["outcome"] if step == CLOSED else None,
                            "note": note, "created_at": when})
            change_id += 1
            previous = step
        inquiry["stage_entered_at"] = when
        inquiry["updated_at"] = when
        inquiry["closed_at"] = when if stage == CLOSED else None
        if coordinator and rng.random() < 0.35:
            for _ in range(rng.randrange(1, 3)):
                noted = created + (when - created) * rng.random()
                notes.append({"id": note_id, "inquiry_id": inquiry_id, "author_id": coordinator,
                              "body": rng.choice(data.NOTES), "created_at": noted})
                note_id += 1
        if len(steps) > 1:  # the case left ``new``: its first response is on record
            tasks.append(_first_response(answers, calendar, task_id, inquiry_id, coordinator, created,
                                         created + durations[0], closed=steps[1] == CLOSED))
            task_id += 1
        rule = followups.RULES_BY_STAGE.get(stage)
        if rule is not None:
            tasks.append({"id": task_id, "inquiry_id": inquiry_id, "kind": rule.kind, "state": "open",
                          "assignee_id": coordinator, "due_at": rule.due(calendar, when), "note": "",
                          "created_at": when, "completed_at": None, "completed_by_id": None})
            task_id += 1
        inquiries.append(inquiry)
        inquiry_id += 1
        made["inquiries"] += 1
        if len(inquiries) >= BATCH:
            flush()
            if progress:
                progress(BATCH)
    leftover = len(inquiries)
    flush()
    if progress and leftover:
        progress(leftover)
    _sync_sequences()
    check_new_patients()  # possible duplicates found now, not on the first view of their list
    db.session.commit()
    return made


def _first_response(rng: random.Random, calendar, task_id: int, inquiry_id: int, coordinator: int | None,
                    created: datetime, left_new: datetime, *, closed: bool) -> dict:
    """The first-response task of a case that has left ``new``: most are answered by the next
    business morning, some later; leaving ``new`` completes it (or cancels it, when the case was
    closed unanswered)."""
    due = followups.RULES_BY_KIND["first_response"].due(calendar, created)
    if rng.random() < 0.86:
        answered = created + (due - created) * rng.uniform(0.05, 0.95)
    else:
        answered = due + timedelta(hours=rng.uniform(1, 60))
    state = "done"
    if answered >= left_new:
        answered, state = left_new, "cancelled" if closed else "done"
    return {"id": task_id, "inquiry_id": inquiry_id, "kind": "first_response", "state": state,
            "assignee_id": coordinator, "due_at": due, "note": "", "created_at": created,
            "completed_at": answered, "completed_by_id": coordinator if state == "done" else None}


def _sync_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the rows."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("patients", "inquiries", "stage_changes", "notes", "tasks", "users", "centers"):
        db.session.execute(text(  # nosemgrep: itinera-sql-string-formatting - the names of the tuple above
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # nosec B608 - table names above
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"))
    db.session.commit()
