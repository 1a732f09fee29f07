"""Glue between forms and services: a service's errors go back onto the form's fields."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..extensions import db
from ..services.errors import StaleVersion, ValidationError


def apply_errors(form, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` messages next to the fields that caused them."""
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is None:
            form.form_errors.append(str(message))
        else:
            field.errors = list(field.errors or []) + [str(message)]


def save_with(form, action: Callable[[], Any]) -> tuple[bool, Any]:
    """Run a service for a submitted form and commit once; on a rule's refusal roll back and
    show why on the form (field errors by their fields, a conflict above the form).

    :returns: ``(True, what the service returned)`` or ``(False, None)``.
    """
    try:
        result = action()
    except StaleVersion as error:
        db.session.rollback()
        form.form_errors.append(str(error.message))
        return False, None
    except ValidationError as error:
        db.session.rollback()
        apply_errors(form, error)
        return False, None
    db.session.commit()
    return True, result
