"""``crm mail ingest`` of a large mbox on SQLite: messages per second and peak memory.

Usage: .venv/bin/python benchmarks/mail_ingest.py [SIZES…]   (default: 2000 5000 10000)

Each size runs the real command in a fresh process on a fresh database; the peak resident memory
of that process is printed beside the rate, so one sees it stay flat as the mailbox grows.
The mailbox mixes what a shared inbox receives: new patients in seven languages (a tenth with
a PDF), replies to earlier messages, automatic replies and a few duplicates.
"""
from __future__ import annotations

import json
import os
import random
import resource
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


def mailbox_of(size: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    messages, ids = [], []
    for n in range(size):
        roll = rng.random()
        if ids and roll < 0.15:
            messages.append(samples.plain(sender=f"Patient {rng.randrange(n)} <p{rng.randrange(n)}@example.org>",
                                          subject="Re: su solicitud", body="Gracias, envío los documentos.",
                                          message_id=f"<r{n}@example.org>", in_reply_to=rng.choice(ids)))
        elif ids and roll < 0.20:
            messages.append(samples.auto_reply(message_id=f"<a{n}@example.org>", in_reply_to=rng.choice(ids)))
        elif ids and roll < 0.23:
            messages.append(samples.plain(message_id=rng.choice(ids)))  # the same message again
        elif roll < 0.30:
            messages.append(samples.arabic_windows_1256_with_pdf(message_id=f"<m{n}@example.org>",
                                                                 sender=f"Patient {n} <p{n}@example.sa>"))
            ids.append(f"<m{n}@example.org>")
        else:
            lang, text = rng.choice(TEXTS)
            messages.append(samples.plain(sender=f"Patient {n} <p{n}@example.org>", subject=text[:40],
                                          body=text, charset=CHARSETS[lang], message_id=f"<m{n}@example.org>"))
            ids.append(f"<m{n}@example.org>")
    return samples.mbox(messages)


def run(size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp) / "inbox.mbox"
        box.write_bytes(mailbox_of(size))
        env = {**os.environ, "CRM_DATABASE_URL": f"sqlite:///{tmp}/crm.sqlite3", "CRM_UPLOAD_DIR": f"{tmp}/up",
               "CRM_OUTBOX_DIR": f"{tmp}/out"}
        crm = str(ROOT / ".venv" / "bin" / "crm")
        subprocess.run([crm, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([crm, "centers", "seed"], env=env, check=True, capture_output=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        done = subprocess.run([crm, "mail", "ingest", str(box)], env=env, check=True, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{size:>7,} messages  {box.stat().st_size / 2**20:6.1f} MB  {elapsed:6.1f} s  "
              f"{size / elapsed:7.0f} msg/s  peak RSS {peak / 1024:6.0f} MB  {summary}", flush=True)


if __name__ == "__main__":
    for value in sys.argv[1:] or ["2000", "5000", "10000"]:
        run(int(value))
