"""The ``crm`` command group (``flask --app wsgi …`` is the same)."""
from __future__ import annotations

import copy
import functools
import hashlib
import logging
import os
import sys
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app, g
from flask.cli import AppGroup, FlaskGroup, ScriptInfo, pass_script_info, with_appcontext
from sqlalchemy.exc import ArgumentError, OperationalError

from config import ConfigError

from .extensions import db
from .i18n import LANGUAGE_LOCALES
from .models.user import ROLES

#: Failures an operator fixes (a setting, the database, a path): one line, no traceback.
OPERATOR_ERRORS = (ConfigError, OperationalError, ArgumentError, OSError)
_HELP_ASKED = getattr(click.exceptions, "NoArgsIsHelpError", ())


class OperatorError(click.ClickException):
    """A failure the operator can fix, shown as one line on stderr: ``error: …``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(" ".join(line.strip() for line in message.splitlines() if line.strip()))
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", file=file, err=file is None)


class CrmGroup(FlaskGroup):
    """Flask's command group, where what an operator can fix (a bad setting or path, a database
    that does not answer or is not upgraded, a mistyped command) is one line and exit status 1
    (2 for usage), not a traceback. Any other exception is a bug and keeps its traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            if isinstance(error, _HELP_ASKED):
                raise
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            raise OperatorError(error.format_message() + hint, exit_code=error.exit_code) from error
        except OPERATOR_ERRORS as error:
            raise OperatorError(describe(error, ctx.ensure_object(ScriptInfo))) from error

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except OPERATOR_ERRORS as error:  # ``crm --help`` still helps, after the one line
            OperatorError(describe(error, None)).show()
            return sorted(self.commands)
        return super().list_commands(ctx)


def describe(error: Exception, info: ScriptInfo | None) -> str:
    """One line for an operator's error; database URLs are shown without their password."""
    if isinstance(error, OperationalError):
        reason = str(error.orig) if error.orig is not None else str(error)
        return f"the database {_database_url(info)} cannot be used: {reason}"
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror}"
    return str(error)


def _database_url(info: ScriptInfo | None) -> str:
    from sqlalchemy.engine import make_url
    try:
        url = info.load_app().config["SQLALCHEMY_DATABASE_URI"]
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only to name it; the error itself is reported anyway
        return "(CRM_DATABASE_URL)"


def _create_app():
    from . import create_app
    return create_app()


