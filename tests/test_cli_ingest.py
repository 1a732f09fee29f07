"""`crm mail ingest` as an operator runs it: nothing found is an error, a rejected file is named,
`--no-acknowledge` imports history without writing to anyone, and a terminal gets a progress bar
while a pipe gets exactly the JSON line."""
import json
import os
import pty
import select
import subprocess
import time

import sqlalchemy as sa

from tests import mail_samples as samples
from tests.crm_process import CRM, assert_one_error_line, crm, instance, read_database, upgraded  # noqa: F401

EMPTY = {"created": 0, "threaded": 0, "duplicates": 0, "ignored": 0, "rejected": 0}


def patients(count: int, start: int = 0) -> list[bytes]:
    """Mail from ``count`` different new patients."""
    return [samples.plain(sender=f"Paciente {n} <paciente{n}@example.org>", message_id=f"<p{n}@example.org>")
            for n in range(start, start + count)]


def test_a_folder_without_mail_is_an_error(upgraded, tmp_path):
    empty = tmp_path / "archive"
    (empty / "2019").mkdir(parents=True)
    (empty / ".DS_Store").write_bytes(b"\0")
    result = crm("mail", "ingest", empty, env=upgraded)
    assert_one_error_line(result, str(empty), "no mail found", "not a Maildir")
    assert result.stdout == ""
    samples.write_maildir(tmp_path / "Maildir", [])
    (tmp_path / "one.eml").write_bytes(patients(1)[0])
    result = crm("mail", "ingest", tmp_path / "one.eml", tmp_path / "Maildir", env=upgraded)
    assert_one_error_line(result, str(tmp_path / "Maildir"), "empty")
    # nothing was taken from the other path either
    from crm.models import InboundMail
    assert read_database(upgraded["CRM_DATABASE_URL"], lambda db: db.session.scalar(
        sa.select(sa.func.count(InboundMail.id)))) == 0


def test_a_rejected_message_is_named_with_its_reason(upgraded, tmp_path):
    (tmp_path / "good.eml").write_bytes(patients(1)[0])
    (tmp_path / "scan.pdf").write_bytes(samples.garbage("pdf"))
    (tmp_path / "box.mbox").write_bytes(samples.mbox([patients(1, start=1)[0],
                                                      samples.headers_only_broken()]))
    result = crm("mail", "ingest", tmp_path / "good.eml", tmp_path / "scan.pdf", tmp_path / "box.mbox",
                 env=upgraded)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {**EMPTY, "created": 2, "rejected": 2}
    assert result.stdout.count("\n") == 1
    assert sorted(result.stderr.splitlines()) == [
        f"rejected {tmp_path / 'box.mbox'} (message 2): no sender address",
        f"rejected {tmp_path / 'scan.pdf'}: not an email: no headers",
    ]


def outbox(env) -> tuple[int, int]:
    """(inquiries, acknowledgements waiting or sent) in the database of ``env``."""
    from crm.models import Inquiry, OutboundMail
    return read_database(env["CRM_DATABASE_URL"], lambda db: (
        db.session.scalar(sa.select(sa.func.count(Inquiry.id))),
        db.session.scalar(sa.select(sa.func.count(OutboundMail.id)))))


def test_no_acknowledge_imports_history_without_writing_to_anyone(upgraded, tmp_path):
    sent = tmp_path / "outbox"
    (tmp_path / "2019.mbox").write_bytes(samples.mbox(patients(3)))
    result = crm("mail", "ingest", "--no-acknowledge", tmp_path / "2019.mbox", env=upgraded)
    assert json.loads(result.stdout) == {**EMPTY, "created": 3}
    assert outbox(upgraded) == (3, 0)
    assert crm("scheduler", "--once", env=upgraded).returncode == 0  # delivers what is due
    assert not sent.exists() or not list(sent.rglob("*.eml"))
    # without the flag, each new case's patient is answered
    (tmp_path / "today.mbox").write_bytes(samples.mbox(patients(2, start=3)))
    result = crm("mail", "ingest", tmp_path / "today.mbox", env=upgraded)
    assert json.loads(result.stdout) == {**EMPTY, "created": 2}
    assert outbox(upgraded) == (5, 2)
    assert crm("scheduler", "--once", env=upgraded).returncode == 0
    written = list(sent.rglob("*.eml"))
    assert len(written) == 2
    recipients = {line for path in written for line in path.read_text(errors="replace").splitlines()
                  if line.lower().startswith("to:")}
    assert all("paciente3@" in r or "paciente4@" in r for r in recipients) and len(recipients) == 2


def read_terminal(master: int, process: subprocess.Popen, timeout: float = 120) -> bytes:
    """Everything written to the pseudo-terminal until the process ends."""
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif process.poll() is not None:
            break
    return out


def test_a_terminal_gets_a_progress_bar_and_a_pipe_only_the_json_line(upgraded, tmp_path):
    box = tmp_path / "archive.mbox"
    box.write_bytes(samples.mbox(patients(210)))  # two batches: 200, then 10
    master, terminal = pty.openpty()
    try:
        process = subprocess.Popen([str(CRM), "mail", "ingest", "--no-acknowledge", str(box)], env=upgraded,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal)
        os.close(terminal)
        shown = read_terminal(master, process).decode()
        stdout = process.stdout.read().decode()
        assert process.wait(timeout=60) == 0, shown
    finally:
        os.close(master)
    assert json.loads(stdout) == {**EMPTY, "created": 210} and stdout.count("\n") == 1
    assert "Reading mail" in shown and "[####" in shown
    assert "200/210" in shown and "210/210" in shown  # a bar of a known length, moving
    # not a terminal: stdout is exactly the one JSON line, stderr has nothing to say
    result = crm("mail", "ingest", box, env=upgraded)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == json.dumps({**EMPTY, "duplicates": 210}) + "\n"
