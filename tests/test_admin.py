"""Account administration: creating users, one-time passwords, roles, deactivation, the CLI."""
import json
import re

import pytest
from sqlalchemy import func, select

from investigations.extensions import db
from investigations.models import AuditEvent, User
from tests.conftest import PASSWORD, file_case, sign_in

NEW_PASSWORD = "nina picked this herself"

# --- Helpers ---------------------------------------------------------------------------


def user_by_email(email: str) -> User | None:
    """The account as the database has it now (not as this test's session remembers it)."""
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def audit_events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def issued_password(response) -> str:
    """The one-time password from an "Account created" or "Password reset" page."""
    assert response.status_code == 200, response.get_data(as_text=True)
    match = re.search(r'class="one-time-password"><code>([^<]+)</code>', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def create_account(admin, email="nina@example.org", name="Nina New", role="reporter"):
    return admin.post("/admin/users/new", data={"email": email, "display_name": name, "role": role})


def edit_account(admin, user: User, *, role=None, active=None):
    """Submit the edit form with the user's current values, except `role` and `active` if given."""
    active = user.active if active is None else active
    data = {"display_name": user.display_name, "role": role or user.role}
    if active:
        data["active"] = "y"
    return admin.post(f"/admin/users/{user.id}/edit", data=data)


def signs_in(app, email, password) -> bool:
    return sign_in(app.test_client(), email, password).status_code == 302


# --- Creating accounts ------------------------------------------------------------------


def test_new_account_gets_a_one_time_password_that_must_be_changed(app, login, users):
    admin = login("ada")
    response = create_account(admin)
    password = issued_password(response)
    assert response.get_data(as_text=True).count(password) == 1
    assert password not in admin.get("/admin/users").get_data(as_text=True)

    nina = user_by_email("nina@example.org")
    assert (nina.display_name, nina.role, nina.must_change_password) == ("Nina New", "reporter", True)
    [event] = audit_events("user.create")
    assert (event.object_id, event.actor_id) == (str(nina.id), users["ada"].id)

    client = app.test_client()
    response = sign_in(client, "nina@example.org", password)
    assert response.headers["Location"].endswith("/account/password")
    response = client.get("/cases/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")

    response = client.post("/account/password", data={
        "current_password": password, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"]== "/"
    assert client.get("/cases/").status_code == 200
    assert user_by_email("nina@example.org").must_change_password is False
    assert signs_in(app, "nina@example.org", NEW_PASSWORD)
    assert not signs_in(app, "nina@example.org", password)


def test_an_email_already_in_use_is_refused_whatever_its_case(login, users):
    response = create_account(login("ada"), email="RITA@example.org", name="Another Rita")

    assert response.status_code == 200
    assert "An account for rita@example.org already exists." in response.get_data(as_text=True)
    assert user_count() == 4
    assert user_by_email("rita@example.org").display_name == "Rita Reporter"
    assert audit_events("user.create") == []


# --- Editing accounts -----------------------------------------------------------------------


def test_admin_changes_a_role_then_deactivates_the_account(app, login, users):
    rita, rob, admin = login("rita"), login("rob"), login("ada")
    ritas_case = file_case(rita)
    assert rob.get(f"/cases/{ritas_case}").status_code == 404

    response = edit_account(admin, users["rob"], role="editor")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/users")
    assert user_by_email("rob@example.org").role == "editor"
    assert rob.get(f"/cases/{ritas_case}").status_code == 200  # an editor sees every case

    response = edit_account(admin, user_by_email("rob@example.org"), active=False)
    assert response.status_code == 302
    assert user_by_email("rob@example.org").active is False

    response = rob.get("/cases/")  # the session he already had
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = sign_in(app.test_client(), "rob@example.org")
    assert response.status_code == 200
    assert "do not match an active account" in response.get_data(as_text=True)

    first, second = audit_events("user.update")
    assert json.loads(first.details)["fields"] == ["role"]
    assert json.loads(second.details)["fields"] == ["active"]
    assert {first.object_id, second.object_id} == {str(users["rob"].id)}
    assert {first.actor_id, second.actor_id} == {users["ada"].id}


@pytest.mark.parametrize("change", [{"role": "editor"}, {"active": False}], ids=["demote", "deactivate"])
def test_the_last_admin_cannot_demote_or_deactivate_themselves(login, users, change):
    admin = login("ada")
    response = edit_account(admin, users["ada"], **change)

    assert response.status_code == 200
    assert "This is the last active admin; make another admin first." in response.get_data(as_text=True)
    ada = user_by_email("ada@example.org")
    assert (ada.role, ada.active) == ("admin", True)
    assert admin.get("/admin/users").status_code == 200
    assert audit_events("user.update") == []


def test_reset_password_replaces_the_old_one(app, login, users):
    response = login("ada").post(f"/admin/users/{users['rita'].id}/reset-password")
    password = issued_password(response)

    assert not signs_in(app, "rita@example.org", PASSWORD)
    response = sign_in(app.test_client(), "rita@example.org", password)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")

    [event] = audit_events("user.password_reset")
    assert (event.object_id, event.actor_id) == (str(users["rita"].id), users["ada"].id)


# --- Who may administer ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["eve", "rita"])
@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit", "/admin/users/new"])
def test_only_admins_reach_the_admin_pages(login, who, path):
    assert login(who).get(path).status_code == 403


@pytest.mark.parametrize("who", ["eve", "rita"])
def test_non_admins_cannot_create_accounts_or_reset_passwords(app, login, users, who):
    client = login(who)
    assert create_account(client).status_code == 403
    assert client.post(f"/admin/users/{users['rob'].id}/reset-password").status_code == 403

    assert user_by_email("nina@example.org") is None
    assert signs_in(app, "rob@example.org", PASSWORD)


# --- The command line ------------------------------------------------------------------------

CLI_CREATE = ["users", "create", "reporter@example.org", "--name", "Rita Two", "--role", "reporter",
              "--password-stdin"]


def test_cli_creates_a_user_who_can_sign_in(app, runner, users):
    result = runner.invoke(args=CLI_CREATE, input="a long enough password\n")

    assert result.exit_code == 0, result.output
    assert "Created reporter reporter@example.org." in result.output
    response = sign_in(app.test_client(), "reporter@example.org", "a long enough password")
    assert response.status_code == 302 and response.headers["Location"]== "/"
    assert user_by_email("reporter@example.org").display_name == "Rita Two"
    assert [event.object_id for event in audit_events("user.create")] == [str(user_by_email("reporter@example.org").id)]


def test_cli_refuses_a_short_password(runner, users):
    result = runner.invoke(args=CLI_CREATE, input="too short\n")

    assert result.exit_code == 1
    assert "The password must have at least 12 characters." in result.output
    assert user_by_email("reporter@example.org") is None
    assert user_count() == 4
