"""``crm mail ingest`` of a large mbox on SQLite: messages per second and peak memory.

Usage: .venv/bin/python benchmarks/mail_ingest.py [--mix new|inbox] [SIZES…]
       (default: both mixes, 2000 5000 10000)

Each size runs the real command in a fresh process on a fresh database; the peak resident memory
of that process is printed beside the rate, so one sees it stay flat as the mailbox grows.
Two mixes of what a shared inbox receives, in seven languages and charsets (Arabic in
windows-1256 with a PDF among them), with automatic replies and duplicates:

- ``new``: the worst case, seven messages in ten from a new patient (each one a new patient,
  inquiry, routing, task, audit event, portal link and acknowledgement);
- ``inbox``: a running conversation, one message in four opening a case and the others answering
  (by ``In-Reply-To`` or from the same address) — what a center's mailbox holds.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import mail_samples as samples  # noqa: E402

TEXTS = [
    ("es", "Hola, necesito una segunda opinión sobre mi arritmia cardíaca. Adjunto mis estudios."),
    ("ar", "مرحبا، أحتاج إلى رأي طبي ثان بخصوص عدم انتظام ضربات القلب."),
    ("zh", "您好，我父亲需要肝移植的第二意见，请问如何预约？"),
    ("ru", "Здравствуйте, мне нужна консультация нейрохирурга по поводу опухоли мозга."),
    ("pt", "Olá, gostaria de uma segunda opinião sobre a cirurgia cardíaca do meu pai."),
    ("fr", "Bonjour, je souhaite un deuxième avis pour un traitement du cancer du sein."),
    ("en", "Hello, I would like a second opinion about my daughter's epilepsy surgery."),
]
CHARSETS = {"es": "iso-8859-1", "ar": "windows-1256", "zh": "gb18030", "ru": "koi8-r", "pt": "utf-8",
            "fr": "iso-8859-15", "en": "us-ascii"}


#: mix -> (share of replies, of automatic replies, of duplicates); the rest opens cases
MIXES = {"new": (0.15, 0.05, 0.03), "inbox": (0.62, 0.07, 0.03)}


def mailbox_of(size: int, seed: int = 7, mix: str = "new") -> bytes:
    rng = random.Random(seed)
    replies, autos, twice = MIXES[mix]
    messages, ids = [], []
    for n in range(size):
        roll = rng.random()
        if ids and roll < replies:
            messages.append(samples.plain(sender=f"Patient {rng.randrange(n)} <p{rng.randrange(n)}@example.org>",
                                          subject="Re: su solicitud", body="Gracias, envío los documentos.",
                                          message_id=f"<r{n}@example.org>", in_reply_to=rng.choice(ids)))
        elif ids and roll < replies + autos:
            messages.append(samples.auto_reply(message_id=f"<a{n}@example.org>", in_reply_to=rng.choice(ids)))
        elif ids and roll < replies + autos + twice:
            messages.append(samples.plain(message_id=rng.choice(ids)))  # the same message again
        elif rng.random() < 0.1:  # a new case: one in ten in Arabic with a PDF
            messages.append(samples.arabic_windows_1256_with_pdf(message_id=f"<m{n}@example.org>",
                                                                 sender=f"Patient {n} <p{n}@example.sa>"))
            ids.append(f"<m{n}@example.org>")
        else:
            lang, text = rng.choice(TEXTS)
            messages.append(samples.plain(sender=f"Patient {n} <p{n}@example.org>", subject=text[:40],
                                          body=text, charset=CHARSETS[lang], message_id=f"<m{n}@example.org>"))
            ids.append(f"<m{n}@example.org>")
    return samples.mbox(messages)


def run(size: int, mix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp) / "inbox.mbox"
        box.write_bytes(mailbox_of(size, mix=mix))
        env = {**os.environ, "CRM_DATABASE_URL": f"sqlite:///{tmp}/crm.sqlite3", "CRM_UPLOAD_DIR": f"{tmp}/up",
               "CRM_OUTBOX_DIR": f"{tmp}/out"}
        crm = str(ROOT / ".venv" / "bin" / "crm")
        subprocess.run([crm, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([crm, "centers", "seed"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        with tempfile.TemporaryFile("w+") as out:
            process = subprocess.Popen([crm, "mail", "ingest", str(box)], env=env, stdout=out,
                                       stderr=subprocess.DEVNULL, text=True)
            _pid, status, usage = os.wait4(process.pid, 0)  # this process's own peak memory
            elapsed = time.perf_counter() - started
            assert status == 0, f"crm mail ingest failed ({status})"
            out.seek(0)
            summary = json.loads(out.read().strip().splitlines()[-1])
        peak = usage.ru_maxrss
        print(f"{mix:>5}  {size:>7,} messages  {box.stat().st_size / 2**20:6.1f} MB  {elapsed:6.1f} s  "
              f"{size / elapsed:7.0f} msg/s  peak RSS {peak / 1024:6.0f} MB  {summary}", flush=True)


def machine_speed() -> float:
    """Seconds for ten million Python additions: shared machines vary in speed from minute to
    minute, and the rates above vary with it."""
    started = time.perf_counter()
    total = 0
    for n in range(10_000_000):
        total += n
    return time.perf_counter() - started


if __name__ == "__main__":
    print(f"machine: 10 million Python additions in {machine_speed():.2f} s", flush=True)
    args = sys.argv[1:]
    mixes = list(MIXES)
    if args[:1] == ["--mix"]:
        mixes, args = [args[1]], args[2:]
    for mix in mixes:
        for value in args or ["2000", "5000", "10000"]:
            run(int(value), mix)
