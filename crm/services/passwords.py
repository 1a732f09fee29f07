"""The password rule: long enough, and not on the bundled list of breached passwords."""
from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

PASSWORD_MIN = 12
#: Passwords leaked in breaches, lower-cased (see crm/data/README.md); read once, when needed.
BREACHED_LIST = Path(__file__).resolve().parent.parent / "data" / "breached_passwords.txt.gz"


@cache
def breached_passwords() -> frozenset[str]:
    """The bundled list, as a set."""
    with gzip.open(BREACHED_LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines)


def is_breached(password: str) -> bool:
    """True when ``password`` is on the list, ignoring case."""
    return password.lower() in breached_passwords()


def password_problem(password: str | None):
    """Why ``password`` cannot be used (a translated message), or None when it can."""
    if not password or len(password) < PASSWORD_MIN:
        return _l("Use at least %(min)s characters.", min=PASSWORD_MIN)
    if is_breached(password):
        return _l("This password appears in lists of passwords leaked in data breaches, so it "
                  "is easy to guess. Choose another one.")
    return None
