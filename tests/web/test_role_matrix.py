"""Least privilege, proven: every route of the app (read from ``app.url_map``, so that a new route
without an entry in ``EXPECTED`` fails here) × every role (anonymous, a coordinator of each
center, a manager, an admin, an API token of each, the portal link of case X) × a record in and
out of the role's reach. Nobody gets a 2xx they should not; a refused POST (empty, with a valid
CSRF token) writes nothing; no response shows a patient out of the role's reach, and whole
passport numbers show only on the passports page of the case's coordinators."""
from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.security_report import report
from tests.security_world import (ADMIN, ANONYMOUS, COORD_A, COORD_B, MANAGER, PORTAL_X, ROLES, TOKEN_A,
                                  TOKEN_ADMIN, TOKEN_B, TOKEN_MANAGER, Visitor, build, tampered)

# --- who may get a 2xx ------------------------------------------------------------------------
PUBLIC = frozenset(ROLES)
NOBODY = frozenset()
SIGNED_IN = frozenset({COORD_A, COORD_B, MANAGER, ADMIN})
STAFF = frozenset({COORD_A, COORD_B, MANAGER})  # the roles that see cases, on the web
COORDINATORS = frozenset({COORD_A, COORD_B})
MANAGERS = frozenset({MANAGER})
ADMINS = frozenset({ADMIN})
API = frozenset({TOKEN_A, TOKEN_B, TOKEN_MANAGER})
PORTAL = frozenset({PORTAL_X})
#: Who reaches the records of case a (center A, the portal link's case) and of case b.
REACH = {"a": frozenset({COORD_A, MANAGER, TOKEN_A, TOKEN_MANAGER, PORTAL_X}),
         "b": frozenset({COORD_B, MANAGER, TOKEN_B, TOKEN_MANAGER})}

#: (who, whether the record in the URL must be in the role's reach): endpoints, one table.
EXPECTED_TABLE = {
    (PUBLIC, False): "static main.healthz main.readyz auth.login public.request_form public.thanks "
                     "portal.new_link",
    (NOBODY, False): "main.index auth.code auth.setup",  # a redirect (home), or a step of signing in
    (SIGNED_IN, False): "main.set_language auth.logout account.index account.password account.two_step "
                        "account.two_step_off account.recovery_codes",
    (COORDINATORS, False): "break_glass.index",
    (STAFF, False): "dashboard.index inquiries.index inquiries.board inquiries.export_csv inquiries.create "
                    "inquiries.search patients.duplicates tasks.index",
    (MANAGERS, False): "tasks.set_away",
    (ADMINS, False): "admin.index admin.edit_center admin.mail admin.quarantined_message admin.retry_message "
                     "admin.resend admin.edit_user admin.create_user admin.audit_trail admin.audit_export "
                     "account.reset_two_step",
    (STAFF, True): "inquiries.detail inquiries.edit inquiries.transition inquiries.add_note inquiries.route "
                   "inquiries.reply inquiries.request_records inquiries.record_received inquiries.record_required "
                   "inquiries.record_document inquiries.waive_record inquiries.send_appointment "
                   "inquiries.appointment_ics inquiries.confirm_appointment inquiries.cancel_appointment "
                   "inquiries.send_travel inquiries.new_portal_link inquiries.document inquiries.save_finance "
                   "inquiries.add_finance_entry inquiries.clear_finance inquiries.send_estimate "
                   "inquiries.save_travel_plan inquiries.add_companion inquiries.remove_companion "
                   "inquiries.send_travel_plan inquiries.save_review inquiries.register_mrn inquiries.save_trial "
                   "inquiries.save_opinion_request inquiries.upload_opinion inquiries.release_opinion "
                   "inquiries.ask_opinion_question inquiries.answer_opinion_question inquiries.convert_to_in_person "
                   "patients.detail patients.edit patients.merge patients.dismiss tasks.complete",
    (COORDINATORS, True): "inquiries.passports inquiries.make_visa_letter inquiries.send_visa_letter",
    (API, False): "api.get_dashboard api.create_inquiry api.list_inquiries api.mail_inbound api.list_tasks",
    (API, True): "api.get_inquiry_detail api.get_inquiry_fhir api.review_inquiry api.transition api.complete_task",
    (PORTAL, False): "portal.view portal.reply portal.upload portal.confirm_travel portal.ask_question",
    (PORTAL, True): "portal.appointment_ics portal.document",
}
EXPECTED: dict[str, tuple[frozenset, bool]] = {}
for (who, in_reach), names in EXPECTED_TABLE.items():
    for name in names.split():
        assert name not in EXPECTED, f"{name} is twice in the table"
        EXPECTED[name] = (who, in_reach)

