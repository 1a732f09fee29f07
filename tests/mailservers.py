"""Real mail servers on loopback for tests: an aiosmtpd SMTP server and a Dovecot IMAP server.

Loaded as a pytest plugin (``pytest_plugins = ["tests.mailservers"]`` in ``tests/conftest.py``).

Fixtures:

* ``smtp_server_session`` (session): one :class:`SmtpServer` on 127.0.0.1, same port all session.
* ``smtp_server`` (function): that server, :meth:`SmtpServer.reset` before and after the test
  (no messages, no pending failures, running), so tests are independent.
* ``imap_server`` (session): one :class:`ImapServer`, a Dovecot process configured entirely in a
  temporary directory, with one user whose INBOX is a maildir.
* ``imap_mailbox`` (function): that server with INBOX emptied (and any other folder deleted).

When aiosmtpd or Dovecot is missing the fixtures skip, or fail when ``CI`` is true.
"""
from __future__ import annotations

import contextlib
import email
import email.policy
import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 10.0

__all__ = ["ImapServer", "ReceivedMail", "SmtpServer", "imap_mailbox", "imap_server",
           "smtp_server", "smtp_server_session"]


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when running in CI, where every component must be present."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing mail server is a failure, not a skip)",
                    pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


# --- SMTP ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceivedMail:
    """One message accepted by :class:`SmtpServer`: the envelope and the parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


class _CaptureHandler:
    """aiosmtpd handler that hands every DATA command to its :class:`SmtpServer`."""

    def __init__(self, owner: SmtpServer):
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.owner._on_data(envelope)


class SmtpServer:
    """An aiosmtpd server on loopback, plain SMTP, no TLS and no AUTH, capturing every message.

    ``messages`` is the list of :class:`ReceivedMail`, oldest first. ``fail_next`` answers the
    next DATA commands with an error (4xx by default), ``stop``/``start`` simulate an outage on
    the same port (connection refused in between).
    """

    host = LOOPBACK

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self.rejected = 0
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listen again on the same port (a no-op when already running)."""
        from aiosmtpd.controller import Controller

        if self._controller is None:
            controller = Controller(_CaptureHandler(self), hostname=self.host, port=self.port,
                                    server_hostname="smtp.test.invalid", ready_timeout=START_TIMEOUT)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        """Close the listener: connections are refused until :meth:`start` (a no-op when stopped)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def fail_next(self, n: int = 1, code: int = 451, text: str = "4.3.0 Temporary failure") -> None:
        """Answer the next ``n`` DATA commands with ``code text`` instead of accepting them."""
        with self._lock:
            self._failures.extend([f"{code} {text}"] * n)

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._lock:
            self.messages.clear()

    def reset(self) -> None:
        """No messages, no pending failures, ``rejected`` back to 0, and running."""
        with self._lock:
            self.messages.clear()
            self._failures.clear()
            self.rejected = 0
        self.start()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        """Wait until at least ``count`` messages arrived (for mail sent from another thread)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} message(s) within {timeout}s, "
                                     f"got {len(self.messages)}")
            time.sleep(0.01)
        return list(self.messages)

    def _on_data(self, envelope: Any) -> str:
        with self._lock:
            if self._failures:
                self.rejected += 1
                return self._failures.pop(0)
            raw = bytes(envelope.original_content or envelope.content or b"")
            message = email.message_from_bytes(raw, policy=email.policy.default)
            self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw,
                                              message))
        return "250 2.0.0 Message accepted"


@pytest.fixture(scope="session")
def smtp_server_session() -> Iterator[SmtpServer]:
    """One SMTP server for the whole session (stable port); prefer ``smtp_server`` in tests."""
    try:
        import aiosmtpd.controller  # noqa: F401
    except ImportError as error:
        unavailable(f"aiosmtpd is not installed ({error}); pip install 'aiosmtpd>=1.4.6,<1.5'")
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_session: SmtpServer) -> Iterator[SmtpServer]:
    """The session's SMTP server, reset before and after the test."""
    smtp_server_session.reset()
    yield smtp_server_session
    smtp_server_session.reset()


# --- IMAP (Dovecot) --------------------------------------------------------------------------

