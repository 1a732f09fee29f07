"""Static analysis in the suite: bandit and Itinera's own semgrep rules (tests/semgrep, run
offline: local rule files only, no metrics, no version check) find nothing in the app's code,
each rule fires on its fixture, and every exclusion in the code says why."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RULES = REPO / "tests" / "semgrep"
#: What ships: the app, its settings and migrations (templates for the template rule).
PYTHON_TARGETS = ["crm", "config.py", "wsgi.py", "migrations"]
TARGETS = [*PYTHON_TARGETS, "templates"]
OFFLINE = {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, **OFFLINE}
    return subprocess.run([*args], cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)


def semgrep(*args: str) -> subprocess.CompletedProcess:
    return run(str(BIN / "semgrep"), *args, "--metrics=off", "--disable-version-check")


def test_each_semgrep_rule_fires_on_its_fixture():
    result = semgrep("--test", str(RULES.relative_to(REPO)))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"(\d+)/\1: ✓ All tests passed", output), output
    rules = {rule["id"] for name in ("python.yml", "templates.yml")
             for rule in yaml.safe_load((RULES / name).read_text())["rules"]}
    fixtures = (RULES / "python.py").read_text() + (RULES / "templates.html").read_text()
    for rule in rules:  # each rule proven both ways
        assert f"ruleid: {rule}" in fixtures and f"ok: {rule}" in fixtures, rule


def test_semgrep_finds_nothing_in_the_app():
    result = semgrep("scan", "--config", "tests/semgrep/python.yml", "--config", "tests/semgrep/templates.yml",
                     "--json", "--quiet", *TARGETS)
    report = json.loads(result.stdout)
    findings = [f"{r['path']}:{r['start']['line']} {r['check_id'].rsplit('.', 1)[-1]}: "
                f"{(REPO / r['path']).read_text().splitlines()[r['start']['line'] - 1].strip()}"
                for r in report["results"]]
    assert not findings, "semgrep:\n" + "\n".join(findings)
    assert not report["errors"], report["errors"]
    scanned = report["paths"]["scanned"]
    assert any(path.startswith("templates/") for path in scanned) and "crm/cli.py" in scanned, scanned
    assert result.returncode == 0, result.stderr


def test_bandit_finds_nothing_in_the_app():
    result = run(str(BIN / "bandit"), "-q", "-r", *PYTHON_TARGETS, "-f", "json")
    report = json.loads(result.stdout)
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert not findings, "bandit:\n" + "\n".join(findings)
    assert not report["errors"], report["errors"]
    assert report["metrics"]["_totals"]["loc"] > 1000  # it read the code
    assert result.returncode == 0, result.stderr


EXCLUSION = re.compile(r"#\s*(nosec|nosemgrep)\b(.*)$")


def test_every_exclusion_says_why():
    """``# nosec B123 - why`` and ``# nosemgrep: rule-id - why``: a test id and a reason."""
    unexplained = []
    for target in PYTHON_TARGETS:
        root = REPO / target
        for path in ([root] if root.is_file() else sorted(root.rglob("*.py"))):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for match in EXCLUSION.finditer(line):
                    rest = match.group(2)
                    if match.group(1) == "nosec":
                        ok = re.match(r"\s+B\d{3}(,\s*B\d{3})*\s+[-#]\s*\S", rest)
                    else:
                        ok = re.match(r":\s*itinera-[a-z-]+\s+-\s+\S", rest)
                    if not ok:
                        unexplained.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not unexplained, "an exclusion without its test id or reason:\n" + "\n".join(unexplained)
