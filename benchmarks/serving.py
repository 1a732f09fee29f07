"""Itinera served for real: synthetic data at a chosen size, gunicorn on loopback, and per page
the requests per second under load, the latency of one request at a time and under load (median
and 95th percentile), and the SQL statements each request runs; beside them a hello-world Flask
route on the same server settings (the floor). SQLite and PostgreSQL in the same run. Writes
the table to ``benchmarks/RESULTS.md`` and prints it.

Usage: .venv/bin/python benchmarks/serving.py [--inquiries 100000 [1000000 …]] [--databases sqlite,postgresql]
                                           [--seconds 8] [--connections 16] [--workers 2] [--data DIR]

Needs gunicorn (``pip install -e '.[prod]'``; ``make benchmark`` does it) and ``wrk`` (Debian's
package ``wrk``: installed by ``make benchmark`` when run as root). PostgreSQL: a throwaway
cluster on loopback is started (Debian's ``postgresql``) unless ``--postgres-url`` names a server.
Loaded databases (and that cluster's files) are kept in ``--data`` (default ``/tmp/itinera-bench``)
and reused by the next run of the same size: loading 1,000,000 inquiries takes a while. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PASSWORD = "itinera-demo"
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK {\\"requests\\": %d, \\"us\\": %d, \\"p50\\": %d, \\"p95\\": %d, "
    .. "\\"errors\\": %d}\\n", summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(95), e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine_speed() -> float:
    """Seconds for ten million Python additions (shared machines vary from minute to minute)."""
    started, total = time.perf_counter(), 0
    for n in range(10_000_000):
        total += n
    return time.perf_counter() - started


@contextmanager
def postgres_cluster(url: str | None, data: Path):
    """An admin URL of a PostgreSQL server: the one given, or a cluster on loopback whose files
    are kept in ``data/postgresql`` for the next run."""
    if url:
        yield url
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not bins:
        sys.exit("PostgreSQL is not installed (apt-get install postgresql), or pass --postgres-url")
    pgbin, folder, port = bins[-1], data / "postgresql", free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    run = lambda *args: subprocess.run([*as_pg, *map(str, args)], check=True, capture_output=True)  # noqa: E731
    if not (folder / "data" / "PG_VERSION").exists():
        folder.mkdir(parents=True, exist_ok=True)
        if as_pg:
            shutil.chown(folder, "postgres")
        run(pgbin / "initdb", "-D", folder / "data", "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync")
    run(pgbin / "pg_ctl", "-D", folder / "data", "-l", folder / "log", "-w", "-s", "-o",
        f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c shared_buffers=512MB "
        "-c fsync=off -c synchronous_commit=off -c max_connections=100", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(pgbin / "pg_ctl", "-D", folder / "data", "-m", "fast", "-w", "-s", "stop")


def database_for(kind: str, size: int, data: Path, pg_admin: str | None) -> tuple[str, float | None]:
    """A database of ``size`` demo inquiries (made now, or kept from an earlier run) and the
    seconds ``crm demo`` took (None when reused)."""
    if kind == "sqlite":
        path = data / f"sqlite-{size}.sqlite3"
        url, exists = f"sqlite:///{path}", path.exists()
    else:
        import sqlalchemy as sa
        name = f"itinera_bench_{size}"
        admin = sa.create_engine(pg_admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                        {"n": name}).first() is not None
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = pg_admin.rsplit("/", 1)[0] + "/" + name
    env = environment(url)
    subprocess.run([BIN / "crm", "db", "upgrade"], env=env, check=True, capture_output=True)
    if exists and _count_inquiries(env) == size:
        return url, None
    started = time.perf_counter()
    print(f"loading {size:,} demo inquiries into {kind} …", file=sys.stderr, flush=True)
    subprocess.run([BIN / "crm", "demo", "--inquiries", str(size), "--seed", "1"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    if kind == "postgresql":
        subprocess.run([BIN / "python", "-c", "from crm import create_app; from crm.extensions import db\n"
                        "import sqlalchemy as sa\napp = create_app()\nwith app.app_context():\n"
                        "    with db.engine.connect().execution_options(isolation_level='AUTOCOMMIT') as c:\n"
                        "        c.exec_driver_sql('VACUUM ANALYZE')"], env=env, check=True)
    return url, time.perf_counter() - started


def _count_inquiries(env: dict) -> int:
    out = subprocess.run([BIN / "python", "-c", "from crm import create_app; from crm.extensions import db\n"
                          "import sqlalchemy as sa\napp = create_app()\nwith app.app_context():\n"
                          "    print(db.session.scalar(sa.text('SELECT count(*) FROM inquiries')))"],
                         env=env, check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def environment(url: str) -> dict:
    return {**os.environ, "CRM_DATABASE_URL": url, "CRM_ENV": "production",
            "CRM_SECRET_KEY": "benchmark-only-" + "x" * 40, "CRM_BASE_URL": "http://127.0.0.1",
            # plain HTTP on loopback stands in for TLS at a proxy: the cookie may travel over it
            "CRM_SESSION_COOKIE_SECURE": "false", "PYTHONPATH": str(ROOT)}


@contextmanager
def gunicorn(app: str, env: dict, workers: int):
    """``app`` served by gunicorn on a free loopback port, with the production settings."""
    port = free_port()
    process = subprocess.Popen([BIN / "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                                "--access-logfile", "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
                                app], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + ("/healthz" if "served:app" in app else "/"), timeout=1)
            break
        except OSError:
            if process.poll() is not None:
                sys.exit(f"gunicorn {app} did not start:\n{process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


class Session:
    """A signed-in browser: the session cookie of a real sign-in (CSRF token included)."""

    def __init__(self, base: str, email: str):
        self.base, self.jar = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        page = self.opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD}).encode()
        self.opener.open(base + "/login", data=form)
        if not any(c.name == "itinera_session" for c in self.jar):
            sys.exit(f"could not sign in as {email}")

    def headers(self) -> dict:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar)}


def one_at_a_time(url: str, headers: dict, count: int) -> tuple[float, float, int]:
    """Median and 95th-percentile milliseconds of ``count`` requests made one after another, and
    the SQL statements the last one ran."""
    times, queries = [], 0
    for _ in range(count):
        request = urllib.request.Request(url, headers=headers)
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            if response.status != 200:
                sys.exit(f"{url}: {response.status}")
            queries = int(response.headers.get("X-SQL-Queries", 0))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], queries


def under_load(url: str, headers: dict, seconds: int, connections: int, script: Path) -> dict:
    """wrk's requests per second and latency (median, 95th percentile) with ``connections``."""
    args = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-s", str(script), "--timeout", "10s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout
    figures = json.loads(out.split("WRK ", 1)[1].splitlines()[0])
    return {"rps": figures["requests"] / (figures["us"] / 1e6), "p50": figures["p50"] / 1000,
            "p95": figures["p95"] / 1000, "errors": figures["errors"]}


