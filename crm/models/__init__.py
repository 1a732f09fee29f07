"""The domain model, one module per aggregate."""
from .audit import AuditEvent
from .center import Center
from .dashboard import DashboardCount, OpenTaskCount  # noqa: F401 - the dashboard's counts
from .inquiry import Inquiry, Note, RoutingDecision, StageChange
from .mail import ChecklistItem, Document, InboundMail, Message, OutboundMail, PortalLink
from .patient import DuplicateCandidate, DuplicateDismissal, Patient
from .scheduler import SchedulerLease
from .task import Task
from .user import ApiToken, User, UserLanguage

__all__ = ["ApiToken", "AuditEvent", "Center", "ChecklistItem", "Document", "DuplicateCandidate",
           "DuplicateDismissal", "InboundMail", "Inquiry", "Message", "Note", "OutboundMail",
           "Patient", "PortalLink", "RoutingDecision", "SchedulerLease", "StageChange", "Task",
           "User", "UserLanguage"]
