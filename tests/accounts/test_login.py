from __future__ import annotations

from django.conf import settings

from tests.accounts.factories import PASSWORD
from tests.accounts.helpers import sign_in


def test_signing_in_with_email_and_password_opens_the_workspace(client, owner, workspace):
    response = sign_in(client, owner.email, follow=True)

    assert response.redirect_chain[-1][0] == f"/w/{workspace.slug}/"
    assert response.status_code == 200
    assert response.context["user"] == owner


def test_the_email_address_is_not_case_sensitive(client, owner):
    response = sign_in(client, owner.email.upper())

    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, owner):
    response = sign_in(client, owner.email, "not-the-password")

    assert response.status_code == 200
    assert b"Please enter a correct email address and password" in response.content
    assert "_auth_user_id" not in client.session


def test_signing_out_ends_the_session(client, owner, workspace):
    sign_in(client, owner.email)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get(f"/w/{workspace.slug}/")["Location"].startswith("/login/")


def test_signed_out_visitor_is_sent_to_sign_in_and_back(client, owner, workspace):
    response = client.get(f"/w/{workspace.slug}/settings/domains/")
    assert response["Location"] == f"/login/?next=/w/{workspace.slug}/settings/domains/"

    response = client.post(
        response["Location"],
        {"username": owner.email, "password": PASSWORD, "next": f"/w/{workspace.slug}/settings/domains/"},
    )

    assert response["Location"] == f"/w/{workspace.slug}/settings/domains/"


def test_too_many_failed_sign_ins_lock_the_account_even_with_the_right_password(client, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, owner.email, "not-the-password")

    response = sign_in(client, owner.email)

    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert b"Reset password" in response.content
    assert "_auth_user_id" not in client.session


def test_fewer_failures_than_the_limit_do_not_lock(client, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, owner.email, "not-the-password")

    assert sign_in(client, owner.email).status_code == 302


def test_a_locked_account_does_not_lock_other_people(client, owner, manager):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, owner.email, "not-the-password")

    assert sign_in(client, manager.email).status_code == 302


def test_outsider_who_signs_in_gets_404_for_another_workspace(client, outsider, workspace):
    sign_in(client, outsider.email)

    assert client.get(f"/w/{workspace.slug}/").status_code == 404


def test_changing_the_case_of_the_email_does_not_dodge_the_lockout(client, owner):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, owner.email.upper() if attempt % 2 else owner.email, "not-the-password")

    assert sign_in(client, owner.email).status_code == 429