@click.group(cls=CrmGroup, create_app=_create_app, add_default_commands=True,
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


def schema_problem() -> str | None:
    """Why the database is not at the migrations' head, or None when it is."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    script = ScriptDirectory(current_app.config["MIGRATIONS_DIR"])
    quiet = logging.getLogger("alembic.runtime.migration")  # its INFO lines, once logging is set up
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        current = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    finally:
        quiet.setLevel(level)
        db.session.rollback()  # a read, but its transaction would hold SQLite's write lock
    if current == set(script.get_heads()):
        return None
    if not current:
        return "the database is not set up yet (no migration applied): run `crm db upgrade` first"
    unknown = current - {revision.revision for revision in script.walk_revisions()}
    if unknown:
        return (f"the database was migrated by a newer version of Itinera (revision "
                f"{', '.join(sorted(unknown))}): run that version, or this one's `crm db upgrade` "
                "once it has that migration")
    return "the database is not at the latest schema: run `crm db upgrade` first"


def needs_schema(command):
    """The command runs only against a database at the migrations' head (else one line)."""
    @functools.wraps(command)
    def checked(*args, **kwargs):
        problem = schema_problem()
        if problem:
            raise OperatorError(problem)
        return command(*args, **kwargs)
    return checked


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
@needs_schema
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
@needs_schema
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


def seed_default_centers() -> list[str]:
    """Create the hospital's default centers that are missing (by key) and commit; returns the
    keys created. What an admin changed is left as it is."""
    from sqlalchemy import select

    from .models import Center
    from .services.centers import ensure_default_centers
    before = set(db.session.scalars(select(Center.key)))
    created = [center.key for center in ensure_default_centers() if center.key not in before]
    db.session.commit()
    return created


@centers_cli.command("seed")
@needs_schema
def seed_centers_command():
    """Create the hospital's default centers that are missing."""
    from sqlalchemy import func, select

    from .models import Center
    created = seed_default_centers()
    total = db.session.scalar(select(func.count(Center.id)))
    click.echo(f"{total} centers ({len(created)} created)")


def extend_db_upgrade(app: Flask) -> None:
    """``db upgrade`` (Flask-Migrate's), then, once the schema is at head, the hospital's default
    centers that are missing: a fresh instance can take staff accounts at once. The app's own
    copy of the ``db`` group is changed; Flask-Migrate's stays as it is."""
    migrate_db = app.cli.commands.get("db")
    if not isinstance(migrate_db, click.Group) or "upgrade" not in migrate_db.commands:
        return
    migrate_upgrade = migrate_db.commands["upgrade"]

    @click.pass_context
    def upgrade_then_seed(ctx, **options):
        ctx.invoke(migrate_upgrade.callback, **options)
        if options.get("sql") or schema_problem() is not None:
            return  # SQL printed, not run; or a revision below head: its centers table may differ
        created = seed_default_centers()
        if created:
            click.echo(f"default centers created: {', '.join(created)}")

    group = copy.copy(migrate_db)
    group.commands = {**migrate_db.commands, "upgrade": click.Command(
        "upgrade", params=migrate_upgrade.params, callback=upgrade_then_seed,
        help=f"{migrate_upgrade.help}; at head, create the default centers that are missing.")}
    app.cli.add_command(group)


@click.command("demo")
@click.option("--inquiries", "count", default=400, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has inquiries.")
@with_appcontext
@needs_schema
def demo_command(count, seed, if_empty):
    """Fill the database with a believable center: same seed, same data."""
    from sqlalchemy import select

    from .models import Inquiry, User
    from .services.demo import DEMO_LOGINS, load_demo
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
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
@needs_schema
def export_csv_command(out):
    """The whole pipeline as CSV."""
    from .services import audit, export
    from .services.worklist import Filters
    g.origin = "cli"
    rows = export.csv_lines(None, Filters(), everything=True)
    try:
        with (_written_whole(out) if out else _stdout()) as stream:
            for chunk in rows:
                stream.write(chunk)
    except BaseException:  # what was written so far left the database: on the trail as failed
        db.session.rollback()
        audit.record("export_failed", actor=None, detail=f"csv cli rows={rows.rows}")
        db.session.commit()
        raise
    audit.record("export", actor=None, detail=f"csv cli rows={rows.rows}")  # once every row is out
    db.session.commit()


@export_cli.command("fhir")
@click.argument("inquiry_id")
@needs_schema
def export_fhir_command(inquiry_id):
    """One inquiry as a FHIR R4 Bundle (JSON) on stdout; the export is audited."""
    import json

    from flask_babel import gettext as _

    from .services import fhir
    from .services.errors import NotFound
    g.origin = "cli"
    try:
        bundle = fhir.export_inquiry(fhir.find_inquiry(inquiry_id), actor=None)
    except NotFound:
        db.session.rollback()
        raise OperatorError(_("There is no inquiry with the id %(id)s.", id=inquiry_id)) from None
    db.session.commit()
    click.echo(json.dumps(bundle, ensure_ascii=False, indent=2))


@contextmanager
def _stdout() -> Iterator:
    yield sys.stdout


@contextmanager
def _written_whole(path: Path) -> Iterator:
    """A file written under a temporary name beside ``path`` (readable by its owner only) and
    renamed onto it once complete: a failed export never leaves half a file."""
    try:
        handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", dir=path.parent,
                                             prefix=f".{path.name}.", suffix=".part", delete=False)
    except OSError as error:
        raise OperatorError(f"cannot write {path}: {error.strerror}") from None
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


class _Rejections:
    """The messages handed to ``ingest_all``, followed until their batch is committed; then each
    one it rejected is named on stderr, with where it is and why."""

    def __init__(self, messages: Iterable[tuple[str, bytes]], *, terminal: bool) -> None:
        from sqlalchemy import func, select

        from .models import InboundMail
        self.messages, self.terminal = messages, terminal
        self.pending: deque[tuple[str, bytes]] = deque()  # (where, digest) read, not yet committed
        self.after = db.session.scalar(select(func.max(InboundMail.id))) or 0

    def __iter__(self) -> Iterator[bytes]:
        for where, raw in self.messages:
            self.pending.append((where, hashlib.sha256(raw).digest()))
            yield raw

    def committed(self, count: int) -> None:
        """``count`` more messages are taken: report those of them that were rejected."""
        from sqlalchemy import func, select

        from .models import InboundMail
        from .models.mail import REJECTED
        batch: dict[bytes, str] = {}
        for _ in range(count):
            where, digest = self.pending.popleft()
            batch.setdefault(digest, where)
        rows = db.session.execute(select(InboundMail.reason, InboundMail.raw).where(
            InboundMail.id > self.after, InboundMail.outcome == REJECTED,
            InboundMail.source == "file").order_by(InboundMail.id)).all()
        for reason, raw in rows:
            where = batch.get(hashlib.sha256(raw).digest())
            if where is not None:  # else another process's
                clear = "\r\x1b[K" if self.terminal else ""  # over the progress bar's line
                click.echo(f"{clear}rejected {where}: {reason}", err=True)
        self.after = db.session.scalar(select(func.max(InboundMail.id))) or self.after


@mail_cli.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--acknowledge/--no-acknowledge", default=True, show_default=True,
              help="Answer each new case's patient at once, as for mail that arrives. "
                   "--no-acknowledge imports an old archive: no mail goes out.")
