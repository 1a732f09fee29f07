"""Domain errors raised by the services and mapped onto forms, API errors and CLI messages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule of the domain said no. ``code`` is stable; ``message`` is translated."""

    code = "domain_error"
    status = 400
    default_message = _l("This action is not possible.")

    def __init__(self, message=None):
        super().__init__(str(message or self.default_message))
        self.message = message or self.default_message


class ValidationError(DomainError):
    """One or more fields are invalid: ``fields`` maps a field name to its message."""

    code = "validation_error"
    status = 422
    default_message = _l("Some fields need your attention.")

    def __init__(self, field=None, reason=None, *, fields=None):
        self.fields = dict(fields or {})
        if field is not None:
            self.fields[field] = reason
        super().__init__()


class NotFound(DomainError):
    """Absent or out of the user's reach: both look the same from outside."""

    code = "not_found"
    status = 404
    default_message = _l("Not found.")


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = _l("You are not allowed to do this.")


class TransitionNotAllowed(DomainError):
    """The move is not one of the moves allowed from the case's stage (409, as the contract says)."""

    code = "illegal_transition"
    status = 409
    default_message = _l("This move is not allowed from the current stage.")


class StaleVersion(DomainError):
    """The case changed since the caller read it (409, as the contract says)."""

    code = "stale_version"
    status = 409
    default_message = _l("Someone else changed this case while you were editing it. "
                         "Reload the page to see their change, then try again.")


def flush_or_conflict(session) -> None:
    """Flush; a row changed by another transaction since it was read is a ``StaleVersion``."""
    from sqlalchemy.orm.exc import StaleDataError
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion() from None
