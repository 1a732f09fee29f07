"""Patients: who the inquiries are about."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from anyascii import anyascii
from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

SEXES = ("female", "male", "other", "unknown")


def fold(text: str | None) -> str:
    """Lower-case, accent-free, single-spaced text for search in any script."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


_DIGRAPHS = (("kh", "h"), ("ph", "f"), ("sh", "s"), ("ch", "s"), ("th", "t"), ("dh", "d"),
             ("gh", "g"), ("ou", "u"), ("w", "v"), ("q", "k"), ("c", "k"), ("z", "s"), ("j", "g"))
#: The Arabic article as a word of its own ("Al Otaibi", "El-Sayed"), joined to the name after it.
_ARTICLES = frozenset(("al", "el", "ul", "il"))
#: The article as it sounds before a "sun letter" ("Ar-Rashid", "As-Sayed", "An-Nasser"): written
#: ال all the same, so it is the same name as Al-Rashid; only with a hyphen, since "An Nguyen"
#: is not an article.
_SUN_LETTERS = ("th", "dh", "sh", "t", "d", "r", "z", "s", "n")
#: ال written apart from its name: joined to it, as Arabic writes it.
_ARABIC_ARTICLE_APART = re.compile(r"(?<!\S)ال[\s\u0640-]+(?=\S)")
_WORD = re.compile(r"([^\s-]+)([\s-]*)")


def _words(text: str) -> list[str]:
    """The words of a name in Latin letters, each article joined to the word it precedes."""
    words: list[tuple[str, str]] = []  # (letters, what separates them from the next word)
    for raw, gap in _WORD.findall(anyascii(_ARABIC_ARTICLE_APART.sub("ال", text)).lower()):
        letters = re.sub(r"[^a-z]", "", raw)
        if letters:
            words.append((letters, gap))
        elif words:
            words[-1] = (words[-1][0], words[-1][1] + gap)
    joined, article = [], ""
    for index, (letters, gap) in enumerate(words):
        word, article = article + letters, ""
        following = words[index + 1][0] if index + 1 < len(words) else ""
        if following and (word in _ARTICLES or (
                "-" in gap and word[:1] in ("a", "e", "u") and word[1:] in _SUN_LETTERS
                and following.startswith(word[1:]))):
            article = "al"
        else:
            joined.append(word)
    return joined


def name_key(*names: str | None) -> str:
    """A key on which a name written in any script or transliteration agrees: Mohammed,
    Muhammad, Мухаммад and محمد all become ``mhmd``; the words are sorted, so the order of
    given and family names does not matter. Hyphens separate words like spaces, and the
    Arabic article is part of the name it precedes: Al-Otaibi, Al Otaibi, AlOtaibi, El-Otaibi,
    Аль-Отайби and العتيبي all become ``ltb`` (but Otaibi stays ``tb``)."""
    keys = []
    for word in _words(" ".join(filter(None, names))):
        for digraph, single in _DIGRAPHS:
            word = word.replace(digraph, single)
        word = re.sub(r"[aeiouy]", "", word)
        word = re.sub(r"(.)\1+", r"\1", word)
        if word:
            keys.append(word)
    return " ".join(sorted(keys))[:200]


class Patient(db.Model):
    """A person who asked the center for care; one record per person."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str | None] = mapped_column(String(20), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    #: The email in lower case: finding "the same person" ignores case, and stays indexed.
    email_lower: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(10))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    preferred_language: Mapped[str] = mapped_column(String(8), default="en", index=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    #: ``fold``-ed names, email, phone and MRN, for the search box.
    search_text: Mapped[str] = mapped_column(String(700), default="")
    #: ``name_key`` of the names: possible duplicates across transliterations.
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    #: Mail to the address bounced: the coordinator must find another way.
    email_bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set on a duplicate merged into another patient; the record stays for the audit trail.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    #: When the record's email, phone and name were last compared with the other records' for
    #: the review list of possible duplicates; None for a record written since (in bulk by the
    #: mail import or the demo), compared when the list is next read.
    duplicates_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    inquiries: Mapped[list["Inquiry"]] = relationship(  # noqa: F821
        back_populates="patient", order_by="Inquiry.created_at.desc()")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (
        # the records still to compare, found without reading the others
        Index("ix_patients_duplicates_unchecked", "id",
              sqlite_where=text("duplicates_checked_at IS NULL"),
              postgresql_where=text("duplicates_checked_at IS NULL")),
    )

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def bump_version(self) -> None:
        self.version = (self.version or 0) + 1

    def refresh_search_text(self) -> None:
        self.email_lower = self.email.lower() if self.email else None
        self.name_key = name_key(self.given_name, self.family_name)
        self.search_text = fold(" ".join(
            filter(None, [self.given_name, self.family_name, self.email, self.phone, self.mrn])))[:700]

    def __repr__(self) -> str:
        return f"<Patient {self.id}>"


class DuplicateDismissal(db.Model):
    """Two patients a coordinator checked and found to be different people."""

    __tablename__ = "duplicate_dismissals"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DuplicateCandidate(db.Model):
    """Two current records that may be the same person, as the review list shows them: one
    row per detail they share (``group_key``), kept up to date by ``services.duplicates``."""

    __tablename__ = "duplicate_candidates"

    #: Which shared detail flags the pair: a hash of its kind and value
    #: (``services.duplicates.group_key``), so that no email or phone is copied here.
    group_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: The older record of the pair (the lower id) …
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    #: … and the newer one.
    other_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("patient_id < other_id", name="ordered"),
        # the review list, newest pair first
        Index("ix_duplicate_candidates_newest", "other_id", "patient_id"),
    )
