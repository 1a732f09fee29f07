"""The domain model, one module per aggregate."""
from .appointment import Appointment
from .audit import AuditEvent
from .break_glass import BreakGlassGrant
from .center import Center
from .dashboard import DashboardCount, OpenTaskCount  # noqa: F401 - the dashboard's counts
from .inquiry import Inquiry, Note, RoutingDecision, StageChange
from .finance import FinanceEntry, FinancialClearance
from .mail import ChecklistItem, Document, InboundMail, Message, OutboundAttachment, OutboundMail, PortalLink
from .opinion import OpinionAddendum, OpinionRequest
from .patient import DuplicateCandidate, DuplicateDismissal, Patient
from .scheduler import SchedulerLease
from .task import Task
from .travel import Companion, TravelPlan
from .user import ApiToken, RecoveryCode, User, UserLanguage

__all__ = ["Appointment", "Companion", "FinanceEntry", "FinancialClearance", "OpinionAddendum",
           "OpinionRequest", "OutboundAttachment", "TravelPlan",
           "ApiToken", "AuditEvent", "BreakGlassGrant", "Center", "ChecklistItem", "Document", "DuplicateCandidate",
           "DuplicateDismissal", "InboundMail", "Inquiry", "Message", "Note", "OutboundMail",
           "Patient", "PortalLink", "RecoveryCode", "RoutingDecision", "SchedulerLease", "StageChange", "Task",
           "User", "UserLanguage"]
