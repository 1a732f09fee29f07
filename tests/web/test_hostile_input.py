"""Hostile input, through every door: attack strings (script tags, event handlers, javascript:
links, SVG with script, CRLF, spreadsheet formulas, path traversal and right-to-left override in
file names, oversized fields, invalid UTF-8, NUL bytes, long unicode) go into the public request
form, the staff forms (register, edit the patient, notes, replies), the JSON API, inbound mail
(subject, sender's name, body, attachment names) and the portal (reply, upload). No request
answers 500; the pages that show what came in carry no injected element, attribute or
javascript: link; no header (a download's Content-Disposition, outgoing mail's) carries a line
break; no file lands outside the upload folder; no cell of the CSV export starts a formula."""
from __future__ import annotations

import base64
import csv
import io
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions, Factory, csrf_from
from tests.security_report import report
from tests.web.test_portal import PDF

ATTACKS = [
    "<script>alert('x1')</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(2)",
    "javascript:alert(3)",
    '<a href="javascript:alert(4)">click</a>',
    "<svg onload=alert(5)><script>alert(6)</script></svg>",
    "<iframe srcdoc='<script>alert(7)</script>'></iframe>",
    "Hello\r\nBcc: victim@evil.example\r\nX-Injected: 1",
    "=HYPERLINK(\"http://evil.example\",\"ok\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tTAB=1+1",
    "../../../../etc/passwd",
    "report\u202egpj.exe",
    "𝕏\u0301" * 3000,
    "A" * 70000,
    "nul\x00byte",
]
FILENAMES = ["../../../../tmp/evil.pdf", "..\\..\\windows\\evil.pdf", "/etc/passwd.pdf", "scan\u202efdp.exe.pdf",
             "a\r\nContent-Type: text/html.pdf", "<script>alert(8)</script>.pdf", "=cmd|calc.pdf", "nul\x00.pdf",
             "x" * 600 + ".pdf"]
INVALID_UTF8 = b"caf\xe9 \xff\xfe\xc3\x28 \xed\xa0\x80"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")  # a phone in E.164 calls nothing
JS_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}


class Injected(HTMLParser):
    """What in a page could run: script elements not the app's own, event handler attributes,
    javascript: links, SVG, frames."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            self.found.append(f"<script {values}>")
        if tag in ("svg", "iframe", "object", "embed") and tag not in ALLOWED_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in JS_ATTRIBUTES and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")


#: The app's own pages draw charts in SVG (the dashboard); none of the pages checked here do.
ALLOWED_TAGS: set[str] = set()


def injected(html: str) -> list[str]:
    parser = Injected()
    parser.feed(html)
    return parser.found


@pytest.fixture
def center(fresh_app, tmp_path):
    from crm.extensions import db
    app = fresh_app(UPLOAD_DIR=str(tmp_path / "uploads" / "files"))
    with app.app_context():
        factory = Factory(db)
        manager = factory.user(role="manager")
        coordinator = factory.user(role="coordinator", centers=("cardiology",))
        admin = factory.user(role="admin")
        from crm.services.users import create_api_token
        token = create_api_token(coordinator)
        db.session.commit()
        users = {"manager": manager.email, "coordinator": coordinator.email, "admin": admin.email}
        db.session.remove()
        yield app, db, users, token, tmp_path
        db.session.remove()


class Person:
    def __init__(self, app, email):
        from types import SimpleNamespace
        self.client = app.test_client()
        AuthActions(self.client).login(SimpleNamespace(email=email))

    def form(self, url, data, page=None, **kwargs):
        page = self.client.get(page or url)
        return self.client.post(url, data={"csrf_token": csrf_from(page), **data}, **kwargs)


def raw_mail(n: int, attack: str, filename: str) -> bytes:
    """A message from a new sender: the attack in the subject and the sender's name (encoded
    words, so CR and LF survive the transfer), in the HTML body, and the attachment's name."""
    def word(text):
        return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8", "surrogatepass")).decode() + "?="
    return (f"From: {word(attack[:200])} <hostile{n}@senders.example>\r\n"
            f"To: international@itinera.example\r\nSubject: {word(attack[:300])}\r\n"
            f"Message-ID: <hostile-{n}-{uuid.uuid4().hex}@senders.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=BOUNDARY\r\n\r\n--BOUNDARY\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n"
            f"<html><body><p>I need a second opinion.</p>{attack[:5000]}</body></html>\r\n"
            "--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n").encode("utf-8", "surrogatepass") + \
        INVALID_UTF8 + (
            "\r\n--BOUNDARY\r\nContent-Type: application/pdf\r\n"
            f"Content-Disposition: attachment; filename*=utf-8''{quote(filename, safe='')}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(PDF).decode().replace("\n", "\r\n") +
            "\r\n--BOUNDARY--\r\n").encode()


