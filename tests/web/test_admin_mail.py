"""The admin's view of mail: the quarantine (kept whole, downloadable, readable again) and
mail that could not be delivered."""
import sqlalchemy as sa

from crm.models import InboundMail, OutboundMail
from crm.services import mailbox
from tests import mail_samples as samples
from tests.conftest import csrf_from


def test_admin_sees_downloads_and_rereads_the_quarantine(client, auth, factory, db):
    mailbox.ingest(samples.garbage(), source="file")
    db.session.commit()
    record = db.session.scalars(sa.select(InboundMail).where(InboundMail.outcome == "rejected")).one()
    auth.login(factory.user(role="admin"))
    page = client.get("/admin/mail")
    assert page.status_code == 200 and record.reason in page.get_data(as_text=True)
    raw = client.get(f"/admin/mail/{record.id}.eml")
    assert raw.status_code == 200 and raw.data == samples.garbage()
    assert raw.headers["Content-Type"].startswith("message/rfc822")
    again = client.post(f"/admin/mail/{record.id}/retry", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 303
    # still unreadable: still kept, exactly once
    assert db.session.scalar(sa.select(sa.func.count(InboundMail.id)).where(InboundMail.outcome == "rejected")) == 1


def test_a_failed_mail_can_be_sent_again(client, auth, factory, db):
    factory.inquiry()
    row = db.session.scalars(sa.select(OutboundMail)).one()
    row.status = "failed"
    db.session.commit()
    auth.login(factory.user(role="admin"))
    page = client.get("/admin/mail")
    assert client.post(f"/admin/mail/outbox/{row.id}/retry", data={"csrf_token": csrf_from(page)}).status_code == 303
    db.session.refresh(row)
    assert row.status == "queued" and row.attempts == 0


def test_only_admins_see_mail(client, auth, factory, db):
    auth.login(factory.user())
    assert client.get("/admin/mail").status_code in (403, 404)