#: Pages that show no patient at all, to anyone: figures, accounts, settings, probes.
NO_PATIENT_DATA = {"dashboard.index", "api.get_dashboard", "main.healthz", "main.readyz", "static",
                   "admin.index", "admin.edit_center", "admin.mail", "admin.edit_user", "admin.create_user",
                   "admin.audit_trail", "admin.audit_export",
                   "account.index", "account.two_step", "break_glass.index", "auth.login", "public.request_form",
                   "public.thanks"}
#: Where a whole passport number may be shown (to the roles the table lets in).
WHOLE_PASSPORTS = {"inquiries.passports"}
#: URL parts that name a record hanging off the inquiry (or the portal link) in the same URL.
CHILDREN = {"appointment_id", "document_id", "item_id", "companion_id"}
#: Tables a refused request may write to: the audit trail records refusals and views.
MAY_WRITE = {"audit_events"}


def who_may(endpoint: str, variant: str | None) -> frozenset:
    who, in_reach = EXPECTED[endpoint]
    if not in_reach or variant is None:
        return who
    if variant == "mixed":  # a child of the other case under this case: nobody
        return NOBODY
    if variant == "pair":  # two records of the two centers: whoever reaches both
        return who & REACH["a"] & REACH["b"]
    return who & REACH[variant]


def url_values(rule, variant: str | None, role: str, world) -> dict:
    """The URL's parts for a variant: ``a`` (case a's records), ``b``, ``mixed`` (case a, the
    child record of case b), ``pair`` (two patients, one of each center), or None (no record)."""
    values = {}
    parent = world.cases["b" if variant == "b" else "a"]
    for name in rule.arguments:
        if name == "token":
            own = world.cases["a"].token
            values[name] = own if role == PORTAL_X else tampered(own)
        elif name == "filename":
            values[name] = "css/app.css"
        elif name == "user_id":
            values[name] = world.extra["user_id"]
        elif name == "center_id":
            values[name] = world.extra["center_id"]
        elif name == "mail_id":
            values[name] = world.extra["failed_mail_id" if rule.endpoint == "admin.resend" else "quarantined_id"]
        elif (name in CHILDREN and variant in ("mixed", "b")) or (name == "other_id" and variant == "pair"):
            values[name] = world.cases["b"].ids[name if name != "other_id" else "patient_id"]
        else:
            values[name] = parent.ids[name]
    return values


def variants_of(rule) -> list[str | None]:
    """The records a rule's URL can name, in and out of reach."""
    args = set(rule.arguments) - {"filename"}
    if "token" in args:  # the link is the role; the child record is the link's case's, or not
        return ["a", "b"] if args & CHILDREN else [None]
    if "inquiry_id" in args:
        return ["a", "b", "mixed"] if args & CHILDREN else ["a", "b"]
    if "patient_id" in args:
        return ["a", "b", "pair"] if "other_id" in args else ["a", "b"]
    if "task_id" in args:
        return ["a", "b"]
    return [None]


class Writes:
    """The rows a request changes, seen in the SQL it sends: the audit trail aside, a refused
    request must change nothing (a statement rolled back is checked against the database)."""

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        match = re.match(r'\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', statement, re.IGNORECASE)
        if match and match.group(2) not in MAY_WRITE:
            self.seen.append(f"{match.group(1).split()[0].upper()} {match.group(2)}")


def fingerprint(db) -> dict:
    """Every row of every table but the audit trail's."""
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name not in MAY_WRITE:
            rows[table.name] = sorted(repr(tuple(row)) for row in db.session.execute(sa.select(table)))
    db.session.rollback()
    return rows


def flashed(visitor) -> list[tuple[str, str]]:
    with visitor.client.session_transaction() as session:
        return list(session.pop("_flashes", []))