def pages(env: dict) -> tuple[list[tuple[str, str, str]], dict]:
    """(label, role, path) of the pages measured, and the API token of the manager."""
    code = ("from crm import create_app; from crm.extensions import db; from crm.models import Inquiry, User\n"
            "from crm.services.visibility import visible_inquiries; import sqlalchemy as sa, json\n"
            "app = create_app()\nwith app.app_context():\n"
            "    out = {}\n"
            "    for role in ('manager', 'coordinator'):\n"
            "        user = db.session.scalar(sa.select(User).where(User.role == role, User.email.like('%@itinera.example')).order_by(User.id).limit(1))\n"
            "        some = db.session.scalar(visible_inquiries(user).with_only_columns(Inquiry.id).order_by(Inquiry.id.desc()).offset(500).limit(1))\n"
            "        out[role] = [user.email, some]\n"
            "    print(json.dumps(out))")
    found = json.loads(subprocess.run([BIN / "python", "-c", code], env=env, check=True, capture_output=True,
                                      text=True).stdout)
    token = subprocess.run([BIN / "crm", "tokens", "create", found["manager"][0]], env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    listed = []
    for role, (_email, some_id) in found.items():
        listed += [("dashboard", role, "/dashboard/"), ("board", role, "/inquiries/board"),
                   ("list", role, "/inquiries/"), ("inquiry page", role, f"/inquiries/{some_id}")]
    listed.append(("API list", "manager (token)", "/api/v1/inquiries"))
    return listed, {"token": token, "emails": {role: email for role, (email, _id) in found.items()}}


def measure(kind: str, size: int, url: str, args, script: Path) -> list[dict]:
    env = environment(url)
    rows = []
    with gunicorn("benchmarks.served:hello", env, args.workers) as base:
        single = one_at_a_time(base + "/", {}, args.requests)
        load = under_load(base + "/", {}, args.seconds, args.connections, script)
        rows.append({"page": "hello world (floor)", "role": "", "single": single, "load": load})
    listed, who = pages(env)
    with gunicorn("benchmarks.served:app", env, args.workers) as base:
        sessions = {role: Session(base, email) for role, email in who["emails"].items()}
        for label, role, path in listed:
            headers = ({"Authorization": f"Bearer {who['token']}"} if "token" in role
                       else sessions[role].headers())
            single = one_at_a_time(base + path, headers, args.requests)
            load = under_load(base + path, headers, args.seconds, args.connections, script)
            rows.append({"page": label, "role": role, "single": single, "load": load})
            print(f"  {kind:<10} {size:>9,}  {label:<14} {role:<16} one at a time: p50 {single[0]:6.1f} ms  "
                  f"p95 {single[1]:6.1f} ms  {single[2]:>3} queries   under load: {load['rps']:7.0f} req/s  "
                  f"p50 {load['p50']:6.1f} ms  p95 {load['p95']:6.1f} ms", file=sys.stderr, flush=True)
    return rows


def table(results: list[tuple[str, int, float | None, list[dict]]], args, speed: float) -> str:
    lines = [
        "# Itinera served: pages per second and latency",
        "",
        f"Written by `benchmarks/serving.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"({platform.machine()}, {os.cpu_count()} cores; ten million Python additions in {speed:.2f} s).",
        f"gunicorn with {args.workers} sync workers, production settings, on loopback. *One at a time*: "
        f"{args.requests} requests in a row, one connection (what a user waits). *Under load*: wrk with "
        f"{args.connections} connections for {args.seconds} s (latency then includes the queue). "
        "*Queries*: SQL statements the request ran. *× floor*: requests per second of the "
        "hello-world route divided by the page's, under the same load.",
        "",
    ]
    for kind, size, demo_seconds, rows in results:
        loaded = f"loaded by `crm demo` in {demo_seconds:.0f} s" if demo_seconds else "loaded earlier"
        floor = rows[0]["load"]["rps"]
        lines += [f"## {kind}, {size:,} inquiries ({loaded})", "",
                  "| page | role | one at a time p50 | p95 | queries | under load req/s | p50 | p95 | × floor |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in rows:
            (p50, p95, queries), load = row["single"], row["load"]
            errors = f" ({load['errors']} errors)" if load["errors"] else ""
            lines.append(f"| {row['page']} | {row['role']} | {p50:.1f} ms | {p95:.1f} ms | {queries} | "
                         f"{load['rps']:,.0f}{errors} | {load['p50']:.1f} ms | {load['p95']:.1f} ms | "
                         f"{floor / load['rps']:.1f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inquiries", type=int, nargs="+", default=[100_000])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=40, help="requests one at a time, per page")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "itinera-bench")
    parser.add_argument("--postgres-url", help="an admin URL of a PostgreSQL server to use")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    for tool in (BIN / "gunicorn", shutil.which("wrk")):
        if not tool or not Path(tool).exists():
            sys.exit("needs gunicorn (.venv/bin/pip install -e '.[prod]') and wrk (apt-get install wrk); "
                     "`make benchmark` installs both")
    args.data.mkdir(parents=True, exist_ok=True)
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    speed = machine_speed()
    results = []
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(WRK_REPORT)
    script = Path(handle.name)
    try:
        with postgres_cluster(args.postgres_url, args.data) if "postgresql" in kinds else _nothing() as pg_admin:
            for kind in kinds:
                for size in args.inquiries:
                    url, demo_seconds = database_for(kind, size, args.data, pg_admin)
                    results.append((kind, size, demo_seconds, measure(kind, size, url, args, script)))
    finally:
        script.unlink()
    text = table(results, args, speed)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


@contextmanager
def _nothing():
    yield None


if __name__ == "__main__":
    main()
