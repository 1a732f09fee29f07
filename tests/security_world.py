"""A small center for the security suites: two centers, a coordinator of each, a manager, an
admin, API tokens, and in each center a case with everything a route can point at (patients,
an appointment, the released written opinion, a waived record, a travel plan with passports and
a companion, a task, the patient's portal link); each case's identifying data is a set of
strings that must never reach anyone outside the case's reach."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import timedelta

from flask import current_app

from tests.conftest import AuthActions, csrf_from

#: The roles of the role matrix: who is asking.
ANONYMOUS, COORD_A, COORD_B, MANAGER, ADMIN = "anonymous", "coordinator_a", "coordinator_b", "manager", "admin"
TOKEN_A, TOKEN_B, TOKEN_MANAGER, TOKEN_ADMIN = "token_coordinator_a", "token_coordinator_b", "token_manager", "token_admin"
PORTAL_X = "portal_link_x"
SIGNED_IN_ROLES = (COORD_A, COORD_B, MANAGER, ADMIN)
TOKEN_ROLES = {TOKEN_A: COORD_A, TOKEN_B: COORD_B, TOKEN_MANAGER: MANAGER, TOKEN_ADMIN: ADMIN}
ROLES = (ANONYMOUS, *SIGNED_IN_ROLES, *TOKEN_ROLES, PORTAL_X)


@dataclass
class Case:
    """One case and what hangs off it (plain ids: nothing here holds a database session open),
    with the strings that identify its patient."""

    token: str
    ids: dict = field(default_factory=dict)
    #: the patient's identity and the reason for the request: out of reach, never shown
    identity: tuple = ()
    #: whole passport numbers: shown only on the passports page, to the case's coordinators
    passports: tuple = ()


@dataclass
class World:
    users: dict
    cases: dict  # "a" (cardiology, coordinator A's) and "b" (neurology, coordinator B's)
    tokens: dict  # API token role -> bearer token
    extra: dict  # ids of rows that are no patient's: a quarantined message, a failed mail


def tampered(token: str) -> str:
    """The portal token with one signed character changed: the link of nobody."""
    swap = "B" if token[3] != "B" else "C"
    return token[:3] + swap + token[4:]


def _case(factory, db, key: str, center: str, coordinator, letter: str) -> Case:
    from crm.models import ChecklistItem, Task
    from crm.models.base import utcnow
    from crm.services import appointments, conversation, opinion, portal, portal_links, records, travel
    family, passport, companion_passport = f"Quorvath{letter}", f"{letter}P4417702", f"{letter}C5528813"
    email = f"quorvath.{letter.lower()}@patients.example"
    reason = f"Syncope with a prolonged QT interval, marker Dxq{letter}"
    inquiry = factory.inquiry(given_name=f"Ilsabet{letter}", family_name=family, email=email,
                              phone=f"+1 617 555 01{10 + ord(letter) % 50}", center=center,
                              service="second_opinion_online", reason=reason, actor=coordinator)
    factory.walk(inquiry, "records", coordinator)
    conversation.request_records(inquiry, ["medical_summary"], actor=coordinator)
    item = db.session.scalars(db.select(ChecklistItem).where(ChecklistItem.inquiry_id == inquiry.id)).one()
    records.waive(inquiry, item.id, "The referral letter says enough.", actor=coordinator)
    db.session.commit()
    factory.walk(inquiry, "in_care", coordinator)
    factory.release_opinion(inquiry, coordinator)
    appointment = appointments.book(inquiry, actor=coordinator, when=utcnow() + timedelta(days=9),
                                    location="Yawkey Building, floor 5", confirm=True)
    travel.save_plan(inquiry, {"passport_name": f"ILSABET {family.upper()}", "passport_number": passport,
                               "passport_country": "SA", "passport_expires_on": "2031-05-01",
                               "arrival_date": (utcnow() + timedelta(days=7)).date().isoformat(),
                               "departure_date": (utcnow() + timedelta(days=12)).date().isoformat()},
                     actor=coordinator)
    companion = travel.add_companion(inquiry, {"full_name": f"Omar {family}", "relationship": "spouse",
                                               "passport_number": companion_passport, "passport_country": "SA",
                                               "passport_expires_on": "2031-05-01"}, actor=coordinator)
    link = portal_links.current_link(inquiry)
    db.session.commit()
    token = portal_links.token_for(link)
    portal.reply(link, "When is my appointment?")  # the patient writes: a task to answer them
    db.session.commit()
    task = db.session.scalars(db.select(Task).where(Task.inquiry_id == inquiry.id, Task.state == "open")
                              .order_by(Task.id)).first()
    other = factory.inquiry(given_name=f"Ilsabet{letter}", family_name=family, email=f"twin.{email}",
                            center=center, reason="Palpitations", actor=coordinator)
    document = opinion.readable_documents(inquiry, opinion.opinion_of(inquiry))[0]
    ids = {"inquiry_id": inquiry.id, "patient_id": inquiry.patient_id, "other_id": other.patient_id,
           "appointment_id": appointment.id, "document_id": document.id, "item_id": item.id,
           "companion_id": companion.id, "task_id": task.id}
    return Case(token=token, ids=ids, identity=(family, email, reason), passports=(passport, companion_passport))


def build(factory, db) -> World:
    """The center, committed; plain values only, the session closed."""
    from crm.models import InboundMail, OutboundMail
    from crm.models.base import utcnow
    from crm.services.users import create_api_token
    users = {COORD_A: factory.user(role="coordinator", centers=("cardiology",), name="Aiyana Coordinator"),
             COORD_B: factory.user(role="coordinator", centers=("neurology",), name="Bertil Coordinator"),
             MANAGER: factory.user(role="manager", name="Mireille Manager"),
             ADMIN: factory.user(role="admin", name="Adebayo Admin")}
    cases = {"a": _case(factory, db, "a", "cardiology", users[COORD_A], "X"),
             "b": _case(factory, db, "b", "neurology", users[COORD_B], "Y")}
    tokens = {role: create_api_token(users[owner]) for role, owner in TOKEN_ROLES.items()}
    quarantined = InboundMail(message_key="matrix-quarantined@itinera.example", source="api", outcome="rejected",
                              reason="could not be processed: test", size=12, raw=b"not a message",
                              received_at=utcnow())
    db.session.add(quarantined)
    failed = db.session.scalars(db.select(OutboundMail).where(OutboundMail.inquiry_id == cases["b"].ids["inquiry_id"])
                                .order_by(OutboundMail.id)).first()
    failed.status = "failed"
    db.session.commit()
    extra = {"quarantined_id": quarantined.id, "failed_mail_id": failed.id, "center_id": factory.center("cardiology").id,
             "user_id": users[COORD_B].id}
    users = {role: SimpleNamespace(id=user.id, email=user.email, name=user.name) for role, user in users.items()}
    world = World(users=users, cases=cases, tokens=tokens, extra=extra)
    db.session.remove()  # SQLite: an open transaction would hold the write lock the requests need
    return world


class Visitor:
    """One role's browser (its own cookies) or integration (its bearer token)."""

    def __init__(self, app, role: str, world: World):
        self.role, self.client = role, app.test_client()
        self.headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role in world.tokens else {}
        if role in SIGNED_IN_ROLES:
            AuthActions(self.client).login(world.users[role])
            page = self.client.get("/admin/" if role == ADMIN else "/inquiries/board")
            assert page.status_code == 200, (role, "not signed in", page.status_code)
        else:
            page = self.client.get("/login")
        self.csrf = csrf_from(page)
        if role == PORTAL_X:
            assert self.client.get(f"/p/{world.cases['a'].token}").status_code == 200

    def open(self, method: str, url: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)


def upload_dir() -> str:
    return current_app.config["UPLOAD_DIR"]
