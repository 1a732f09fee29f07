"""Files that patients send (portal uploads, mail attachments) and that the center makes: checked
by their content, encrypted (AES-256-GCM, bound to their random name) and stored under random
names, each tied to the database transaction of the row that will point to it: a file outlives
that transaction only if it commits."""
from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import re
import secrets
import struct
import tempfile
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import filetype
from flask import has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from ..extensions import db
from . import crypto
from .errors import DomainError, NotFound, ValidationError

try:
    from lzma import LZMAError
except ImportError:  # Python built without lzma: zipfile then refuses such members itself
    LZMAError = RuntimeError

log = logging.getLogger(__name__)

ALLOWED_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "application/dicom",
                           "application/zip"})
MEMBER_TYPES = ALLOWED_TYPES - {"application/zip"}

FIELD = "file"
DEFAULT_FILENAME = "document"
MAX_FILENAME_LENGTH = 200
MAX_ZIP_MEMBERS = 2000
MAX_UNPACKED_FACTOR = 10        # a ZIP may unpack to at most this many times the upload limit
MAX_MEMBER_RATIO = 100          # ... and no member over RATIO_CHECKED_ABOVE may shrink more than this
RATIO_CHECKED_ABOVE = 1024 * 1024
MEGABYTE = 1024 * 1024

_STORAGE_NAME = re.compile(r"[0-9a-f]{32}")
_SNIFF_BYTES = 8192             # what filetype looks at
_DICOM_MARKER_AT = 128
_JOINERS = {"\u200c", "\u200d"}  # ZWNJ and ZWJ are part of Persian and Arabic spelling
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_WINDOWS_RESERVED = ({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
                     | {prefix + digit for prefix in ("COM", "LPT") for digit in "0123456789¹²³"})
# A DICOM preamble is 128 free bytes: an executable header there makes a file that is both a
# valid scan and a program (the "DICOM/PE polyglot"). filetype finds most; these it does not.
_EXECUTABLE_MAGIC = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
                     b"\xca\xfe\xba\xbe", b"#!")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, LZMAError, struct.error,
               EOFError, OSError, ValueError, NotImplementedError, RuntimeError)


class UnreadableFile(DomainError):
    """A stored file that cannot be decrypted (its key is not configured, or it was altered) or
    is not the file received (its SHA-256 differs): a fault of the server, told without details
    (503); the log says which file and why."""

    code = "document_unreadable"
    status = 503
    default_message = _l("This document cannot be read on this server just now. "
                         "An administrator has been told; please try again later.")


@dataclass(frozen=True)
class StoredFile:
    """A file kept in the upload directory (encrypted); ``content_type``, ``size`` and
    ``sha256`` are those of its plaintext, found from its content."""

    storage_name: str
    filename: str
    content_type: str
    size: int
    sha256: str


def clean_filename(name: str | None) -> str:
    """The name to show for an upload: NFC, trimmed, ``document`` when missing.

    Names that hide their real shape (path separators, control and bidi characters, dot files,
    Windows device names) are refused rather than repaired, so staff see what the sender sent.
    """
    if name is None:
        return DEFAULT_FILENAME
    if not isinstance(name, str):
        raise ValidationError(FIELD, _l("This file name cannot be accepted. "
                                        "Rename the file and send it again."))
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        return DEFAULT_FILENAME
    if len(name) > MAX_FILENAME_LENGTH:
        raise ValidationError(FIELD, _l("This file name is too long. Shorten it to %(max)s characters "
                                        "or fewer, then send the file again.", max=MAX_FILENAME_LENGTH))
    if "/" in name or "\\" in name or any(_is_hidden(char) for char in name):
        raise ValidationError(FIELD, _l("This file name contains characters that cannot be accepted. "
                                        "Rename the file and send it again."))
    if name.startswith(".") or name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        raise ValidationError(FIELD, _l("This file name cannot be accepted. "
                                        "Rename the file and send it again."))
    return name


