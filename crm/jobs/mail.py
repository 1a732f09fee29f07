"""Mail jobs: deliver the outbox, poll the mailbox."""
from __future__ import annotations

from flask import current_app

from ..services import mailbox, outbox


def deliver_outbox(now=None) -> int:
    """Send the mail that is due (commits after each message); returns how many were sent."""
    return outbox.deliver_due(now)["sent"]


def poll_mailbox() -> int:
    """One poll of ``CRM_IMAP_URL`` when it is set; returns how many messages were taken."""
    if not current_app.config.get("IMAP_URL"):
        return 0
    return sum(mailbox.poll_imap().counts.values())