@needs_schema
def mail_ingest_command(paths, acknowledge):
    """Take .eml files, mbox files and Maildir folders; print one JSON summary line (and each
    rejected message on stderr)."""
    import json

    from .mail import archive
    from .services.mailbox import ingest_all
    g.origin = "cli"
    try:
        sources = archive.find(paths)
    except archive.NoMailFound as error:
        raise OperatorError(str(error)) from None
    terminal = sys.stderr.isatty()
    messages = _Rejections(archive.read(sources), terminal=terminal)
    if terminal:
        with click.progressbar(length=sum(source.count() for source in sources), label="Reading mail",
                               file=sys.stderr, show_pos=True, show_eta=True) as bar:
            def progress(count: int) -> None:
                messages.committed(count)
                bar.update(count)
            summary = ingest_all(messages, source="file", acknowledge=acknowledge, progress=progress)
    else:
        summary = ingest_all(messages, source="file", acknowledge=acknowledge, progress=messages.committed)
    click.echo(json.dumps(summary.as_dict()))


@mail_cli.command("poll")
@needs_schema
def mail_poll_command():
    """One poll of CRM_IMAP_URL; prints the JSON summary."""
    import imaplib
    import json

    from .services.mailbox import poll_imap
    if not current_app.config.get("IMAP_URL"):
        fail("CRM_IMAP_URL is not set: there is no mailbox to poll.")
    g.origin = "imap"
    try:
        summary = poll_imap()
    except (imaplib.IMAP4.error, OSError) as error:  # the server or the network: one clear line
        db.session.rollback()
        fail(f"the mailbox could not be read: {type(error).__name__}: {error}")
    click.echo(json.dumps(summary.as_dict()))


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run every job that is due now, once, and exit.")
@with_appcontext
@pass_script_info
@needs_schema
def scheduler_command(info: ScriptInfo, once):
    """Run the scheduler in the foreground (one per deployment: a second one waits)."""
    import signal
    import threading

    from .jobs.scheduler import run_all_once, run_forever
    app = info.load_app()  # the app of this command's context, loaded once
    # --once prints each job's result itself: the log adds only warnings and failures.
    logging.basicConfig(level=logging.WARNING if once else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if once:
        results = run_all_once(app)
        for name, result in results.items():
            click.echo(f"{name}: {'failed' if result is None else result}")
        sys.exit(1 if any(r is None for r in results.values()) else 0)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_forever(app, stop)


# --- crm check [--deploy]: the settings, read without starting the app ---------------------

@click.command("check")
@click.option("--deploy", is_flag=True, help="Also report each setting that is insecure in production.")
def check_command(deploy):
    """Check the settings; with --deploy, each insecure production setting, one line each."""
    from flask_babel import gettext as _

    from .services.deploy_check import report
    try:
        problems = report(deploy=deploy)
    except ConfigError as error:
        raise OperatorError(str(error)) from None
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(_("OK: no insecure production setting found.") if deploy
               else _("OK: the settings can be used."))


main.add_command(check_command)  # on the group itself: it runs even when the app cannot start


# --- crm keys rotate: every document and encrypted value under the current key --------------

keys_cli = AppGroup("keys", help="Encryption keys (CRM_ENCRYPTION_KEY, CRM_ENCRYPTION_OLD_KEYS).")


@keys_cli.command("rotate")
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 100_000),
              help="Documents or rows per transaction.")
