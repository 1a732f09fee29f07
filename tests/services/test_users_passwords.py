"""The password rule: at least 12 characters and not on the bundled list of breached passwords,
checked whenever a password is set; accounts made before keep signing in."""
from datetime import timedelta

import pytest

from crm.services import passwords, staff, users
from crm.services.errors import ValidationError
from crm.services.users import create_user, hash_password
from tests.conftest import PASSWORD

SHORT = "Use at least 12 characters."
BREACHED = "leaked in data breaches"


def refusal(password) -> str:
    with pytest.raises(ValidationError) as error:
        create_user("new@itinera.example", name="New", role="coordinator", password=password)
    return str(error.value.fields["password"])


def test_a_short_password_is_refused_with_the_rule(db):
    assert refusal("eleven char") == SHORT
    assert refusal("") == SHORT


@pytest.mark.parametrize("password", ["password1234", "PassWord1234", "QWERTYUIOP123", "iloveyou1234"])
def test_a_breached_password_is_refused_whatever_its_case(db, password):
    assert BREACHED in refusal(password)


def test_the_list_ships_with_the_app_and_the_demo_password_passes(db):
    listed = passwords.breached_passwords()
    assert len(listed) > 40_000 and all(len(p) >= 12 for p in list(listed)[:1000])
    assert passwords.password_problem("itinera-demo") is None  # crm demo's password: exactly 12
    assert passwords.password_problem(PASSWORD) is None
    user = create_user("fine@itinera.example", name="Fine", role="coordinator", password="a long unusual phrase")
    assert user.password_hash.startswith("$argon2")


def test_an_account_made_under_the_old_rule_still_signs_in(factory, db):
    user = factory.user()
    user.password_hash = hash_password("tenchars!!")  # 10 characters: the rule before
    db.session.commit()
    assert users.authenticate(user.email, "tenchars!!", max_failures=5, lockout=timedelta(minutes=15)) == user


def test_an_admin_setting_a_password_follows_the_rule_and_ends_the_sessions(factory, db):
    admin, coordinator = factory.user(role="admin"), factory.user()
    token = coordinator.session_token
    kwargs = dict(name=coordinator.name, email=coordinator.email, role="coordinator",
                  center_keys=["cardiology"], languages=["en"], ui_locale=None, is_active=True, actor=admin)
    with pytest.raises(ValidationError) as error:
        staff.update_user(coordinator, password="Password1234", **kwargs)
    assert BREACHED in str(error.value.fields["password"])
    db.session.rollback()
    staff.update_user(coordinator, password="another long phrase", **kwargs)
    assert coordinator.session_token != token
    assert users.check_password(coordinator, "another long phrase")


def test_changing_ones_password_needs_the_current_one(factory, db):
    user = factory.user()
    with pytest.raises(ValidationError) as error:
        users.change_password(user, "not it at all", "another long phrase")
    assert "current_password" in error.value.fields
    with pytest.raises(ValidationError) as error:
        users.change_password(user, PASSWORD, "qwerty123456")
    assert BREACHED in str(error.value.fields["password"])
    token = user.session_token
    users.change_password(user, PASSWORD, "another long phrase")
    assert user.session_token != token and users.check_password(user, "another long phrase")