def check_content(data: bytes, *, max_bytes: int | None = None) -> str:
    """The content type of ``data``, found from its bytes; a ZIP is opened and each file in it
    checked too (nothing is extracted).

    :param max_bytes: the upload limit; a ZIP may unpack to ``MAX_UNPACKED_FACTOR`` times it
        (times the ZIP's own size when not given).
    """
    if not data:
        raise ValidationError(FIELD, _l("This file is empty. Check the file and send it again."))
    content_type = _sniff(data)
    if content_type not in ALLOWED_TYPES:
        raise ValidationError(FIELD, _l("This type of file cannot be accepted. "
                                        "Send PDF, JPEG, PNG or DICOM files, or a ZIP of them."))
    if content_type == "application/zip":
        _check_zip(data, max_unpacked=MAX_UNPACKED_FACTOR * (max_bytes or len(data)))
    return content_type


def store(data: bytes, filename: str | None, *, upload_dir: str | Path, max_bytes: int,
          session: Session | None = None, keys: crypto.Keyring | None = None) -> StoredFile:
    """Check an upload (size, name, content) and write it, encrypted, under a new random name.

    Nothing is written unless every check passes. The file appears whole or not at all
    (temporary file in the same directory, then rename), readable by its owner only. It
    belongs to the session's current transaction (see ``keep_with``): removed again if that
    transaction or savepoint rolls back, kept once the outermost one commits.

    :param upload_dir: created (0700) if missing; must be outside the web root.
    :param max_bytes: the largest file accepted.
    :param session: the session of the row that will point to the file; by default the app's
        ``db.session`` (outside an app context the file is the caller's to keep or remove).
    :param keys: the keyring; by default the app's (``CRM_ENCRYPTION_KEY``).
    """
    if not data:
        raise ValidationError(FIELD, _l("This file is empty. Check the file and send it again."))
    if len(data) > max_bytes:
        raise ValidationError(FIELD, _l("This file is larger than %(max)s MB. "
                                        "Send it in parts, or as a ZIP.", max=_megabytes(max_bytes)))
    display_name = clean_filename(filename)
    content_type = check_content(data, max_bytes=max_bytes)

    directory = Path(upload_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    storage_name = secrets.token_hex(16)
    blob = crypto.encrypt(data, file_context(storage_name), keys=keys)
    if session is None and has_app_context():
        session = db.session()
    _write_atomically(directory, storage_name, blob)
    if session is not None:
        keep_with(session, directory / storage_name)
    return StoredFile(storage_name=storage_name, filename=display_name, content_type=content_type,
                      size=len(data), sha256=hashlib.sha256(data).hexdigest())


# --- files tied to a transaction ---------------------------------------------------------------
# A stored file is registered on the session with the transaction (or savepoint) in progress.
# When that transaction ends without committing (rolled back, or its session closed first), its
# files are removed; a savepoint that commits hands its files to the transaction around it; the
# outermost transaction's commit keeps them. A savepoint rolled back inside a transaction thus
# removes only its own files, never those of the transaction around it.

#: ``session.info`` key: {transaction: [(process id, path)]} of the files stored in it
_PENDING = "crm.stored_files"
#: ``session.info`` key: the transaction whose commit is being completed
_COMMITTING = "crm.stored_files_committing"


def keep_with(session: Session, path: Path) -> None:
    """Tie a file just written to ``session``'s current transaction (begun if none is): it is
    removed unless that transaction, and each one around it, commits."""
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    # the process that wrote the file is the one that removes it: a forked helper that
    # inherited the session never does
    session.info.setdefault(_PENDING, {}).setdefault(transaction, []).append((os.getpid(), Path(path)))


@event.listens_for(Session, "after_commit")
def _commit_seen(session: Session) -> None:
    # after_commit comes just before the committed transaction (or savepoint) ends
    if session.info.get(_PENDING):
        session.info[_COMMITTING] = session.get_nested_transaction() or session.get_transaction()


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    committed = session.info.get(_COMMITTING) is transaction
    if committed:
        del session.info[_COMMITTING]
    files = pending.pop(transaction, None)
    if not files:
        return
    if not committed:
        _remove(files)
    elif transaction.parent is not None:  # a savepoint: its files are the outer transaction's now
        pending.setdefault(transaction.parent, []).extend(files)


def _remove(files: list[tuple[int, Path]]) -> None:
    for pid, path in files:
        if pid != os.getpid():
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError:  # never hide the error that rolled the transaction back
            log.exception("a stored file whose transaction rolled back could not be removed")


def remove_orphans(upload_dir: str | Path, *, older_than: timedelta = timedelta(days=1),
                   chunk: int = 500) -> int:
    """Remove stored files that no document points to, and half-written ones, once they are
    older than ``older_than`` (a process killed between writing a file and committing its row
    leaves one: no transaction event can). Returns how many were removed."""
    from ..models import Document
    directory = Path(upload_dir)
    if not directory.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    stored, removed = [], 0
    for entry in os.scandir(directory):
        if not entry.is_file(follow_symlinks=False) or entry.stat().st_mtime >= cutoff:
            continue
        if entry.name.startswith(".partial-"):
            removed += _unlink(Path(entry.path))
        elif _STORAGE_NAME.fullmatch(entry.name):
            stored.append(entry.name)
    for start in range(0, len(stored), chunk):
        names = stored[start:start + chunk]
        kept = set(db.session.scalars(select(Document.storage_name).where(Document.storage_name.in_(names))))
        removed += sum(_unlink(directory / name) for name in names if name not in kept)
    return removed


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    log.info("removed a stored file no document points to")
    return 1


def open_stored(upload_dir: str | Path, storage_name: str) -> Path:
    """The path of a stored file (its bytes are encrypted: read it with ``read_stored``);
    ``NotFound`` for a name ``store`` does not make, or no file."""
    if not isinstance(storage_name, str) or not _STORAGE_NAME.fullmatch(storage_name):
        raise NotFound()
    path = Path(upload_dir) / storage_name
    if not path.is_file():
        raise NotFound()
    return path


def file_context(storage_name: str) -> str:
    """What a stored file's ciphertext is bound to: its name (renamed, it no longer decrypts)."""
    return f"documents/{storage_name}"


def read_stored(upload_dir: str | Path, storage_name: str, *, sha256: str | None = None,
                keys: crypto.Keyring | None = None) -> bytes:
    """The plaintext of a stored file. A file stored before encryption is read as it is (``crm
    keys rotate`` encrypts it). ``NotFound`` as ``open_stored``; ``UnreadableFile`` when it cannot
    be decrypted or, given ``sha256`` (the document's), is not the file received."""
    path = open_stored(upload_dir, storage_name)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise NotFound() from None
    try:
        data = crypto.decrypt_or_plain(blob, file_context(storage_name), keys=keys)
    except crypto.DecryptionError as error:
        log.error("the stored file %s cannot be decrypted: %s", storage_name, error)
        raise UnreadableFile() from None
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        log.error("the stored file %s is not the one received: its SHA-256 differs", storage_name)
        raise UnreadableFile()
    return data


def is_stored_current(upload_dir: str | Path, storage_name: str, *, keys: crypto.Keyring | None = None) -> bool:
    """Whether a stored file is encrypted under the current key (its header is read, no more)."""
    with open_stored(upload_dir, storage_name).open("rb") as handle:
        head = handle.read(crypto.HEADER_SIZE + crypto.TAG_SIZE)
    return crypto.is_current(head, keys=keys)


def reencrypt_stored(upload_dir: str | Path, storage_name: str, *, keys: crypto.Keyring | None = None) -> bool:
    """Encrypt a stored file under the current key, in place (a new file renamed over the old one:
    readers see one or the other, both readable while the old key is configured); a plaintext
    file from before encryption is encrypted. Returns False when there was nothing to do."""
    if is_stored_current(upload_dir, storage_name, keys=keys):
        return False
    path = open_stored(upload_dir, storage_name)
    blob = path.read_bytes()
    context = file_context(storage_name)
    try:
        data = crypto.decrypt_or_plain(blob, context, keys=keys)
    except crypto.DecryptionError as error:
        log.error("the stored file %s cannot be decrypted: %s", storage_name, error)
        raise UnreadableFile() from None
    _write_atomically(path.parent, storage_name, crypto.encrypt(data, context, keys=keys))
    return True


def _sniff(head: bytes) -> str | None:
    if len(head) > _DICOM_MARKER_AT + 4 and head[_DICOM_MARKER_AT:_DICOM_MARKER_AT + 4] == b"DICM":
        preamble = head[:_DICOM_MARKER_AT]
        if preamble.startswith(_EXECUTABLE_MAGIC) or filetype.guess_mime(preamble):
            return None
        return "application/dicom"
    content_type = filetype.guess_mime(head[:_SNIFF_BYTES])
    if content_type == "image/apng":  # an animated PNG is still a PNG
        return "image/png"
    return content_type


def _check_zip(data: bytes, *, max_unpacked: int) -> None:
    # zipfile builds an object per entry before we can count them; every entry starts with
    # this signature, so counting it first bounds the work a crafted directory can cause.
    if data.count(b"PK\x01\x02") > MAX_ZIP_MEMBERS:
        raise ValidationError(FIELD, _l("This ZIP file holds more than %(max)s files. "
                                        "Split them into several smaller ZIP files.", max=MAX_ZIP_MEMBERS))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_listing(members, max_unpacked)
            files = [member for member in members if not member.is_dir()]
            if not files:
                raise ValidationError(FIELD, _l("This ZIP file is empty. "
                                                "Put your files into it and send it again."))
            for member in files:
                _check_member(archive, member)
    except _ZIP_ERRORS:
        raise ValidationError(FIELD, _l("This ZIP file is damaged and cannot be opened. "
                                        "Create it again and send it once more.")) from None


def _check_listing(members: list[zipfile.ZipInfo], max_unpacked: int) -> None:
    unpacked = 0
    for member in members:
        if _is_unsafe_path(member.filename):
            raise ValidationError(FIELD, _l("This ZIP file contains folder paths that are not allowed. "
                                            "Create it again from your files and send it once more."))
        if member.flag_bits & 0x1:
            raise ValidationError(FIELD, _l("This ZIP file is protected by a password. "
                                            "Send it again without a password."))
        if (member.file_size > RATIO_CHECKED_ABOVE
                and member.file_size > MAX_MEMBER_RATIO * member.compress_size):
            raise ValidationError(FIELD, _l("The file “%(name)s” in this ZIP is compressed in an unusual way "
                                            "and cannot be checked. Send it on its own, outside the ZIP.",
                                            name=_shown(member.filename)))
        unpacked += member.file_size
    if unpacked > max_unpacked:
        raise ValidationError(FIELD, _l("The files in this ZIP add up to more than %(max)s MB "
                                        "once unpacked. Split them into several smaller ZIP files.",
                                        max=_megabytes(max_unpacked)))


def _check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    with archive.open(member) as stream:
        head = stream.read(_SNIFF_BYTES)
        if not _is_os_metadata(member.filename, head):
            content_type = _sniff(head)
            if content_type == "application/zip":
                raise ValidationError(FIELD, _l("This ZIP file contains another ZIP file, “%(name)s”. "
                                                "Unpack it and put its files directly into one ZIP.",
                                                name=_shown(member.filename)))
            if content_type not in MEMBER_TYPES:
                raise ValidationError(FIELD, _l("The file “%(name)s” in this ZIP cannot be accepted. "
                                                "A ZIP may only contain PDF, JPEG, PNG or DICOM files.",
                                                name=_shown(member.filename)))
        # Read to the end: zipfile compares the checksum there, which finds damaged members.
        while stream.read(1024 * 1024):
            pass


def _is_os_metadata(path: str, head: bytes) -> bool:
    """What macOS adds to every ZIP it makes (AppleDouble "._" files, .DS_Store), by name and
    content: refusing them would refuse most ZIPs made on a Mac."""
    base = path.rsplit("/", 1)[-1]
    if base.startswith("._") and head.startswith(b"\x00\x05\x16\x07"):
        return True
    return base == ".DS_Store" and head.startswith(b"\x00\x00\x00\x01Bud1")


def _is_unsafe_path(path: str) -> bool:
    parts = re.split(r"[/\\]", path)
    return path.startswith(("/", "\\")) or bool(re.match(r"[A-Za-z]:", path)) or ".." in parts


def _is_hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN_CATEGORIES and char not in _JOINERS


def _shown(path: str) -> str:
    """A ZIP member's name fit for a message: its last part, visible characters only, short."""
    name = re.split(r"[/\\]", path.rstrip("/\\"))[-1] or path
    name = "".join(char for char in name if not _is_hidden(char))
    return name if len(name) <= 80 else name[:79] + "…"


def _megabytes(size: int) -> str:
    """``size`` in MB, rounded down so that "larger than" stays true."""
    value = math.floor(size / MEGABYTE * 10) / 10
    if not value:
        return f"{size / MEGABYTE:.2g}"
    return str(int(value)) if value == int(value) else str(value)


def _write_atomically(directory: Path, storage_name: str, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".partial-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, directory / storage_name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)
