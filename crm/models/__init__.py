"""The domain model, one module per aggregate."""
from .audit import AuditEvent
from .center import Center
from .inquiry import Inquiry, Note, RoutingDecision, StageChange
from .patient import Patient
from .scheduler import SchedulerLease
from .task import Task
from .user import ApiToken, User, UserLanguage

__all__ = ["ApiToken", "AuditEvent", "Center", "Inquiry", "Note", "Patient", "RoutingDecision", "SchedulerLease", "StageChange", "Task", "User",
           "UserLanguage"]
