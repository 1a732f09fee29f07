"""The test helpers' authenticator app: remembers each enrolled secret (read off the set-up page,
as a person types it into their phone) and gives a fresh code for each sign-in: a code already
used is refused by the server, so two sign-ins in one 30-second step take the next step's code."""
from __future__ import annotations

import re
import time

import pyotp

SECRET_ON_PAGE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
_secrets: dict[tuple, str] = {}
_last_steps: dict[tuple, int] = {}


def secret_from_page(html: str) -> str:
    """The key shown as text on the set-up page."""
    match = SECRET_ON_PAGE.search(html)
    assert match, "no TOTP key on the set-up page"
    return match.group(1).replace(" ", "")


def enrolled(key: tuple, secret: str) -> None:
    _secrets[key] = secret
    _last_steps.pop(key, None)


def secret_for(key: tuple) -> str:
    assert key in _secrets, f"{key[-1]} has two-step sign-in on, but no helper enrolled them"
    return _secrets[key]


def fresh_code(key: tuple, secret: str | None = None) -> str:
    """A right code for ``key`` that the server has not seen yet (waits at most one step)."""
    secret = secret or secret_for(key)
    now = int(time.time()) // 30
    step = max(now, _last_steps.get(key, now - 1) + 1)
    if step > now + 1:  # the server accepts one step ahead at most
        time.sleep((step - 1) * 30 - time.time() + 0.05)
    _last_steps[key] = step
    return pyotp.TOTP(secret).generate_otp(step)
