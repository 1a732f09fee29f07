"""Mail on disk: ``.eml`` files, mbox files and Maildir folders, found, counted and read."""
from __future__ import annotations

import mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


class NoMailFound(ValueError):
    """A folder given to read holds no mail at all."""


@dataclass(frozen=True)
class MailSource:
    """One file or Maildir folder of mail; ``kind`` is ``eml``, ``mbox`` or ``maildir``."""

    path: Path
    kind: str

    def count(self) -> int:
        """How many messages it holds, without reading them (an mbox is scanned for its
        ``From`` lines, as ``mailbox.mbox`` splits it)."""
        if self.kind == "eml":
            return 1
        if self.kind == "maildir":
            return len(mailbox.Maildir(self.path, factory=None, create=False))
        count, tail = 0, b"\n"  # the start of the file counts as the start of a line
        with self.path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                count += (tail + chunk).count(b"\nFrom ")
                tail = chunk[-5:]
        return count

    def messages(self) -> Iterator[tuple[str, bytes]]:
        """Each message as (where it is, for an operator; its raw bytes)."""
        if self.kind == "eml":
            yield str(self.path), self.path.read_bytes()
        elif self.kind == "maildir":
            box = mailbox.Maildir(self.path, factory=None, create=False)
            for key in box.iterkeys():
                yield f"{self.path} (message {key})", box.get_bytes(key)
        else:
            box = mailbox.mbox(self.path, factory=None, create=False)
            try:
                for number, key in enumerate(box.iterkeys(), 1):
                    yield f"{self.path} (message {number})", box.get_bytes(key)
            finally:
                box.close()


def find(paths: Iterable[str | Path]) -> list[MailSource]:
    """The mail files and Maildir folders named, folders that are not Maildirs searched (hidden
    names skipped). Raises ``NoMailFound`` for a folder argument that holds no mail."""
    found: list[MailSource] = []
    for path in map(Path, paths):
        sources = _walk(path)
        if path.is_dir() and not any(s.kind != "maildir" or s.count() for s in sources):
            if sources == [MailSource(path, "maildir")]:
                raise NoMailFound(f"{path}: the Maildir is empty, there is no mail to take")
            raise NoMailFound(f"{path}: no mail found (not a Maildir, which has cur/ and new/ "
                              "folders, and no .eml or mbox files in it)")
        found.extend(sources)
    return found


def read(sources: Iterable[MailSource]) -> Iterator[tuple[str, bytes]]:
    """Every message of ``sources``, in order, with where it is."""
    for source in sources:
        yield from source.messages()


def _walk(path: Path) -> list[MailSource]:
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            return [MailSource(path, "maildir")]
        return [source for child in sorted(path.iterdir())
                if not child.name.startswith(".") and (child.is_file() or child.is_dir())
                for source in _walk(child)]
    return [MailSource(path, "mbox" if _is_mbox(path) else "eml")]


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return bool(re.match(rb"From \S", handle.read(64)))
