"""The ``crm`` command group (``flask --app wsgi …`` is the same)."""
from __future__ import annotations

import sys

import click
from flask import Flask, g
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from .extensions import db
from .i18n import LANGUAGE_LOCALES
from .models.user import ROLES


def _create_app():
    from . import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True,
             load_dotenv=False, set_debug_flag=False)
def main():
    """Itinera: the international patient center's CRM."""


def fail(error) -> None:
    """Print a service's ValidationError field by field and exit non-zero."""
    from .services.errors import ValidationError
    if isinstance(error, ValidationError):
        for field, message in error.fields.items():
            click.echo(f"error: {field}: {message}", err=True)
    else:
        click.echo(f"error: {error}", err=True)
    sys.exit(1)


users_cli = AppGroup("users", help="Staff accounts.")
tokens_cli = AppGroup("tokens", help="API tokens.")
export_cli = AppGroup("export", help="Export the pipeline.")
centers_cli = AppGroup("centers", help="Centers of excellence.")
mail_cli = AppGroup("mail", help="Mail in: files, mailboxes, the IMAP inbox.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--center", "centers", multiple=True, help="A center key; repeat for several.")
@click.option("--language", "languages", multiple=True, type=click.Choice(list(LANGUAGE_LOCALES)),
              help="A language spoken; repeat for several.")
def create_user_command(email, name, role, centers, languages):
    """Create a staff account; the password comes from stdin, or a prompt on a terminal."""
    from .services.errors import ValidationError
    from .services.users import create_user
    g.origin = "cli"
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(email, name=name, role=role, password=password, center_keys=centers,
                           languages=languages)
    except ValidationError as error:
        db.session.rollback()
        fail(error)
    db.session.commit()
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@tokens_cli.command("create")
@click.argument("email")
def create_token_command(email):
    """Print a new API token for the user with this email."""
    from sqlalchemy import func, select

    from .models import User
    from .services.users import create_api_token
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None or not user.is_active:
        fail(f"no active user {email}")
    token = create_api_token(user)
    db.session.commit()
    click.echo(token)


@centers_cli.command("seed")
def seed_centers_command():
    """Create the hospital's default centers that are missing."""
    from .services.centers import ensure_default_centers
    centers = ensure_default_centers()
    db.session.commit()
    click.echo(f"{len(centers)} centers")


@click.command("demo")
@with_appcontext
@click.option("--inquiries", "count", default=400, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has inquiries.")
def demo_command(count, seed, if_empty):
    """Fill the database with a believable center: same seed, same data."""
    from sqlalchemy import select

    from .models import Inquiry
    from .services.demo import DEMO_LOGINS, load_demo
    from .models import User
    if if_empty and db.session.scalar(select(Inquiry.id).limit(1)) is not None:
        click.echo("The database already has inquiries: no demo data loaded.")
    else:
        with click.progressbar(length=count, label="Creating demo inquiries", file=sys.stderr,
                               show_eta=True, show_percent=True) as bar:
            summary = load_demo(count, seed=seed, progress=bar.update)
        click.echo(f"{summary['inquiries']} inquiries, {summary['patients']} patients, "
                   f"{summary['users']} staff accounts.")
    existing = set(db.session.scalars(select(User.email)))
    accounts = [(email, role) for email, role in DEMO_LOGINS["accounts"] if email in existing]
    if accounts:
        click.echo(f"Demo sign-ins at http://127.0.0.1:5000 (password for all: {DEMO_LOGINS['password']}):")
        for email, role in accounts:
            click.echo(f"  {role:<12} {email}")


@export_cli.command("csv")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="File (default: stdout).")
def export_csv_command(out):
    """The whole pipeline as CSV."""
    from .services import audit, export
    from .services.worklist import Filters
    g.origin = "cli"
    audit.record("export", actor=None, detail="csv cli")
    db.session.commit()
    stream = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        for chunk in export.csv_lines(None, Filters(), everything=True):
            stream.write(chunk)
    finally:
        if out:
            stream.close()


@mail_cli.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def mail_ingest_command(paths):
    """Take .eml files, mbox files and Maildir folders; print one JSON summary line."""
    import json

    from .services.mailbox import ingest_all, iter_paths
    g.origin = "cli"
    show = sys.stderr.isatty()
    with click.progressbar(iter_paths(paths), label="Reading mail", file=sys.stderr,
                           show_pos=True) if show else _nullbar(iter_paths(paths)) as messages:
        summary = ingest_all(messages, source="file")
    click.echo(json.dumps(summary.as_dict()))


class _nullbar:
    """A progress bar that shows nothing (output is not a terminal)."""

    def __init__(self, items):
        self.items = items

    def __enter__(self):
        return self.items

    def __exit__(self, *exc):
        return False


@mail_cli.command("poll")
def mail_poll_command():
    """One poll of CRM_IMAP_URL; prints the JSON summary."""
    import json

    from flask import current_app

    from .services.mailbox import poll_imap
    if not current_app.config.get("IMAP_URL"):
        fail("CRM_IMAP_URL is not set: there is no mailbox to poll.")
    g.origin = "imap"
    try:
        summary = poll_imap()
    except Exception as error:  # noqa: BLE001 - a clear message, not a traceback
        db.session.rollback()
        fail(f"the mailbox could not be read: {type(error).__name__}: {error}")
    click.echo(json.dumps(summary.as_dict()))


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run every job that is due now, once, and exit.")
@with_appcontext
def scheduler_command(once):
    """Run the scheduler in the foreground (one per deployment: a second one waits)."""
    import logging
    import signal
    import threading

    from flask import current_app

    from .jobs.scheduler import run_all_once, run_forever
    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if once:
        results = run_all_once(app)
        for name, result in results.items():
            click.echo(f"{name}: {'failed' if result is None else result}")
        sys.exit(1 if any(r is None for r in results.values()) else 0)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_forever(app, stop)


def register(app: Flask) -> None:
    for group in (users_cli, tokens_cli, export_cli, centers_cli, mail_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo_command)
    app.cli.add_command(scheduler_command)
