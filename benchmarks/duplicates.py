"""Measure the review list of possible duplicates at 100,000 patients: the median time and SQL
query count of the page, for a manager and a coordinator; the time to compare a backlog of new
records (all of them at first, then a mail batch's worth); an edit, a merge, a dismissal.

Usage: python benchmarks/duplicates.py [--inquiries N] [--database URL] [--repeat R]
Builds its data with ``crm demo`` (whose patients have no name key: the script computes it),
then adds records that repeat an existing patient's email, phone, name and birth date or name
alone, with an inquiry each, until there are 100,000 patients. Nothing is asserted (target:
the list in 30 ms or less at the median). ``--old REV`` also times the list as it was at that
commit (computed from the patients table on every view) on the same data.
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import bindparam, event, func, insert, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PATIENTS = 100_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inquiries", type=int, default=100_000)
    parser.add_argument("--database", help="an empty database to fill (default: a new SQLite file)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--old", help="a commit whose review list to time as well (e.g. 3e6ab24)")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    env = {"CRM_DATABASE_URL": url, "PATH": str(ROOT / ".venv/bin") + ":/usr/bin:/bin"}
    crm = str(ROOT / ".venv/bin/crm")
    subprocess.run([crm, "db", "upgrade"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([crm, "demo", "--inquiries", str(args.inquiries), "--seed", "1"], env=env,
                   check=True, capture_output=True)
    print(f"crm demo --inquiries {args.inquiries}: {time.perf_counter() - started:.1f} s  "
          f"({url.split(':')[0]})")

    from crm import create_app
    from crm.extensions import db
    from crm.models import Patient, User
    from crm.services import duplicates
    app = create_app("development", DATABASE_URL=url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    queries = {"n": 0}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))
        added = build_duplicates(db, Patient)
        total = db.session.scalar(select(func.count(Patient.id)))
        print(f"{total:,} patients, {added:,} of them repeating another's details")

        started = time.perf_counter()
        checked = duplicates.check_new_patients()
        db.session.commit()
        print(f"first comparison of all {checked:,} records: {time.perf_counter() - started:.1f} s, "
              f"{db.session.scalar(text('SELECT count(*) FROM duplicate_candidates')):,} candidate rows")
        users = {role: db.session.scalar(select(User).where(User.role == role, User.is_active.is_(True))
                                         .order_by(User.id).limit(1))
                 for role in ("manager", "coordinator")}
        logins = {role: user.email for role, user in users.items()}
        maintenance(db, Patient, users["manager"], duplicates)

    old = load_old(args.old) if args.old else None
    print(f"{'review list':<34}{'role':<13}{'median ms':>10}{'p90 ms':>9}{'queries':>9}{'pairs':>7}")
    for role, email in logins.items():
        client = app.test_client()
        client.post("/login", data={"email": email, "password": "itinera-demo"})
        timed(f"page /patients/duplicates", role, args.repeat, queries,
              lambda: client.get("/patients/duplicates"), pairs=lambda r: r.get_data().count(b"/merge/"))
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            _ = user.role, list(user.centers)
            timed("duplicates.review_list", role, args.repeat, queries,
                  lambda: duplicates.review_list(user), pairs=len)
            if old is not None:
                timed(f"review_list at {args.old}", role, max(3, args.repeat // 3), queries,
                      lambda: old.review_list(user), pairs=len)
            db.session.rollback()


def timed(label, role, repeat, queries, call, *, pairs) -> None:
    times, counts, shown = [], [], 0
    for _ in range(repeat):
        queries["n"] = 0
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
        counts.append(queries["n"])
        shown = pairs(result)
    times.sort()
    print(f"{label:<34}{role:<13}{statistics.median(times):>10.1f}"
          f"{times[max(0, int(len(times) * 0.9) - 1)]:>9.1f}{max(counts):>9}{shown:>7}", flush=True)


def build_duplicates(db, Patient) -> int:
    """Name keys for the demo's patients; then copies of existing patients, each with another
    way of being the same person, and an inquiry copied from the original's."""
    from crm.models.patient import name_key
    rows = db.session.execute(select(Patient.id, Patient.given_name, Patient.family_name)).all()
    table = Patient.__table__
    db.session.execute(update(table).where(table.c.id == bindparam("pid"))
                       .values(name_key=bindparam("key"), updated_at=table.c.updated_at),
                       [{"pid": r.id, "key": name_key(r.given_name, r.family_name)} for r in rows])
    db.session.commit()
    rng = random.Random(11)
    have = len(rows)
    originals = db.session.execute(select(Patient).order_by(Patient.id)).scalars().all()
    copies = []
    for n in range(max(0, PATIENTS - have)):
        source = rng.choice(originals)
        kind = rng.choice(("email", "phone", "name_and_birth_date", "name"))
        copy = {"given_name": source.given_name, "family_name": source.family_name,
                "name_key": source.name_key, "preferred_language": source.preferred_language,
                "country": source.country, "search_text": "", "version": 1,
                "created_at": source.created_at, "updated_at": source.updated_at,
                "email": f"copy{n}@example.org", "phone": None, "date_of_birth": None}
        if kind == "email" and source.email:
            copy["email"] = source.email.upper()
        elif kind == "phone":
            copy["phone"] = source.phone
        elif kind == "name_and_birth_date":
            copy["date_of_birth"] = source.date_of_birth
        copy["email_lower"] = copy["email"].lower()
        copies.append((source.id, copy))
    next_id = (db.session.scalar(select(func.max(Patient.id))) or 0) + 1
    for offset, (_source, copy) in enumerate(copies):
        copy["id"] = next_id + offset
    for start in range(0, len(copies), 5000):
        db.session.execute(insert(Patient), [copy for _s, copy in copies[start:start + 5000]])
    columns = ("service, stage, outcome, center_id, coordinator_id, source, reason, consent_at, "
               "created_at, updated_at, stage_entered_at, closed_at, version")
    for source, copy in copies:
        db.session.execute(text(
            f"INSERT INTO inquiries (patient_id, {columns}) SELECT :pid, {columns} FROM inquiries "
            "WHERE patient_id = :source ORDER BY id LIMIT 1"), {"pid": copy["id"], "source": source})
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('patients', 'id'), "
                                "(SELECT MAX(id) FROM patients) + 1, false)"))
    db.session.commit()
    return len(copies)