@needs_schema
def keys_rotate_command(batch):
    """Re-encrypt every document and encrypted value under CRM_ENCRYPTION_KEY (plaintext from
    before encryption included); stopped, it goes on where it stopped when run again."""
    from flask_babel import gettext as _

    from .services import audit, crypto, keys
    from .services.uploads import UnreadableFile
    g.origin = "cli"
    try:
        if sys.stderr.isatty():
            with click.progressbar(length=keys.work_to_do(), label=_("Re-encrypting"), file=sys.stderr,
                                   show_pos=True, show_eta=True) as bar:
                summary = keys.rotate(batch=batch, progress=bar.update)
        else:
            summary = keys.rotate(batch=batch)
    except (crypto.DecryptionError, UnreadableFile) as error:
        db.session.rollback()
        raise OperatorError(_("A document or value cannot be decrypted with the configured keys (%(reason)s): "
                              "add the key it was made with to CRM_ENCRYPTION_OLD_KEYS and run the rotation "
                              "again; the log names it.", reason=str(error))) from None
    audit.record("change", actor=None, detail=f"keys rotated to {summary.key_id}: files={summary.files} "
                                              f"values={summary.values}")
    db.session.commit()
    for name in summary.missing_files:
        click.echo(_("warning: the stored file %(name)s of a document is missing", name=name), err=True)
    click.echo(_("Under key %(key)s: %(files)s files and %(values)s values re-encrypted, %(current)s already "
                 "were. The keys in CRM_ENCRYPTION_OLD_KEYS are no longer needed for them.",
                 key=summary.key_id, files=summary.files, values=summary.values, current=summary.current))


# --- crm backup / crm restore: the database and the documents in one archive ---------------

@click.command("backup")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the archive (default: instance/backups).")
@with_appcontext
@needs_schema
def backup_command(out_dir):
    """Back up the live database (a consistent snapshot) and its documents into one archive
    with SHA-256 checksums; prints the archive's path."""
    from flask_babel import gettext as _

    from .services import audit
    from .services.backup import BackupError, create_backup
    g.origin = "cli"
    out_dir = out_dir or Path(current_app.instance_path) / "backups"
    try:
        if sys.stderr.isatty():
            from sqlalchemy import func, select

            from .models import Document
            total = db.session.scalar(select(func.count(Document.id)))
            db.session.rollback()
            with click.progressbar(length=total, label=_("Backing up documents"), file=sys.stderr,
                                   show_pos=True) as bar:
                result = create_backup(out_dir, progress=bar.update)
        else:
            result = create_backup(out_dir)
    except BackupError as error:
        db.session.rollback()
        raise OperatorError(str(error)) from None
    audit.record("export", actor=None, detail=f"backup rows={result.rows} documents={result.manifest['documents']}")
    db.session.commit()
    for name in result.manifest["missing_files"]:
        click.echo(_("warning: the stored file %(name)s of a document is missing: it is not in the backup",
                     name=name), err=True)
    click.echo(str(result.path))


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database (and documents) that are not empty.")
@with_appcontext
def restore_command(archive, force):
    """Restore a `crm backup` archive into the configured database and documents folder, once
    every checksum matches; refuses a database that is not empty unless --force."""
    from flask_babel import gettext as _

    from .services.backup import BackupError, restore_backup
    g.origin = "cli"
    try:
        result = restore_backup(archive, force=force)
    except BackupError as error:
        raise OperatorError(str(error)) from None
    manifest = result.manifest
    for key in result.unknown_keys:
        click.echo(_("warning: documents in this backup are encrypted with the key %(key)s, which is not "
                     "configured: add it to CRM_ENCRYPTION_OLD_KEYS to read them", key=key), err=True)
    click.echo(_("Restored the backup of %(taken)s: %(rows)s rows in %(tables)s tables, %(documents)s documents.",
                 taken=manifest["created_at"], rows=sum(manifest["tables"].values()),
                 tables=len(manifest["tables"]), documents=manifest["documents"]))
    if result.needs_upgrade:
        click.echo(_("Its schema is older than this version's: run `crm db upgrade` next."))
    elif schema_problem() is None:
        from .services import audit
        audit.record("change", actor=None, detail=f"restored backup of {manifest['created_at']}")
        db.session.commit()


def register(app: Flask) -> None:
    for group in (users_cli, tokens_cli, export_cli, centers_cli, mail_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo_command)
    from .audit_cli import audit_cli
    app.cli.add_command(audit_cli)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(keys_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    extend_db_upgrade(app)
