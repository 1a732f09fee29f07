"""Past one machine: two app nodes and two schedulers against one PostgreSQL, on loopback.

Starts a throwaway PostgreSQL cluster, two gunicorn nodes (stateless: they share only the
database and the documents folder) and two ``crm scheduler`` processes, with a real SMTP server
(aiosmtpd) receiving what the schedulers deliver. Then, with clients on both nodes at once:

1. new patients write in through ``POST /api/v1/mail/inbound``, each message to either node;
2. clients race to move the same cases along the pipeline, each through either node, each
   move carrying the ``version`` it read: every move is accepted once or refused with 409;
3. the scheduler that holds the lock is killed (SIGKILL); the other must take over;
4. more patients write in.

It prints what it saw and exits non-zero if an update was lost (a case's history differs from
the moves that were accepted), a job ran twice (an acknowledgement arrived twice, or two
schedulers ran at once), mail was lost, or the takeover took a minute or more.

Usage: .venv/bin/python benchmarks/cluster.py [--cases 60] [--clients 8]
Needs gunicorn (``pip install -e '.[test,prod]'``) and Debian's postgresql.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.serving import BIN, environment, free_port, gunicorn, postgres_cluster  # noqa: E402
from tests import mail_samples as samples  # noqa: E402
from tests.mailservers import SmtpServer  # noqa: E402

#: The moves the clients race through (the later stages wait on a physician's review and on
#: financial clearance), then each case is closed: one client wins each move.
PATH = ["intake", "records", "clinical_review", "closed"]


class Api:
    """The JSON API of one node, with a bearer token."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, content_type="application/json") -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def write_in(nodes: list[Api], start: int, count: int) -> list[str]:
    """``count`` new patients write in, alternately through each node; their addresses."""
    addresses = [f"patient{n}@example.org" for n in range(start, start + count)]

    def send(n_address):
        n, address = n_address
        raw = samples.plain(sender=f"Patient {n} <{address}>", subject="Second opinion",
                            body="I would like a second opinion about my heart surgery.",
                            message_id=f"<cluster-{n}@example.org>")
        status, summary = nodes[n % 2].call("POST", "/api/v1/mail/inbound", raw, "message/rfc822")
        assert status == 202 and summary["created"] == 1, (status, summary)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, enumerate(addresses, start)))
    return addresses


def race(nodes: list[Api], inquiry_ids: list[int], clients: int) -> Counter:
    """Clients move the same cases along the pipeline through both nodes at once; each move
    carries the version it read. Returns {case id: moves accepted}, and checks each refusal."""
    accepted, refused = Counter(), Counter()
    lock = threading.Lock()

    def client(number: int) -> None:
        for inquiry_id in inquiry_ids:
            for _ in range(len(PATH)):
                node = nodes[(number + inquiry_id) % 2]
                status, case = node.call("GET", f"/api/v1/inquiries/{inquiry_id}")
                if case["stage"] == PATH[-1]:
                    break
                following = PATH[PATH.index(case["stage"]) + 1] if case["stage"] in PATH else PATH[0]
                move = {"to": following, "version": case["version"], "note": f"client {number}"}
                if following == "closed":
                    move["outcome"] = "declined_by_patient"
                status, body = nodes[(number + inquiry_id + 1) % 2].call(
                    "POST", f"/api/v1/inquiries/{inquiry_id}/transition", move)
                with lock:
                    if status == 200:
                        accepted[inquiry_id] += 1
                    elif status == 409:
                        refused[body["error"]["code"]] += 1
                    else:
                        raise AssertionError(f"unexpected {status}: {body}")

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    print(f"  moves accepted {sum(accepted.values())}, refused {dict(refused)}")
    return accepted


