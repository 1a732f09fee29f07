"""My tasks on screen and through the API."""
from datetime import timedelta

from sqlalchemy import select

from crm.models import Task
from crm.models.base import utcnow
from crm.services.users import create_api_token
from tests.conftest import csrf_from


def test_my_tasks_page_and_one_click_completion(client, auth, factory, db):
    coordinator = factory.user()
    auth.login(coordinator)
    inquiry = factory.inquiry(coordinator_id=coordinator.id, family_name="Tasked")
    task = db.session.scalar(select(Task).where(Task.inquiry_id == inquiry.id))
    task.due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    page = client.get("/tasks/")
    html = page.get_data(as_text=True)
    assert "Answer the patient for the first time" in html and "Tasked" in html
    assert "Overdue since" in html
    assert 'class="badge text-bg-danger">1<' in client.get("/inquiries/board").get_data(as_text=True)
    response = client.post(f"/tasks/{task.id}/complete", data={"csrf_token": csrf_from(page), "next": "/tasks/"})
    assert response.status_code == 303
    db.session.refresh(task)
    assert task.state == "done" and task.completed_by_id == coordinator.id
    assert "Task done" in client.get("/tasks/").get_data(as_text=True)


def test_inquiry_page_shows_open_tasks_and_the_timeline_has_them(client, auth, factory):
    auth.login(factory.user())
    inquiry = factory.inquiry()
    html = client.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    assert "Open tasks" in html and "Task opened: Answer the patient for the first time" in html


def test_managers_see_the_team_workload(client, auth, factory):
    coordinator = factory.user(name="Busy Bee")
    factory.inquiry(coordinator_id=coordinator.id)
    auth.login(factory.user(role="manager"))
    html = client.get("/tasks/").get_data(as_text=True)
    assert "Team workload" in html and "Busy Bee" in html


def test_tasks_out_of_reach_are_404(client, auth, factory, db):
    auth.login(factory.user(centers=("neurology",)))
    hidden = factory.inquiry(center="cardiology")
    task = db.session.scalar(select(Task).where(Task.inquiry_id == hidden.id))
    page = client.get("/tasks/")
    assert client.post(f"/tasks/{task.id}/complete", data={"csrf_token": csrf_from(page)}).status_code == 404


def test_api_lists_and_completes_tasks(client, factory, db):
    coordinator = factory.user()
    token = create_api_token(coordinator)
    db.session.commit()
    mine = factory.inquiry(coordinator_id=coordinator.id)
    factory.inquiry(center=None, reason="Please call me")  # waits in triage, nobody's yet
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/tasks?assignee=me&status=open", headers=headers).json["items"]
    assert [t["inquiry_id"] for t in listed] == [mine.id]
    soon = (utcnow() + timedelta(days=30)).isoformat()
    assert client.get("/api/v1/tasks", query_string={"due_before": soon, "assignee": "me"},
                      headers=headers).json["items"]
    done = client.post(f"/api/v1/tasks/{listed[0]['id']}/complete", headers=headers)
    assert done.status_code == 200 and done.json["state"] == "done"
    assert client.get("/api/v1/tasks?assignee=me", headers=headers).json["items"] == []
    for bad in ("status=maybe", "due_before=tomorrow", "assignee=bob"):
        assert client.get(f"/api/v1/tasks?{bad}", headers=headers).status_code == 422
    assert client.post("/api/v1/tasks/999999/complete", headers=headers).status_code == 404