def test_hostile_input_through_every_door(center, request):
    app, db, users, token, tmp_path = center
    manager, coordinator = Person(app, users["manager"]), Person(app, users["coordinator"])
    public, api = app.test_client(), app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    failures, tried = [], 0

    def sent(where, response):
        nonlocal tried
        tried += 1
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code}")
        for name, value in response.headers.items():
            if "\r" in value or "\n" in value:
                failures.append(f"{where}: header {name} holds a line break")
        return response

    base = {"given_name": "Nadia", "family_name": "Rahman", "email": "nadia@example.com", "phone": "+966501234567",
            "country": "SA", "preferred_language": "ar", "service": "second_opinion_online", "center": "cardiology",
            "reason": "Chest pain", "sex": "female", "timezone": "Asia/Riyadh", "date_of_birth": "1980-01-01"}
    for n, attack in enumerate(ATTACKS):
        # the public request form (a new address each time: each makes its own case)
        for name in ("given_name", "reason", "referring_name"):
            data = {**base, "email": f"public{n}{name}@example.com", "consent": "y", name: attack}
            sent(f"/request {name}", public.post("/request", data={"csrf_token": csrf_from(public.get("/request")),
                                                                   **data}))
        # the staff's register form, and the API
        for name in ("family_name", "reason"):
            data = {**base, "email": f"staff{n}{name}@example.com", "source": "phone", name: attack}
            sent(f"/inquiries/new {name}", coordinator.form("/inquiries/new", data))
            body = {**base, "email": f"api{n}{name}@example.com", name: attack}
            sent(f"POST /api/v1/inquiries {name}", api.post("/api/v1/inquiries", json=body, headers=bearer))
        # inbound mail, through the gateway's API
        filename = FILENAMES[n % len(FILENAMES)]
        sent("POST /api/v1/mail/inbound", api.post("/api/v1/mail/inbound", data=raw_mail(n, attack, filename),
                                                   headers={**bearer, "Content-Type": "message/rfc822"}))

    from crm.models import Inquiry
    from crm.services import portal_links
    with app.app_context():
        cases = db.session.scalars(sa.select(Inquiry).order_by(Inquiry.id)).all()
        case_ids = [case.id for case in cases]
        patient_ids = sorted({case.patient_id for case in cases})
        tokens = [portal_links.token_for(portal_links.current_link(case)) for case in cases[:6]]
        db.session.commit()
        db.session.remove()
    assert len(case_ids) > len(ATTACKS), "hardly any hostile input made a case: the suite tests nothing"

    # on cases that exist: notes, replies to the patient, the patient's record, the portal
    first = case_ids[0]
    for n, attack in enumerate(ATTACKS):
        sent("note", coordinator.form(f"/inquiries/{first}/notes", {"body": attack}, page=f"/inquiries/{first}"))
        sent("reply", coordinator.form(f"/inquiries/{first}/reply", {"body": attack}, page=f"/inquiries/{first}"))
        page = coordinator.client.get(f"/patients/{patient_ids[0]}/edit")
        version = page.get_data(as_text=True).split('name="version" type="hidden" value="')[-1].split('"')[0]
        sent("patient edit", coordinator.client.post(f"/patients/{patient_ids[0]}/edit", data={
            "csrf_token": csrf_from(page), **base, "email": "nadia.edit@example.com", "mrn": "",
            "family_name": attack, "version": version}))
        portal = app.test_client()
        portal_page = portal.get(f"/p/{tokens[0]}")
        sent("portal reply", portal.post(f"/p/{tokens[0]}/reply", data={"csrf_token": csrf_from(portal_page),
                                                                       "body": attack}))
        filename = FILENAMES[n % len(FILENAMES)]
        sent("portal upload", portal.post(f"/p/{tokens[0]}/upload", data={
            "csrf_token": csrf_from(portal_page), "item": "other",
            "file": (io.BytesIO(PDF), filename)}, content_type="multipart/form-data"))
        sent("portal upload of a page", portal.post(f"/p/{tokens[0]}/upload", data={
            "csrf_token": csrf_from(portal_page), "item": "other",
            "file": (io.BytesIO(attack.encode("utf-8", "surrogatepass")), "notes.html")},
            content_type="multipart/form-data"))
    sent("invalid UTF-8 form", public.post("/request", data=b"given_name=" + INVALID_UTF8 + b"&reason=%ff%fe",
                                           content_type="application/x-www-form-urlencoded"))
    sent("invalid UTF-8 JSON", api.post("/api/v1/inquiries", data=b'{"given_name": "' + INVALID_UTF8 + b'"}',
                                        headers={**bearer, "Content-Type": "application/json"}))

    # what shows it: every case page, patient page, list, the portal, the admin's mail screen
    admin = Person(app, users["admin"])
    pages = [(manager, f"/inquiries/{i}") for i in case_ids] + [(manager, f"/patients/{p}") for p in patient_ids]
    pages += [(manager, url) for url in ("/inquiries/", "/inquiries/board", "/tasks/", "/patients/duplicates")]
    pages += [(Person.__new__(Person), f"/p/{t}") for t in tokens] + [(admin, "/admin/mail"), (admin, "/admin/")]
    for person, url in pages:
        client = getattr(person, "client", None) or app.test_client()
        response = sent(f"GET {url}", client.get(url))
        for found in injected(response.get_data(as_text=True)):
            failures.append(f"GET {url}: {found}")

    # downloads: each document of the cases, its Content-Disposition on one line
    from crm.models import Document, OutboundMail
    with app.app_context():
        documents = db.session.execute(sa.select(Document.id, Document.inquiry_id)).all()
        outbox = db.session.execute(sa.select(OutboundMail.subject, OutboundMail.to_addr, OutboundMail.from_addr,
                                              OutboundMail.reply_to)).all()
        db.session.remove()
    for document_id, inquiry_id in documents:
        response = sent("download", manager.client.get(f"/inquiries/{inquiry_id}/documents/{document_id}"))
        disposition = response.headers.get("Content-Disposition", "")
        if response.status_code == 200 and ("/" in disposition.split("filename", 1)[-1] or ".." in disposition):
            failures.append(f"document {document_id}: Content-Disposition {disposition!r}")
    for row in outbox:
        for value in row:
            if value and ("\r" in value or "\n" in value):
                failures.append(f"outgoing mail: a header holds a line break: {value[:80]!r}")

    # files: every stored file inside the upload folder, none beside it
    uploads = Path(app.config["UPLOAD_DIR"]).resolve()
    for path in tmp_path.rglob("*"):
        if path.is_file() and uploads not in path.resolve().parents and path.suffix not in (".sqlite3", ".sqlite3-wal",
                                                                                             ".sqlite3-shm"):
            failures.append(f"a file outside the upload folder: {path}")
    if Path("/tmp/evil.pdf").exists() or any(uploads.parent.glob("*.pdf")):
        failures.append("an upload was written outside its folder")

    # the CSV export: no cell starts a formula
    export = sent("export", manager.client.get("/inquiries/export.csv"))
    for row in csv.reader(io.StringIO(export.get_data(as_text=True))):
        for cell in row:
            if cell.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(cell):
                failures.append(f"CSV cell starts a formula: {cell[:40]!r}")

    assert not failures, f"{len(failures)} of {tried} got through:\n" + "\n".join(failures[:60])
    report(request.config, f"hostile input ({db.engine.dialect.name}): {tried} requests with {len(ATTACKS)} attack "
                           f"strings and {len(FILENAMES)} file names through forms, API, mail and portal; "
                           f"{len(pages)} pages parsed: none got through")
