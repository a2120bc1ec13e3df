from __future__ import annotations

from io import StringIO

from django.core import mail
from django.core.management import call_command

from accounts.models import User
from tests.accounts.factories import PASSWORD
from tests.accounts.helpers import can_sign_in, link_in_last_email

NEW_PASSWORD = "a-brand-new-passphrase"


def ask_for_reset(client, email):
    return client.post("/password-reset/", {"email": email})


def emailed_link() -> str:
    return link_in_last_email("/password-reset/")


def set_new_password(client, link, password=NEW_PASSWORD):
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    return client.post(form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def test_asking_for_a_reset_emails_a_link(client, owner):
    response = ask_for_reset(client, owner.email)

    assert response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    assert mail.outbox[0].subject == "Reset your Tandem password"
    assert mail.outbox[0].body.count("http://testserver/password-reset/") == 1


def test_the_emailed_link_sets_a_new_password(client, owner):
    ask_for_reset(client, owner.email)

    response = set_new_password(client, emailed_link())

    assert response["Location"] == "/password-reset/complete/"
    assert can_sign_in(owner.email, NEW_PASSWORD)


def test_the_old_password_stops_working_after_a_reset(client, owner):
    ask_for_reset(client, owner.email)
    set_new_password(client, emailed_link())

    assert not can_sign_in(owner.email, PASSWORD)


def test_the_link_works_only_once(client, owner):
    ask_for_reset(client, owner.email)
    link = emailed_link()
    set_new_password(client, link)

    response = client.get(link, follow=True)

    assert b"Link expired" in response.content


def test_a_weak_new_password_is_refused_next_to_the_field(client, owner):
    ask_for_reset(client, owner.email)

    response = set_new_password(client, emailed_link(), password="12345")

    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]


def test_an_unknown_address_gets_the_same_page_and_no_email(client, db):
    response = ask_for_reset(client, "nobody@example.test")

    assert response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []


def test_an_owner_created_without_a_password_sets_one_through_reset(client, db):
    call_command("create_workspace", slug="initech", name="Initech", owner_email="bill@initech.test", stdout=StringIO())
    ask_for_reset(client, "bill@initech.test")

    set_new_password(client, emailed_link())

    assert can_sign_in("bill@initech.test", NEW_PASSWORD)
    assert User.objects.get(email="bill@initech.test").has_usable_password()
