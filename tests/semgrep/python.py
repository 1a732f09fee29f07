"""What the rules of python.yml must find (``ruleid:``) and leave alone (``ok:``): run by
``semgrep --test tests/semgrep`` from tests/test_static_analysis.py. Never imported."""
import sqlalchemy as sa
from flask import redirect, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import text

from crm.auth.access import safe_next


def open_redirects(form):
    # ruleid: itinera-open-redirect
    redirect(request.args.get("next"))
    # ruleid: itinera-open-redirect
    redirect(request.form["next"])
    target = request.values.get("next") or "/"
    # ruleid: itinera-open-redirect
    redirect(target)
    # ruleid: itinera-open-redirect
    redirect(request.referrer)
    # ruleid: itinera-open-redirect
    redirect(form.next.data)
    # ok: itinera-open-redirect
    redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    # ok: itinera-open-redirect
    redirect(url_for("inquiries.detail", inquiry_id=request.args.get("id")))
    # ok: itinera-open-redirect
    redirect("/inquiries/")


def markup(name, pieces):
    # ruleid: itinera-markup-on-data
    Markup(name)
    # ruleid: itinera-markup-on-data
    Markup(f"<b>{name}</b>")
    # ruleid: itinera-markup-on-data
    Markup("<b>%s</b>" % name)
    # ruleid: itinera-markup-on-data
    Markup("<b>{}</b>".format(name))
    # ruleid: itinera-markup-on-data
    Markup("".join(pieces))
    # ok: itinera-markup-on-data
    Markup("<b>{}</b>").format(name)
    # ok: itinera-markup-on-data
    Markup("<br>")
    # ok: itinera-markup-on-data
    Markup(escape(name))


def raw_sql(connection, session, table, name):
    # ruleid: itinera-sql-string-formatting
    session.execute(text(f"SELECT * FROM patients WHERE family_name = '{name}'"))
    # ruleid: itinera-sql-string-formatting
    session.execute(sa.text("SELECT * FROM %s" % table))
    # ruleid: itinera-sql-string-formatting
    session.execute(text("DELETE FROM {}".format(table)))
    # ruleid: itinera-sql-string-formatting
    session.execute(text("SELECT * FROM " + table))
    # ruleid: itinera-sql-string-formatting
    connection.exec_driver_sql(f"DROP TABLE {table}")
    # ruleid: itinera-sql-string-formatting
    connection.execute("SELECT * FROM patients WHERE id = %s" % name)
    # ruleid: itinera-sql-string-formatting
    connection.execute("SELECT * FROM patients WHERE family_name = '{}'".format(name))
    # ok: itinera-sql-string-formatting
    session.execute(text("SELECT * FROM patients WHERE family_name = :name"), {"name": name})
    # ok: itinera-sql-string-formatting
    connection.exec_driver_sql("SELECT 1")
    # ok: itinera-sql-string-formatting
    connection.execute("SELECT * FROM patients WHERE id = %s", (name,))
