"""Backups: the database and the documents folder in one archive, with a manifest of SHA-256
checksums, and their restore.

The database is a consistent snapshot of the live database, taken while the application keeps
writing: SQLite's online backup API, or ``pg_dump`` run on a snapshot exported from a
repeatable-read transaction. The manifest's row counts and the list of documents are read from
that same snapshot, so the archive holds exactly the files its database points to. Documents stay
encrypted in the archive (restoring them needs the keys that encrypted them); the rest of the
database is as the database holds it: keep archives as carefully as the database.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404 - pg_dump and pg_restore, run without a shell
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from glob import glob
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import MetaData, column, create_engine, func, inspect, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ..extensions import db
from . import crypto

FORMAT = "itinera-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.dump"
UPLOADS = "uploads/"
_STORED = re.compile(r"uploads/[0-9a-f]{32}")
_CHUNK = 1024 * 1024
#: what pg_dump and pg_restore may take, at most (seconds)
PG_TIMEOUT = 6 * 3600


class BackupError(Exception):
    """A backup or restore that cannot be done: one line for the operator, translated."""


@dataclass
class BackupResult:
    """The archive written and what it holds."""

    path: Path
    manifest: dict

    @property
    def rows(self) -> int:
        return sum(self.manifest["tables"].values())


@dataclass
class RestoreResult:
    """What a restore put back, and whether the schema needs ``crm db upgrade`` after it."""

    manifest: dict
    needs_upgrade: bool = False
    removed_files: int = 0
    unknown_keys: list[str] = field(default_factory=list)


def database_kind() -> str:
    """``sqlite`` or ``postgresql``: the configured database."""
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


# --- backup ------------------------------------------------------------------------------------

def create_backup(out_dir: str | Path, *, progress: Callable[[int], None] | None = None) -> BackupResult:
    """Write ``itinera-backup-<UTC time>.tar.gz`` into ``out_dir`` (created 0700 if missing):
    the database snapshot, the documents its rows point to, and ``manifest.json``. The archive
    appears whole or not at all, readable by its owner only.

    :param progress: called with the number of documents added, as they are.
    """
    progress = progress or (lambda count: None)
    out = Path(out_dir)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    taken_at = datetime.now(timezone.utc)
    name = f"itinera-backup-{taken_at:%Y%m%dT%H%M%S%fZ}.tar.gz"
    with tempfile.TemporaryDirectory(dir=out, prefix=".backup-") as work:
        work_dir = Path(work)
        kind = database_kind()
        if kind == "sqlite":
            member, snapshot = SQLITE_MEMBER, _sqlite_snapshot(work_dir / SQLITE_MEMBER)
        else:
            member, snapshot = POSTGRES_MEMBER, _postgres_snapshot(work_dir / POSTGRES_MEMBER)
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "database": kind,
                    "created_at": taken_at.isoformat(timespec="seconds"),
                    "schema_revision": snapshot["revision"], "tables": snapshot["tables"],
                    "documents": len(snapshot["documents"]), "files": {}, "missing_files": []}
        partial = out / f".{name}.partial"
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as raw, \
                    gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as zipped, \
                    tarfile.open(fileobj=zipped, mode="w|", format=tarfile.PAX_FORMAT) as archive:
                manifest["files"][member] = _add_file(archive, member, work_dir / member)
                upload_dir = Path(current_app.config["UPLOAD_DIR"])
                for storage_name in snapshot["documents"]:
                    entry = f"{UPLOADS}{storage_name}"
                    try:
                        manifest["files"][entry] = _add_file(archive, entry, upload_dir / storage_name)
                    except FileNotFoundError:  # lost before this backup: said in the manifest
                        manifest["missing_files"].append(storage_name)
                    progress(1)
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, out / name)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(path=out / name, manifest=manifest)


def _add_file(archive: tarfile.TarFile, name: str, path: Path) -> dict:
    """Add ``path`` as ``name``; its size, SHA-256 and (for a document) the id of its key. The file
    is read from one open handle: one renamed over it meanwhile (key rotation) is not mixed in."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(os.fstat(handle.fileno()).st_mtime)
        digest = _Hashing(handle, size)
        archive.addfile(info, digest)
    entry = {"sha256": digest.hexdigest(), "size": size}
    if name.startswith(UPLOADS):
        entry["key"] = crypto.key_id(digest.head)
    return entry


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    info.mtime = int(datetime.now(timezone.utc).timestamp())
    archive.addfile(info, io.BytesIO(data))