def find_dovecot() -> str | None:
    """Path of the dovecot binary (it lives in /usr/sbin, often not on a non-root PATH)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
    return shutil.which("dovecot", path=path)


def dovecot_version(binary: str) -> tuple[int, int]:
    """(major, minor) of ``dovecot --version``, e.g. ``2.3.19.1 (9b53102964)`` -> (2, 3)."""
    output = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10,
                            check=True).stdout
    match = re.match(r"\s*(\d+)\.(\d+)", output)
    if not match:
        raise RuntimeError(f"cannot parse `dovecot --version`: {output!r}")
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class RunAs:
    """The system accounts Dovecot uses: internal/login users and the owner of the mail."""

    internal_user: str
    internal_group: str
    login_user: str
    mail_uid: int
    mail_gid: int

    @classmethod
    def detect(cls) -> RunAs:
        """As root: the Debian package's ``dovecot``/``dovenull``; otherwise the current user."""
        if os.geteuid() == 0:
            try:
                internal, login = pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
            except KeyError:
                pytest.fail("running as root but the dovecot/dovenull users do not exist "
                            "(install the Debian package dovecot-imapd)", pytrace=False)
            return cls(internal.pw_name, grp.getgrgid(internal.pw_gid).gr_name, login.pw_name,
                       internal.pw_uid, internal.pw_gid)
        me = pwd.getpwuid(os.getuid())
        return cls(me.pw_name, grp.getgrgid(os.getgid()).gr_name, me.pw_name, os.getuid(),
                   os.getgid())


def dovecot_config(root: Path, port: int, version: tuple[int, int], run_as: RunAs) -> str:
    """A minimal dovecot.conf: IMAP without TLS on loopback, one passwd-file user, maildir.

    Not root: the login and anvil processes cannot chroot, so their chroot is switched off.
    """
    no_chroot = "" if os.geteuid() == 0 else "  chroot =\n"
    common = f"""\
protocols = imap
listen = {LOOPBACK}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
auth_mechanisms = plain login
default_internal_user = {run_as.internal_user}
default_internal_group = {run_as.internal_group}
default_login_user = {run_as.login_user}
first_valid_uid = {run_as.mail_uid}
first_valid_gid = {min(run_as.mail_gid, 1)}
mail_fsync = never
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{no_chroot}}}
service anvil {{
{no_chroot}}}
"""
    if version >= (2, 4):
        return f"""\
dovecot_config_version = {version[0]}.{version[1]}.0
dovecot_storage_version = {version[0]}.{version[1]}.0
{common}auth_allow_cleartext = yes
mail_driver = maildir
mail_path = {root}/mail/%{{user}}
mail_home = {root}/home/%{{user}}
passdb passwd-file {{
  passwd_file_path = {root}/users
}}
userdb passwd-file {{
  passwd_file_path = {root}/users
}}
"""
    return f"""\
{common}disable_plaintext_auth = no
mail_location = maildir:{root}/mail/%u
mail_home = {root}/home/%u
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
"""


