"""Administration: staff accounts and centers."""
from sqlalchemy import select

from crm.models import Center, User
from tests.conftest import csrf_from


def test_admin_creates_a_coordinator_who_can_sign_in(client, auth, factory, db):
    auth.login(factory.user(role="admin"))
    page = client.get("/admin/users/new")
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_from(page), "name": "Yusuf Demir", "email": "yusuf@itinera.example",
        "role": "coordinator", "centers": ["neurology", "cancer"], "languages": ["ar", "en"],
        "ui_locale": "ar", "password": "a strong password"})
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "yusuf@itinera.example"))
    assert sorted(c.key for c in user.centers) == ["cancer", "neurology"]
    assert user.languages == ["ar", "en"] and user.ui_locale == "ar"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/admin/"))})
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_from(page), "email": "yusuf@itinera.example",
                                           "password": "a strong password"})
    assert response.status_code == 302
    assert '<html lang="ar" dir="rtl">' in client.get("/inquiries/board").get_data(as_text=True)


def test_admin_form_errors_are_shown_and_nothing_saved(client, auth, factory, db):
    admin = factory.user(role="admin")
    auth.login(admin)
    page = client.get("/admin/users/new")
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_from(page), "name": "", "email": admin.email, "role": "king",
        "password": "short"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("name", "email", "role", "password"):
        assert f'id="{field}-error"' in html


def test_deactivating_an_account_signs_it_out(app, client, auth, factory, db):
    coordinator = factory.user()
    other = app.test_client()
    page = other.get("/login")
    other.post("/login", data={"csrf_token": csrf_from(page), "email": coordinator.email,
                               "password": "correct horse battery"})
    assert other.get("/inquiries/board").status_code == 200
    auth.login(factory.user(role="admin"))
    page = client.get(f"/admin/users/{coordinator.id}")
    response = client.post(f"/admin/users/{coordinator.id}", data={
        "csrf_token": csrf_from(page), "name": coordinator.name, "email": coordinator.email,
        "role": "coordinator", "centers": ["cardiology"], "languages": ["en"]})  # is_active unchecked
    assert response.status_code == 303
    assert other.get("/inquiries/board").status_code == 302


def test_admin_names_a_center_in_every_language(client, auth, factory, db):
    auth.login(factory.user(role="admin"))
    page = client.get("/admin/centers/new")
    names = {"name_en": "Dermatology", "name_es": "Dermatología", "name_ar": "الأمراض الجلدية",
             "name_zh_Hans": "皮肤科", "name_pt_BR": "Dermatologia", "name_ru": "Дерматология",
             "name_fr": "Dermatologie"}
    response = client.post("/admin/centers/new", data={"csrf_token": csrf_from(page), "key": "dermatology",
                                                       "is_active": "y", **names})
    assert response.status_code == 303
    center = db.session.scalar(select(Center).where(Center.key == "dermatology"))
    assert center.names["ar"] == "الأمراض الجلدية" and center.name_in("zh_Hans") == "皮肤科"
    bad = client.post("/admin/centers/new", data={"csrf_token": csrf_from(page), "key": "Bad Key!"})
    assert bad.status_code == 422


def test_out_of_range_ids_are_404_not_500(client, auth, factory):
    auth.login(factory.user(role="admin"))
    for url in ("/admin/users/99999999999", "/admin/centers/99999999999", "/admin/users/424242"):
        assert client.get(url).status_code == 404, url
