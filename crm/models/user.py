"""Staff accounts: roles, the centers they serve, the languages they speak, their second factor
and recovery codes, API tokens."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..services.crypto import EncryptedText
from .base import UTCDateTime, utcnow

COORDINATOR, MANAGER, ADMIN = "coordinator", "manager", "admin"
ROLES = (COORDINATOR, MANAGER, ADMIN)

user_centers = Table(
    "user_centers", db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("center_id", ForeignKey("centers.id", ondelete="CASCADE"), primary_key=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    """A coordinator, manager or admin of the international center."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    ui_locale: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Away (leave, travel): gets no new cases; a manager can hand their open work to others.
    is_away: Mapped[bool] = mapped_column(default=False)
    #: Rotated at sign-out, password change and deactivation: a cookie issued before it no
    #: longer signs anybody in.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    #: The TOTP secret (base32), encrypted at rest, set when enrollment starts; on only once
    #: ``totp_enabled_at`` is set, after one code was verified.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The time step of the last code accepted: a code of that step or earlier is refused.
    totp_last_step: Mapped[int | None] = mapped_column()
    #: The latest end of this user's break-glass grants: none is looked up once it has passed.
    break_glass_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    centers: Mapped[list["Center"]] = relationship(  # noqa: F821
        secondary=user_centers, back_populates="users", order_by="Center.position")
    language_rows: Mapped[list["UserLanguage"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserLanguage.language")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def languages(self) -> list[str]:
        return [row.language for row in self.language_rows]

    @languages.setter
    def languages(self, codes) -> None:
        self.language_rows = [UserLanguage(language=code) for code in dict.fromkeys(codes)]

    @property
    def is_manager(self) -> bool:
        return self.role == MANAGER

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_coordinator(self) -> bool:
        return self.role == COORDINATOR

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def needs_totp(self) -> bool:
        """Managers and admins must sign in with a second factor; coordinators may."""
        return self.role in (MANAGER, ADMIN)

    @property
    def sees_cases(self) -> bool:
        return self.role in (COORDINATOR, MANAGER)

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class UserLanguage(db.Model):
    """A language a staff member speaks (contract code, e.g. ``pt-BR``)."""

    __tablename__ = "user_languages"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    user: Mapped[User] = relationship(back_populates="language_rows")


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