class ImapServer:
    """A Dovecot IMAP server on loopback (no TLS, cleartext LOGIN/PLAIN) with one user.

    Everything lives in a temporary directory: configuration, sockets, logs and the maildir.
    """

    host = LOOPBACK
    user = "intake"
    password = "intake-pass"
    mailbox = "INBOX"

    def __init__(self, binary: str, root: Path):
        self.binary, self.root = binary, root
        self.port = free_port()
        self.config = root / "dovecot.conf"
        self.log = root / "dovecot.log"
        self.maildir = root / "mail" / self.user
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return (f"imap://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
                f"@{self.host}:{self.port}/{self.mailbox}")

    def start(self) -> None:
        """Write the configuration, start ``dovecot -F`` and wait until it greets."""
        run_as = RunAs.detect()
        self._prepare_tree(run_as)
        self.config.write_text(dovecot_config(self.root, self.port, dovecot_version(self.binary),
                                              run_as))
        with open(self.root / "stderr.log", "wb") as stderr:
            self._process = subprocess.Popen([self.binary, "-F", "-c", str(self.config)],
                                             stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
        self._wait_until_ready()

    def stop(self) -> None:
        """Terminate Dovecot (its master stops its children) and wait for it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @contextlib.contextmanager
    def connect(self, readonly: bool = False) -> Iterator[imaplib.IMAP4]:
        """A logged-in IMAP connection with INBOX selected, logged out afterwards."""
        with imaplib.IMAP4(self.host, self.port, timeout=START_TIMEOUT) as imap:
            imap.login(self.user, self.password)
            imap.select(self.mailbox, readonly=readonly)
            yield imap

    def deliver(self, message: bytes | str | EmailMessage, flags: Iterable[str] = ()) -> int:
        """APPEND a message to INBOX and return its UID."""
        raw = message.as_bytes() if isinstance(message, EmailMessage) else message
        flag_list = f"({' '.join(flags)})" if flags else None
        with self.connect() as imap:
            _, data = imap.append(self.mailbox, flag_list, None,  # type: ignore[arg-type]
                                  raw.encode() if isinstance(raw, str) else raw)
        match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
        if not match:
            raise AssertionError(f"no APPENDUID in the APPEND response: {data!r}")
        return int(match[1])

    def flags(self) -> dict[int, set[str]]:
        """{uid: flags} of every message in INBOX (``\\Recent`` left out: it is per session)."""
        with self.connect(readonly=True) as imap:
            _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
        result = {}
        for line in data:
            if isinstance(line, bytes) and (uid := re.search(rb"UID (\d+)", line)):
                found = re.search(rb"FLAGS \(([^)]*)\)", line)
                names = found[1].decode().split() if found else []
                result[int(uid[1])] = {name for name in names if name != "\\Recent"}
        return result

    def reset(self) -> None:
        """Empty INBOX (flag everything deleted, expunge) and delete every other folder."""
        with self.connect() as imap:
            imap.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)")
            imap.expunge()
            for name in sorted(self._folders(imap), reverse=True):  # children first
                if name.upper() != "INBOX":
                    imap.delete(f'"{name}"')

    @staticmethod
    def _folders(imap: imaplib.IMAP4) -> list[str]:
        _, data = imap.list()
        names = [re.search(rb'"([^"]*)"$|(\S+)$', line) for line in data if isinstance(line, bytes)]
        return [(m[1] or m[2]).decode() for m in names if m]

    def _prepare_tree(self, run_as: RunAs) -> None:
        for directory in ("mail", "home", "state"):
            (self.root / directory).mkdir(exist_ok=True)
        (self.root / "users").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{run_as.mail_uid}:{run_as.mail_gid}::"
            f"{self.root}/home/{self.user}::\n")
        if os.geteuid() == 0:
            # Dovecot's unprivileged processes must reach the tree, read the users file and
            # own the mail and home directories.
            self.root.chmod(0o755)
            (self.root / "users").chmod(0o644)
            for directory in ("mail", "home"):
                os.chown(self.root / directory, run_as.mail_uid, run_as.mail_gid)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                self._fail(f"dovecot exited with status {self._process.returncode}")
            with contextlib.suppress(OSError):
                with socket.create_connection((self.host, self.port), timeout=1) as conn:
                    if conn.recv(64).startswith(b"* OK"):
                        return
            time.sleep(0.05)
        self.stop()
        self._fail(f"dovecot did not greet on {self.host}:{self.port} within {START_TIMEOUT}s")

    def _fail(self, reason: str) -> NoReturn:
        details = [f"{path.name}:\n{path.read_text(errors='replace')[-3000:]}"
                   for path in (self.root / "stderr.log", self.log) if path.exists()]
        pytest.fail("\n".join([reason, f"config: {self.config}", *details]), pytrace=False)


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """A Dovecot IMAP server for the whole session; use ``imap_mailbox`` for an empty INBOX."""
    binary = find_dovecot()
    if binary is None:
        unavailable("Dovecot is not installed (Debian package dovecot-imapd; tests/run.sh "
                    "installs it when run as root)")
    server = ImapServer(binary, Path(tempfile.mkdtemp(prefix="itinera-dovecot-")))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def imap_mailbox(imap_server: ImapServer) -> ImapServer:
    """The session's IMAP server with an empty INBOX and no other folder."""
    imap_server.reset()
    return imap_server

