"""Running the ``crm`` console script as a real process, as an operator does, against a database
of the session's kind; and reading that database afterwards."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: The console script installed beside the interpreter (``crm = crm.cli:main``).
CRM = Path(sys.executable).with_name("crm")
REPO = Path(__file__).resolve().parents[1]


def environment(**settings: str) -> dict[str, str]:
    """The process environment without the caller's ``CRM_*`` settings, plus ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_")}
    env.update({"CRM_ENV": "testing", **settings})
    return env


def crm(*args: str, env: dict[str, str], input: str | None = None, cwd=None,
        timeout: float = 180) -> subprocess.CompletedProcess:
    """``crm ARGS…`` run to its end; text stdout and stderr."""
    return subprocess.run([str(CRM), *map(str, args)], env=env, input=input, capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, stdin=None if input is not None
                          else subprocess.DEVNULL)


def crm_many(runs: list[tuple[list, dict[str, str]]], *, input: str | None = None,
             timeout: float = 180) -> list[subprocess.CompletedProcess]:
    """Several ``crm`` command lines, each (args, environment), run side by side: each is
    mostly start-up time."""
    processes = [subprocess.Popen([str(CRM), *map(str, args)], env=env, text=True,
                                  stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for args, env in runs]
    results = []
    for (args, _env), process in zip(runs, processes, strict=True):
        stdout, stderr = process.communicate(input, timeout=timeout)
        results.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    return results


def assert_one_error_line(result: subprocess.CompletedProcess, *words: str) -> str:
    """A failure told in exactly one line on stderr, ``error: …``, naming ``words``."""
    assert result.returncode != 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def read_database(url: str, read):
    """``read(db)`` inside an app on the database at ``url``; its result."""
    from crm import create_app
    from crm.extensions import db
    app = create_app("testing", DATABASE_URL=url)
    with app.app_context():
        try:
            return read(db)
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def instance(databases, tmp_path) -> dict[str, str]:
    """The environment of a new instance: a new, empty database (never upgraded) of the
    session's kind, its outbox and uploads under ``tmp_path``."""
    return environment(CRM_DATABASE_URL=databases.new(), CRM_OUTBOX_DIR=str(tmp_path / "outbox"),
                       CRM_UPLOAD_DIR=str(tmp_path / "uploads"))


@pytest.fixture
def upgraded(instance) -> dict[str, str]:
    """``instance`` after ``crm db upgrade``."""
    result = crm("db", "upgrade", env=instance)
    assert result.returncode == 0, result.stderr
    return instance
