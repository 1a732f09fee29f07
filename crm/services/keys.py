"""Key rotation: every stored document and every encrypted column re-encrypted under the current
key (``CRM_ENCRYPTION_KEY``), plaintext from before encryption encrypted, in batches, each batch
committed: stopped half-way, a second run goes on where the first stopped (what is already
under the current key is only looked at)."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import LargeBinary, Table, Text, and_, func, select, type_coerce
from sqlalchemy.engine import make_url

from ..extensions import db
from . import crypto, uploads
from .errors import NotFound

#: rows (or documents) read per batch; each batch is one transaction
BATCH = 200


@dataclass
class RotationSummary:
    """What a rotation did: files and column values re-encrypted, already current, missing."""

    key_id: str
    files: int = 0
    values: int = 0
    current: int = 0
    missing_files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"key": self.key_id, "files": self.files, "values": self.values, "current": self.current,
                "missing_files": len(self.missing_files)}


def encrypted_columns() -> list[tuple[Table, object]]:
    """Every column of the schema stored encrypted (``EncryptedText``/``EncryptedBytes``)."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (crypto.EncryptedText, crypto.EncryptedBytes)):
                found.append((table, column))
    return found


def work_to_do() -> int:
    """How many documents and non-empty encrypted values a rotation looks at (its progress total)."""
    from ..models import Document
    total = db.session.scalar(select(func.count(Document.id))) or 0
    for table, column in encrypted_columns():
        total += db.session.scalar(select(func.count()).select_from(table).where(column.is_not(None))) or 0
    db.session.rollback()
    return total


def rotate(*, batch: int = BATCH, progress: Callable[[int], None] | None = None) -> RotationSummary:
    """Re-encrypt every document file and encrypted column value that is not under the current
    key. Commits once per batch. The old keys stay needed until it has run to the end."""
    keys = crypto.keyring()
    summary = RotationSummary(key_id=keys.current.hex_id)
    progress = progress or (lambda count: None)
    _rotate_files(keys, summary, batch, progress)
    for table, column in encrypted_columns():
        _rotate_column(keys, table, column, summary, batch, progress)
    if summary.values:
        purge_replaced_values()
    return summary


def purge_replaced_values() -> None:
    """SQLite keeps what an UPDATE replaced in the file's free space and in its WAL until they are
    written over: the database is rebuilt (VACUUM) and its WAL emptied, so the values from
    before (plaintext, or under an old key) are gone from disk. PostgreSQL's dead row versions
    are not readable through SQL and are reclaimed by its autovacuum."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    db.session.remove()
    connection = sqlite3.connect(url.database, isolation_level=None, timeout=60)
    try:
        connection.execute("PRAGMA busy_timeout = 60000")
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _rotate_files(keys, summary: RotationSummary, batch: int, progress) -> None:
    from ..models import Document
    upload_dir = current_app.config["UPLOAD_DIR"]
    after = 0
    while True:
        rows = db.session.execute(select(Document.id, Document.storage_name).where(Document.id > after)
                                  .order_by(Document.id).limit(batch)).all()
        db.session.rollback()  # nothing to write in the database: no transaction held meanwhile
        if not rows:
            return
        for document_id, storage_name in rows:
            try:
                changed = uploads.reencrypt_stored(upload_dir, storage_name, keys=keys)
            except NotFound:
                summary.missing_files.append(storage_name)
                current_app.logger.warning("document %s: its stored file is missing", document_id)
            else:
                if changed:
                    summary.files += 1
                else:
                    summary.current += 1
        after = rows[-1][0]
        progress(len(rows))


def _rotate_column(keys, table: Table, column, summary: RotationSummary, batch: int, progress) -> None:
    (key,) = table.primary_key.columns
    kind = column.type
    binary = isinstance(kind, crypto.EncryptedBytes)
    stored = type_coerce(column, LargeBinary() if binary else Text())
    # a binary value (a whole mail) can be large: only its header is read to decide
    looked_at = type_coerce(func.substr(stored, 1, crypto.PREFIX_SIZE), LargeBinary()) if binary else stored
    after = None
    while True:
        query = select(key, looked_at).where(column.is_not(None)).order_by(key).limit(batch)
        if after is not None:
            query = query.where(key > after)
        rows = db.session.execute(query).all()
        if not rows:
            db.session.rollback()
            return
        for row_id, seen in rows:
            if (crypto.is_current_prefix(bytes(seen), keys=keys) if binary else kind.is_current(seen)):
                summary.current += 1
                continue
            value = db.session.scalar(select(stored).where(key == row_id)) if binary else seen
            if value is None:
                continue
            new = kind.reencrypted(value)
            # compare-and-set: a value the app changed meanwhile is already under the current key
            result = db.session.execute(table.update().where(and_(key == row_id, stored == value))
                                        .values({column.key: type_coerce(new, stored.type)}))
            if result.rowcount:
                summary.values += 1
            else:
                summary.current += 1
        db.session.commit()
        after = rows[-1][0]
        progress(len(rows))