class _Hashing(io.RawIOBase):
    """A reader of at most ``size`` bytes of ``handle`` that hashes what it reads, and keeps
    the first bytes (a document's encryption header)."""

    def __init__(self, handle, size: int):
        super().__init__()
        self.handle, self.left, self.sha256, self.head = handle, size, hashlib.sha256(), b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.handle.read(size)
        if len(data) < size:
            raise BackupError(_("A file changed size while it was being backed up: run the backup again."))
        self.left -= len(data)
        self.sha256.update(data)
        if len(self.head) < crypto.HEADER_SIZE + crypto.TAG_SIZE:
            self.head += data[:crypto.HEADER_SIZE + crypto.TAG_SIZE]
        return data

    def hexdigest(self) -> str:
        return self.sha256.hexdigest()


def _sqlite_path() -> Path:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(_("The database is in memory: there is no database file to back up."))
    return Path(url.database)


def _sqlite_snapshot(target: Path) -> dict:
    """The live SQLite database copied by its online backup API (in one step: one consistent
    read, while writers go on in the WAL), then read for its counts and documents."""
    source_path = _sqlite_path()
    if not source_path.is_file():
        raise BackupError(_("The database file %(path)s does not exist.", path=source_path))
    source = sqlite3.connect(source_path, timeout=60)
    destination = sqlite3.connect(target)
    try:
        source.execute("PRAGMA busy_timeout = 60000")
        source.backup(destination)
        destination.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        if destination.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(_("The copy of the database fails SQLite's integrity check: "
                                "the database itself may be damaged."))
    finally:
        destination.close()
        source.close()
    copy = create_engine(f"sqlite:///{target}", poolclass=NullPool)
    try:
        with copy.connect() as connection:
            return _snapshot_facts(connection)
    finally:
        copy.dispose()


def table_counts(connection) -> dict[str, int]:
    """The number of rows of each table the connection sees."""
    return {name: connection.scalar(select(func.count()).select_from(table(name)))
            for name in sorted(inspect(connection).get_table_names())}


def _snapshot_facts(connection) -> dict:
    """Row counts per table, the schema revision and the documents' storage names, as the
    snapshot holds them."""
    counts = table_counts(connection)
    revision = None
    if "alembic_version" in counts:
        versions = table("alembic_version", column("version_num"))
        revision = ",".join(sorted(connection.scalars(select(versions.c.version_num)))) or None
    documents = []
    if "documents" in counts:
        rows = table("documents", column("id"), column("storage_name"))
        documents = list(connection.scalars(select(rows.c.storage_name).order_by(rows.c.id)))
    return {"tables": counts, "revision": revision, "documents": documents}


def postgres_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on PATH, else the newest in /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda path: [int(part) if part.isdigit() else 0 for part in Path(path).parts])
    if candidates:
        return candidates[-1]
    raise BackupError(_("%(tool)s was not found on PATH or in /usr/lib/postgresql/*/bin: install "
                        "PostgreSQL's client programs (Debian: apt-get install postgresql-client).", tool=name))