def started_schedulers(logs: list[Path]) -> list[int]:
    """Indexes of the schedulers whose log says they took the lock."""
    return [n for n, log in enumerate(logs) if "scheduler started" in log.read_text(errors="replace")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    problems = []
    with tempfile.TemporaryDirectory(prefix="itinera-cluster-") as tmp:
        os.chmod(tmp, 0o755)  # the cluster's files are the postgres user's
        run_cluster(Path(tmp), args, problems)
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("ok: no update lost, every job ran once, the scheduler was taken over")


def run_cluster(tmp: Path, args, problems: list[str]) -> None:
    with postgres_cluster(None, tmp) as admin:
        import sqlalchemy as sa
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql('CREATE DATABASE "itinera_cluster"')
        engine.dispose()
        smtp = SmtpServer()
        smtp.start()
        url = admin.rsplit("/", 1)[0] + "/itinera_cluster"
        env = {**environment(url), "CRM_SMTP_URL": smtp.url, "CRM_UPLOAD_DIR": f"{tmp}/shared-documents"}
        crm = str(BIN / "crm")
        subprocess.run([crm, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([crm, "centers", "seed"], env=env, check=True, capture_output=True)
        subprocess.run([crm, "users", "create", "ops@itinera.example", "--name", "Ops", "--role", "manager"],
                       env=env, input="cluster-password-123\n", text=True, check=True, capture_output=True)
        token = subprocess.run([crm, "tokens", "create", "ops@itinera.example"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip()
        logs = [Path(tmp) / f"scheduler-{n}.log" for n in (1, 2)]
        schedulers = [subprocess.Popen([crm, "scheduler"], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
                      for log in logs]
        try:
            with gunicorn("benchmarks.served:app", env, 2) as first, gunicorn("benchmarks.served:app", env, 2) as second:
                nodes = [Api(first, token), Api(second, token)]
                print(f"two nodes ({first}, {second}), two schedulers, PostgreSQL, SMTP on {smtp.url}")
                time.sleep(2)
                leaders = started_schedulers(logs)
                print(f"  schedulers holding the lock: {len(leaders)} (of 2)")
                if len(leaders) != 1:
                    problems.append(f"{len(leaders)} schedulers ran at once")

                addresses = write_in(nodes, 0, args.cases)
                status, listed = nodes[0].call("GET", f"/api/v1/inquiries?stage=new")
                ids = sorted(item["id"] for item in listed["items"])[: args.cases]
                before = {i: nodes[0].call("GET", f"/api/v1/inquiries/{i}")[1]["version"] for i in ids}
                accepted = race(nodes, ids, args.clients)
                for inquiry_id in ids:
                    _status, case = nodes[1].call("GET", f"/api/v1/inquiries/{inquiry_id}")
                    moves = sum(1 for event in case["timeline"] if event["kind"] == "stage"
                                and (event.get("note") or "").startswith("client "))
                    if case["stage"] != PATH[-1] or moves != accepted[inquiry_id] or \
                            case["version"] != before[inquiry_id] + accepted[inquiry_id]:
                        problems.append(f"case {inquiry_id}: stage {case['stage']}, {moves} moves on its "
                                        f"history, version {case['version']}, {accepted[inquiry_id]} accepted")
                print(f"  {len(ids)} cases raced to {PATH[-1]}: "
                      f"{'no update lost' if not any('case' in p for p in problems) else 'UPDATES LOST'}")

                leader = leaders[0] if leaders else 0
                schedulers[leader].send_signal(signal.SIGKILL)
                killed_at = time.monotonic()
                while started_schedulers(logs) == [leader] and time.monotonic() - killed_at < 90:
                    time.sleep(0.2)
                takeover = time.monotonic() - killed_at
                print(f"  scheduler {leader + 1} killed; the other took over in {takeover:.1f} s")
                if takeover >= 60:
                    problems.append(f"no takeover within a minute ({takeover:.0f} s)")

                addresses += write_in(nodes, args.cases, args.cases // 2)
                deadline = time.monotonic() + 150
                while len(smtp.messages) < len(addresses) and time.monotonic() < deadline:
                    time.sleep(0.5)
                received = Counter(rcpt for mail in smtp.messages for rcpt in mail.rcpt_tos)
                twice = [a for a, n in received.items() if n > 1]
                missing = [a for a in addresses if a not in received]
                print(f"  acknowledgements: {len(addresses)} patients, {sum(received.values())} delivered, "
                      f"{len(twice)} twice, {len(missing)} missing")
                if twice or missing:
                    problems.append(f"mail: {len(twice)} delivered twice, {len(missing)} missing")
        finally:
            for process in schedulers:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=30)
            smtp.stop()


if __name__ == "__main__":
    main()
