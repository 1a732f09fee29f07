"""The apps ``benchmarks/serving.py`` serves with gunicorn: Itinera as configured by the environment,
each response carrying the number of SQL statements it ran (``X-SQL-Queries``), and a
hello-world Flask app on the same server settings, the floor every page is compared with.

    gunicorn -w 2 benchmarks.served:app      gunicorn -w 2 benchmarks.served:hello
"""
from __future__ import annotations

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.engine import Engine

from crm import create_app


def _count(*_args, **_kwargs) -> None:
    if g:  # inside a request (or an app context)
        g.sql_queries = g.get("sql_queries", 0) + 1


event.listen(Engine, "before_cursor_execute", _count)

app = create_app()


@app.after_request
def _report_queries(response):
    response.headers["X-SQL-Queries"] = str(g.get("sql_queries", 0))
    return response


hello = Flask("hello")


@hello.route("/")
def hello_world():
    return "Hello, World!"