def _libpq() -> tuple[str, dict[str, str]]:
    """The configured database as a libpq URI without its password, and an environment giving
    the password (never on a command line, where any user could read it)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = {key: value for key, value in os.environ.items()}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT,  # nosec B603 - pg_dump/pg_restore, no shell
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BackupError(_("%(tool)s took too long and was stopped.", tool=what)) from None
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise BackupError(_("%(tool)s failed: %(reason)s", tool=what, reason=reason))


def _postgres_snapshot(target: Path) -> dict:
    """``pg_dump`` of a snapshot exported by a repeatable-read transaction, which then reads its
    counts and documents from that same snapshot."""
    uri, env = _libpq()
    tool = postgres_tool("pg_dump")
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            _run([tool, "--format=custom", "--compress=6", f"--snapshot={snapshot}", "--no-password",
                  f"--file={target}", f"--dbname={uri}"], env, "pg_dump")
            return _snapshot_facts(connection)


# --- reading an archive ------------------------------------------------------------------------

def _damaged(archive: Path, reason: str) -> BackupError:
    return BackupError(_("The backup archive %(archive)s is damaged (%(reason)s): nothing was restored.",
                         archive=archive, reason=reason))


def verify_archive(archive: str | Path) -> dict:
    """The manifest of ``archive`` once every member matches its checksum; else ``BackupError``
    (damaged, truncated, a member missing, changed or added, or not a backup at all)."""
    archive = Path(archive)
    seen: dict[str, tuple[str, int]] = {}
    manifest_bytes = None
    try:
        with tarfile.open(archive, mode="r:*") as reader:
            for member in reader:
                if not member.isfile() or member.name in seen or not _allowed(member.name):
                    raise _damaged(archive, _("unexpected entry %(name)s", name=member.name))
                handle = reader.extractfile(member)
                if member.name == MANIFEST:
                    manifest_bytes = handle.read(16 * _CHUNK)
                    continue
                sha256 = hashlib.sha256()
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    sha256.update(chunk)
                seen[member.name] = (sha256.hexdigest(), member.size)
    except FileNotFoundError:
        raise BackupError(_("There is no file %(archive)s.", archive=archive)) from None
    except IsADirectoryError:
        raise BackupError(_("%(archive)s is a folder, not a backup archive.", archive=archive)) from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        if isinstance(error, PermissionError):
            raise BackupError(_("%(archive)s cannot be read: permission denied.", archive=archive)) from None
        raise _damaged(archive, _("not a complete archive")) from None
    if manifest_bytes is None:
        raise _damaged(archive, _("no manifest"))
    try:
        manifest = json.loads(manifest_bytes)
        files = manifest["files"]
        valid = (manifest.get("format") == FORMAT and isinstance(files, dict)
                 and isinstance(manifest.get("tables"), dict) and manifest.get("database") in ("sqlite", "postgresql"))
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise _damaged(archive, _("its manifest cannot be read"))
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(_("The backup archive %(archive)s was made by another version of Itinera "
                            "(format %(version)s): restore it with that version.",
                            archive=archive, version=manifest.get("version")))
    for name, entry in files.items():
        if name not in seen:
            raise _damaged(archive, _("%(name)s is missing", name=name))
        if not isinstance(entry, dict) or seen[name] != (entry.get("sha256"), entry.get("size")):
            raise _damaged(archive, _("%(name)s does not match its checksum", name=name))
    extra = sorted(set(seen) - set(files))
    if extra:
        raise _damaged(archive, _("unexpected entry %(name)s", name=extra[0]))
    database_member = SQLITE_MEMBER if manifest["database"] == "sqlite" else POSTGRES_MEMBER
    if database_member not in files:
        raise _damaged(archive, _("%(name)s is missing", name=database_member))
    return manifest


def _allowed(name: str) -> bool:
    return name in (MANIFEST, SQLITE_MEMBER, POSTGRES_MEMBER) or bool(_STORED.fullmatch(name))


@contextmanager
def _members(archive: Path) -> Iterator[Iterator[tuple[str, object]]]:
    with tarfile.open(archive, mode="r:*") as reader:
        yield ((member.name, reader.extractfile(member)) for member in reader if member.isfile())


# --- restore -----------------------------------------------------------------------------------

def database_is_empty() -> bool:
    """Whether the configured database has no table at all (never upgraded, nothing restored)."""
    with db.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
    return not tables


def _stored_files(upload_dir: Path) -> list[Path]:
    if not upload_dir.is_dir():
        return []
    return [path for path in upload_dir.iterdir() if re.fullmatch(r"[0-9a-f]{32}", path.name)]


def restore_backup(archive: str | Path, *, force: bool = False) -> RestoreResult:
    """Put ``archive`` back: its documents into ``CRM_UPLOAD_DIR``, its database into the
    configured one, which must be empty (no table) and the folder without documents, unless
    ``force`` (then both are replaced). The archive is verified whole before anything is written;
    the database is restored in one transaction (SQLite's backup API, ``pg_restore
    --single-transaction``)."""
    archive = Path(archive)
    manifest = verify_archive(archive)
    kind = database_kind()
    if manifest["database"] != kind:
        raise BackupError(_("This backup is of a %(backup)s database, but CRM_DATABASE_URL is a %(configured)s "
                            "database: restore it into a %(backup)s database.",
                            backup=manifest["database"], configured=kind))
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    if not force and not database_is_empty():
        raise BackupError(_("The database is not empty: restore into a new, empty database, or add --force "
                            "to replace everything in it with the backup."))
    if not force and _stored_files(upload_dir):
        raise BackupError(_("The documents folder %(folder)s already holds documents: restore into an empty "
                            "folder, or add --force to replace them.", folder=upload_dir))
    keys = crypto.keyring()
    result = RestoreResult(manifest=manifest)
    result.unknown_keys = sorted({entry["key"] for name, entry in manifest["files"].items()
                                  if name.startswith(UPLOADS) and entry.get("key")
                                  and bytes.fromhex(entry["key"]) not in keys.by_id})
    db.session.remove()
    db.engine.dispose()  # no connection of this process holds the database while it is replaced
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=_work_dir(kind)) as work:
        database_file = Path(work) / "database"
        wanted = set()
        upload_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _members(archive) as members:
            for name, handle in members:
                if name.startswith(UPLOADS):
                    storage_name = name[len(UPLOADS):]
                    wanted.add(storage_name)
                    _write_whole(upload_dir, storage_name, handle)
                elif name in (SQLITE_MEMBER, POSTGRES_MEMBER):
                    with database_file.open("wb") as out:
                        shutil.copyfileobj(handle, out, _CHUNK)
        if kind == "sqlite":
            _sqlite_restore(database_file)
        else:
            _postgres_restore(database_file, force=force)
    if force:
        for path in _stored_files(upload_dir):
            if path.name not in wanted:
                path.unlink(missing_ok=True)
                result.removed_files += 1
    _check_counts(manifest)
    result.needs_upgrade = _needs_upgrade(manifest.get("schema_revision"))
    return result


def _work_dir(kind: str) -> str | None:
    """Where the database is unpacked: beside the SQLite file (one file system, room for it)."""
    return str(_sqlite_path().parent) if kind == "sqlite" else None


def _write_whole(directory: Path, name: str, handle) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".partial-")
    try:
        with os.fdopen(descriptor, "wb") as out:
            shutil.copyfileobj(handle, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, directory / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _sqlite_restore(database_file: Path) -> None:
    """The backup's database copied over the configured one by SQLite's backup API: the
    destination changes in one transaction, whatever it held."""
    target = _sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(database_file)
    destination = sqlite3.connect(target, timeout=60)
    try:
        destination.execute("PRAGMA busy_timeout = 60000")
        source.backup(destination)
        destination.execute("PRAGMA journal_mode = WAL")
    finally:
        destination.close()
        source.close()


def _postgres_restore(dump: Path, *, force: bool) -> None:
    """``pg_restore`` of the dump in one transaction; with ``force`` what the dump holds replaces
    the same objects, and tables the dump does not have are dropped afterwards."""
    uri, env = _libpq()
    tool = postgres_tool("pg_restore")
    command = [tool, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
               "--no-password", f"--dbname={uri}"]
    if force:
        command += ["--clean", "--if-exists"]
    _run(command + [str(dump)], env, "pg_restore")
    if force:
        listing = subprocess.run([tool, "--list", str(dump)], capture_output=True, text=True, env=env,  # nosec B603 - pg_restore, no shell
                                 timeout=PG_TIMEOUT, stdin=subprocess.DEVNULL)
        restored = set(re.findall(r"\bTABLE \S+ (\S+) ", listing.stdout))
        with db.engine.begin() as connection:
            extra = [name for name in inspect(connection).get_table_names() if name not in restored]
            if extra:  # tables of a later schema than the backup's
                later = MetaData()
                later.reflect(connection, only=extra)
                later.drop_all(connection)
        db.engine.dispose()


def _check_counts(manifest: dict) -> None:
    """The restored database holds as many rows in each table as the manifest says."""
    with db.engine.connect() as connection:
        present = table_counts(connection)
    for name, expected in manifest["tables"].items():
        found = present.get(name, 0)
        if found != expected:
            raise BackupError(_("After the restore the table %(table)s holds %(found)s rows instead of "
                                "%(expected)s: check the database.", table=name, found=found, expected=expected))
    db.engine.dispose()


def _needs_upgrade(revision: str | None) -> bool:
    from alembic.script import ScriptDirectory
    heads = set(ScriptDirectory(current_app.config["MIGRATIONS_DIR"]).get_heads())
    return set((revision or "").split(",")) != heads
