"""Measure the foundation at 100,000 inquiries: `crm demo` time, then the median time and SQL
query count of the board, the list (pages and filters) and the inquiry page.

Usage: python benchmarks/pipeline.py [--inquiries N] [--database URL] [--repeat R]
Prints a table; nothing is asserted (targets: demo < 60 s, pages < 100 ms median, query counts
that do not grow with the data).
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inquiries", type=int, default=100_000)
    parser.add_argument("--database", help="an existing database to fill (default: a new SQLite file)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--skip-demo", action="store_true", help="measure the pages of --database as it is")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    env = {"CRM_DATABASE_URL": url, "PATH": str(ROOT / ".venv/bin") + ":/usr/bin:/bin"}
    crm = str(ROOT / ".venv/bin/crm")
    subprocess.run([crm, "db", "upgrade"], env=env, check=True, capture_output=True)
    if not args.skip_demo:
        started = time.perf_counter()
        subprocess.run([crm, "demo", "--inquiries", str(args.inquiries), "--seed", "1"], env=env,
                       check=True, capture_output=True)
        demo_seconds = time.perf_counter() - started
        print(f"crm demo --inquiries {args.inquiries}: {demo_seconds:.1f} s  ({url.split(':')[0]})")

    from crm import create_app
    from crm.extensions import db
    from crm.models import Inquiry, User
    app = create_app("development", DATABASE_URL=url, WTF_CSRF_ENABLED=False,
                     RATELIMIT_ENABLED=False)
    queries = {"n": 0}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))
        users = {role: db.session.scalar(select(User).where(User.role == role).order_by(User.id).limit(1))
                 for role in ("manager", "coordinator")}
        from crm.services.visibility import visible_inquiries
        some_ids = {role: db.session.scalar(visible_inquiries(user).with_only_columns(Inquiry.id)
                                            .order_by(Inquiry.id.desc()).offset(500).limit(1))
                    for role, user in users.items()}
        logins = {role: user.email for role, user in users.items()}
        # managers sign in in two steps: the key of one enrolled by an earlier run, and its last step
        keys = {user.email: (user.totp_secret if user.has_totp else None, user.totp_last_step)
                for user in users.values()}
    def pages_for(some_id): return [
        ("board", "/inquiries/board"),
        ("board, one center", "/inquiries/board?center=cardiology"),
        ("list, page 1", "/inquiries/"),
        ("list, page 1000", "/inquiries/?page=1000"),
        ("list, last page", "/inquiries/?page=99999"),
        ("list, stage + language", "/inquiries/?stage=records&language=ar"),
        ("list, waiting longest", "/inquiries/?sort=waiting&page=50"),
        ("list, search name", ("garc",)),
        ("list, search reference", (f"ITN-{some_id:06d}",)),
        ("inquiry page", f"/inquiries/{some_id}"),
    ]
    print(f"{'page':<28}{'role':<13}{'median ms':>10}{'p90 ms':>9}{'queries':>9}")
    for role, email in logins.items():
        client = app.test_client()
        sign_in(client, email, *keys[email])
        for label, url_ in pages_for(some_ids[role]):
            if isinstance(url_, tuple):  # a search: the text goes in the session, not the URL
                client.post("/inquiries/search", data={"q": url_[0]})
                url_ = "/inquiries/?search=1"
            times, counts = [], []
            for _ in range(args.repeat):
                queries["n"] = 0
                t0 = time.perf_counter()
                response = client.get(url_)
                times.append((time.perf_counter() - t0) * 1000)
                counts.append(queries["n"])
                assert response.status_code == 200, (url_, response.status_code)
            times.sort()
            print(f"{label:<28}{role:<13}{statistics.median(times):>10.1f}"
                  f"{times[int(len(times) * 0.9) - 1]:>9.1f}{max(counts):>9}")


def sign_in(client, email: str, secret: str | None, last_step: int | None) -> None:
    """The login form, then the second step where the role has one: the authenticator app set up
    from the key on the set-up page, or a code of the key an earlier run set up."""
    import pyotp
    response = client.post("/login", data={"email": email, "password": "itinera-demo"})
    where = response.headers.get("Location", "")
    if not where.endswith(("/login/setup", "/login/code")):
        return
    page = client.get(where).get_data(as_text=True)
    if where.endswith("/login/setup"):
        secret, last_step = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", ""), None
    now = int(time.time()) // 30
    step = max(now, (last_step or 0) + 1)  # a code is taken once: the server accepts the next step too
    if step > now + 1:
        time.sleep(30 - time.time() % 30 + 0.05)
    client.post(where, data={"code": pyotp.TOTP(secret).generate_otp(step)})


if __name__ == "__main__":
    main()
