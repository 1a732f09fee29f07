"""Access: who may open a blueprint, and where a redirect may go."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, abort
from flask_login import current_user, login_required


def restrict(bp: Blueprint, allowed: Callable[[object], bool]) -> None:
    """Every view of ``bp`` needs a signed-in user for whom ``allowed(user)`` holds, else 403."""

    @bp.before_request
    @login_required
    def guard():
        if not allowed(current_user):
            abort(403)


def sees_cases(user) -> bool:
    return user.sees_cases


def is_admin(user) -> bool:
    return user.is_admin


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\\"):
        return None
    return target
