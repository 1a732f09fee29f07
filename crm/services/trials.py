"""Clinical trials: a patient's interest in one, the trial named as they or their physician gave
it, and its registry id checked. The case itself goes through the stages like any other."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Inquiry, User
from ..models.base import utcnow
from . import audit
from .errors import ValidationError, flush_or_conflict
from .pipeline import check_version
from .validation import clean_text

NAME_MAX = 300
#: The registries whose ids are accepted, and the shape of an id in each.
REGISTRIES = {
    "ClinicalTrials.gov": re.compile(r"NCT[0-9]{8}"),
    "ISRCTN": re.compile(r"ISRCTN[0-9]{8}"),
    "EU CT": re.compile(r"[0-9]{4}-5[0-9]{5}-[0-9]{2}-[0-9]{2}"),  # EU Clinical Trials Regulation (CTIS)
    "EudraCT": re.compile(r"[0-9]{4}-[0-9]{6}-[0-9]{2}"),
}


def clean_registry_id(value, field: str, errors: dict) -> str | None:
    """A trial registry id in its registry's own writing (NCT01234567), or None when blank."""
    value = clean_text(value, field, errors, max_len=32)
    if not value or field in errors:
        return None
    normalized = re.sub(r"\s+", "", value).upper()
    if not any(shape.fullmatch(normalized) for shape in REGISTRIES.values()):
        errors[field] = _l("This is not a trial registry id: use the ClinicalTrials.gov number "
                           "(NCT followed by 8 digits, like NCT01234567), an ISRCTN, EU CT or "
                           "EudraCT number, or leave it blank.")
        return None
    return normalized


def registry_of(registry_id: str | None) -> str | None:
    """The registry an id belongs to."""
    for name, shape in REGISTRIES.items():
        if registry_id and shape.fullmatch(registry_id):
            return name
    return None


def registry_url(registry_id: str | None) -> str | None:
    """Where a ClinicalTrials.gov or ISRCTN id can be read (the others have no stable address)."""
    registry = registry_of(registry_id)
    if registry == "ClinicalTrials.gov":
        return f"https://clinicaltrials.gov/study/{registry_id}"
    if registry == "ISRCTN":
        return f"https://www.isrctn.com/{registry_id}"
    return None


def record_trial(inquiry: Inquiry, *, actor: User, expected_version, interested: bool,
                 name: str | None = None, registry_id: str | None = None) -> list[str]:
    """Record the patient's interest in a clinical trial and the trial they name; a case of the
    ``clinical_trial`` service is interested by definition, and a trial named implies interest.
    Returns the names of the fields changed. Flushes."""
    check_version(inquiry, expected_version)
    errors: dict = {}
    name = clean_text(name, "trial_name", errors, max_len=NAME_MAX)
    registry_id = clean_registry_id(registry_id, "trial_registry_id", errors)
    if errors:
        raise ValidationError(fields=errors)
    interested = bool(interested or name or registry_id or inquiry.service == "clinical_trial")
    wanted = {"trial_name": name if interested else None,
              "trial_registry_id": registry_id if interested else None}
    changed = [field for field, value in wanted.items() if getattr(inquiry, field) != value]
    if interested != (inquiry.trial_interest_at is not None):
        changed.append("trial_interest_at")
        inquiry.trial_interest_at = utcnow() if interested else None
    for field in changed:
        if field in wanted:
            setattr(inquiry, field, wanted[field])
    if changed:
        inquiry.updated_at = utcnow()
        inquiry.bump_version()
        flush_or_conflict(db.session)
        audit.record("change", actor=actor, inquiry=inquiry, detail="fields=" + ",".join(changed))
    return changed