def maintenance(db, Patient, manager, duplicates) -> None:
    """What keeping the table costs: 200 new records (a mail batch) compared on the list's next
    view; an edit of an email, a merge, a dismissal, each with its commit."""
    from crm.services import intake
    newest = db.session.scalars(select(Patient).where(Patient.merged_into_id.is_(None))
                                .order_by(Patient.id.desc()).limit(400)).all()
    next_id = newest[0].id + 1
    db.session.execute(insert(Patient), [
        {"id": next_id + n, "given_name": p.given_name, "family_name": p.family_name,
         "name_key": p.name_key, "email": f"batch{n}@example.org", "email_lower": f"batch{n}@example.org",
         "phone": p.phone, "preferred_language": "en", "search_text": "", "version": 1}
        for n, p in enumerate(newest[:200])])
    db.session.commit()
    started = time.perf_counter()
    checked = duplicates.check_new_patients()
    db.session.commit()
    print(f"compare {checked} new records (a mail batch): {(time.perf_counter() - started) * 1000:.0f} ms")
    edits, merges, dismissals = [], [], []
    for n in range(10):
        a, b, c, d = newest[200 + 4 * n: 204 + 4 * n]
        started = time.perf_counter()
        intake.update_patient(a, {"email": b.email or f"x{n}@example.org"}, actor=manager,
                              expected_version=a.version)
        db.session.commit()
        edits.append(time.perf_counter() - started)
        started = time.perf_counter()
        duplicates.merge_patients(c, d, actor=manager, expected_versions=(c.version, d.version))
        db.session.commit()
        merges.append(time.perf_counter() - started)
        started = time.perf_counter()
        duplicates.dismiss(a, b, actor=manager)
        db.session.commit()
        dismissals.append(time.perf_counter() - started)
    print("median ms: edit an email {:.1f}, merge {:.1f}, dismiss {:.1f}".format(
        *(statistics.median(t) * 1000 for t in (edits, merges, dismissals))))


def load_old(rev: str):
    """``crm.services.duplicates`` as it was at ``rev``, imported beside today's."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:crm/services/duplicates.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "duplicates_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("crm.services.duplicates_old", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main()
