"""``crm audit``: the audit trail from the command line."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from .cli import OperatorError, needs_schema

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Rows read at a time.")
@needs_schema
def verify_command(batch):
    """Check the whole hash chain of the audit trail: one line with the count verified, or the
    first row where it breaks and exit status 1."""
    from flask_babel import gettext as _

    from .services import audit

    result = audit.verify(batch=batch)
    if result.problem == "changed":
        raise OperatorError(_("audit event #%(id)s does not match its hash: the row was changed.",
                              id=result.broken_id))
    if result.problem == "unlinked":
        if result.previous_id is None:
            raise OperatorError(_("audit event #%(id)s does not begin the chain: a row before it was "
                                  "removed, or it was inserted or moved.", id=result.broken_id))
        raise OperatorError(_("audit event #%(id)s does not follow #%(previous)s: a row between them was "
                              "removed, or one of them was changed, inserted or moved.",
                              id=result.broken_id, previous=result.previous_id))
    if result.count == 0:
        click.echo(_("0 audit events verified: the trail is empty."))
        return
    click.echo(_("%(count)s audit events verified: the chain is whole up to #%(id)s, hash %(hash)s.",
                 count=result.count, id=result.last_id, hash=result.last_hash))