def test_the_table_names_only_routes_that_exist(app):
    stale = sorted(set(EXPECTED) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert not stale, f"entries of EXPECTED_TABLE for routes that are gone: {stale}"


@pytest.fixture
def served(fresh_app, tmp_path):
    """An app on a database of its own, whose requests commit for real (no test transaction)."""
    from crm.extensions import db
    from tests.conftest import Factory
    app = fresh_app(UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        world = build(Factory(db), db)
        yield app, db, world
        db.session.remove()


def test_every_route_every_role_every_record(served, request):
    app, db, world = served
    rules = sorted((rule for rule in app.url_map.iter_rules()), key=lambda r: (r.rule, r.endpoint))
    missing = sorted({rule.endpoint for rule in rules} - set(EXPECTED))
    assert not missing, f"routes without an entry in EXPECTED_TABLE (who may get a 2xx): {missing}"
    visitors = {role: Visitor(app, role, world) for role in ROLES}
    urls = app.url_map.bind("localhost")
    got_through, tried, reached = [], Counter(), set()
    watch, state = Writes(), {"baseline": None}

    def check_body(endpoint, role, where, response):
        text = response.get_data().decode("utf-8", "replace")
        shown = set() if endpoint in NO_PATIENT_DATA else {c for c in ("a", "b") if role in REACH[c]}
        for key, case in world.cases.items():
            for marker in case.identity if key not in shown else ():
                if marker in text:
                    got_through.append(f"{where}: shows {marker!r} of case {key}")
            for number in case.passports:
                if number in text and not (endpoint in WHOLE_PASSPORTS and key in shown):
                    got_through.append(f"{where}: shows the whole passport number {number}")

    def refused(rule, variant, role, method):
        """A role not let in: no 2xx, no success, no write."""
        if state["baseline"] is None:  # from here on nothing but the audit trail may change
            state["baseline"] = fingerprint(db)
            event.listen(sa.engine.Engine, "before_cursor_execute", watch)
        url = urls.build(rule.endpoint, url_values(rule, variant, role, world))
        visitor, where = visitors[role], f"{role} {method} {url} ({rule.endpoint} [{variant}])"
        watch.seen.clear()
        if method == "GET":
            response = visitor.open("GET", url)
        elif url.startswith("/api/"):
            response = visitor.open("POST", url, json={})
        else:
            response = visitor.open("POST", url, data={"csrf_token": visitor.csrf})
        tried[method] += 1
        status, location = response.status_code, response.headers.get("Location", "")
        if 200 <= status < 300 or status >= 500:
            got_through.append(f"{where}: {status}")
        elif 300 <= status < 400 and urlsplit(location).path != "/login":
            successes = [message for category, message in flashed(visitor) if category == "success"]
            if successes:
                got_through.append(f"{where}: {status} to {location} with {successes}")
        check_body(rule.endpoint, role, where, response)
        flashed(visitor)
        if watch.seen and fingerprint(db) != state["baseline"]:
            now = fingerprint(db)
            changed = sorted(table for table in now if now[table] != state["baseline"][table])
            got_through.append(f"{where}: wrote {sorted(set(watch.seen))}, changed {changed}")
            state["baseline"] = fingerprint(db)

    # 1. each role let in GETs each page: a 2xx or a redirect (else the matrix's records are wrong)
    gets = [(rule, variant, role) for rule in rules if "GET" in rule.methods
            for variant in variants_of(rule) for role in ROLES]
    for rule, variant, role in gets:
        if role not in who_may(rule.endpoint, variant):
            continue
        url = urls.build(rule.endpoint, url_values(rule, variant, role, world))
        response = visitors[role].open("GET", url)
        tried["GET"] += 1
        where = f"{role} GET {url} ({rule.endpoint} [{variant}])"
        if response.status_code >= 400:
            got_through.append(f"{where}: {response.status_code}, yet the table lets this role in")
        elif response.status_code < 300:
            reached.add(rule.endpoint)
        check_body(rule.endpoint, role, where, response)
        flashed(visitors[role])
    for endpoint, (who, _in_reach) in EXPECTED.items():
        has_get = any("GET" in rule.methods for rule in rules if rule.endpoint == endpoint)
        if has_get and who and endpoint not in reached | {"auth.login", "main.index"}:
            got_through.append(f"{endpoint}: no role let in got a 2xx: the matrix proves nothing there")

    # 2. each role not let in: GET every page, POST every form (empty, with its CSRF token) and
    # API call (an empty JSON object)
    for rule, variant, role in gets:
        if role not in who_may(rule.endpoint, variant):
            refused(rule, variant, role, "GET")
    for rule in rules:
        for variant in variants_of(rule) if "POST" in rule.methods else ():
            for role in ROLES:
                if role not in who_may(rule.endpoint, variant):
                    refused(rule, variant, role, "POST")
    event.remove(sa.engine.Engine, "before_cursor_execute", watch)
    if state["baseline"] is not None and fingerprint(db) != state["baseline"]:
        got_through.append("a refused request changed the database")
    total = sum(tried.values())
    assert not got_through, f"{len(got_through)} of {total} requests got through:\n" + "\n".join(got_through)
    report(request.config, f"role matrix ({db.engine.dialect.name}): {total} requests ({tried['GET']} GET, "
                           f"{tried['POST']} refused POST) over {len(rules)} routes × {len(ROLES)} roles × records "
                           "in and out of reach: none got through")
