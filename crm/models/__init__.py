"""The domain model, one module per aggregate."""
from .audit import AuditEvent
from .center import Center
from .inquiry import Inquiry, Note, StageChange
from .patient import Patient
from .user import ApiToken, User, UserLanguage

__all__ = ["ApiToken", "AuditEvent", "Center", "Inquiry", "Note", "Patient", "StageChange", "User",
           "UserLanguage"]
