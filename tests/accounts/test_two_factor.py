"""Two-factor sign-in: a code after the password, recovery codes, an owner's requirement and reset."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditLogEntry, Workspace
from accounts.two_factor import devices
from tests.accounts.factories import PASSWORD
from tests.accounts.helpers import sign_in


def app_code(device: TOTPDevice, *, later: int = 0) -> str:
    """What the person's authenticator app shows now (or `later` 30-second steps from now)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp() + later * device.step
    return f"{totp.token():06d}"


def turn_on(client: Client) -> tuple[TOTPDevice, list[str]]:
    """Set up the app through the page, as a person would: open it, read the key, type the code."""
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=page.context["user"], confirmed=False)
    assert page.context["key"] in page.content.decode()
    response = client.post("/account/two-factor/", {"code": app_code(device)})
    assert response.status_code == 200, response.content
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    return device, codes


def test_setting_up_shows_a_qr_code_and_the_key_then_ten_recovery_codes(owner_client, owner):
    page = owner_client.get("/account/two-factor/")

    assert b"<svg" in page.content and b"Scan this QR code" in page.content
    device, codes = turn_on(owner_client)

    assert device.confirmed and devices.has_two_factor(owner)
    assert len(set(codes)) == 10
    assert AuditLogEntry.objects.filter(action="two_factor.enabled", target_id=str(owner.pk)).exists()


def test_a_wrong_code_at_set_up_leaves_two_factor_off(owner_client, owner):
    owner_client.get("/account/two-factor/")

    response = owner_client.post("/account/two-factor/", {"code": "000000"})

    assert b"That code is not right" in response.content
    assert not devices.has_two_factor(owner)


def test_after_the_password_signing_in_asks_for_the_app_code(owner, workspace):
    setup_client = Client()
    sign_in(setup_client, owner.email)
    device, _ = turn_on(setup_client)

    client = Client()
    response = sign_in(client, owner.email)
    assert client.get(f"/w/{workspace.slug}/")["Location"].startswith("/login/code/")

    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        response = client.post("/login/code/", {"code": app_code(device)})
        assert response.status_code == 302
        assert client.get(f"/w/{workspace.slug}/").status_code == 200


def test_a_wrong_code_is_refused_and_then_throttled(owner, workspace):
    setup_client = Client()
    sign_in(setup_client, owner.email)
    device, _ = turn_on(setup_client)
    client = Client()
    sign_in(client, owner.email)

    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        wrong = client.post("/login/code/", {"code": "123456" if app_code(device) != "123456" else "654321"})
        assert b"That code is not right" in wrong.content
        # Straight after a wrong code even the right one waits (django-otp's throttle).
        throttled = client.post("/login/code/", {"code": app_code(device)})
        assert b"Too many wrong codes" in throttled.content
        assert client.get(f"/w/{workspace.slug}/").status_code == 302

    with time_machine.travel(timezone.now() + timedelta(seconds=65), tick=False):
        assert client.post("/login/code/", {"code": app_code(device)}).status_code == 302
        assert client.get(f"/w/{workspace.slug}/").status_code == 200


def test_a_recovery_code_signs_in_once(owner, workspace):
    setup_client = Client()
    sign_in(setup_client, owner.email)
    _, codes = turn_on(setup_client)

    first = Client()
    sign_in(first, owner.email)
    response = first.post("/login/code/", {"code": codes[0].upper()}, follow=True)
    assert b"You used a recovery code; 9 left" in response.content
    assert first.get(f"/w/{workspace.slug}/").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        second = Client()
        sign_in(second, owner.email)
        refused = second.post("/login/code/", {"code": codes[0]})
        assert b"That code is not right" in refused.content
        assert second.get(f"/w/{workspace.slug}/").status_code == 302


def test_a_session_that_only_typed_the_password_reaches_nothing_else(owner, workspace):
    setup_client = Client()
    sign_in(setup_client, owner.email)
    turn_on(setup_client)
    client = Client()
    sign_in(client, owner.email)

    for path in ("/", f"/w/{workspace.slug}/settings/members/", "/account/two-factor/disable/"):
        assert client.get(path)["Location"].startswith("/login/code/"), path


def test_an_owner_can_require_two_factor_and_members_without_it_are_sent_to_set_up(owner, manager, workspace):
    owner_client = Client()
    sign_in(owner_client, owner.email)
    # An owner without it is not allowed to lock themselves out.
    refused = owner_client.post(f"/w/{workspace.slug}/settings/security/", {"required": "on"})
    assert b"Set up two-factor sign-in for yourself first" in refused.content
    turn_on(owner_client)

    owner_client.post(f"/w/{workspace.slug}/settings/security/", {"required": "on"})

    workspace.refresh_from_db()
    assert devices.workspace_requires_two_factor(workspace)
    assert AuditLogEntry.objects.filter(workspace=workspace, action="two_factor.required").exists()
    member = Client()
    sign_in(member, manager.email)
    response = member.get(f"/w/{workspace.slug}/")
    assert response["Location"].startswith("/account/two-factor/?next=")
    turn_on(member)
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        assert member.get(f"/w/{workspace.slug}/").status_code == 200


def test_partners_are_held_to_the_workspace_requirement_too(partner_user, workspace):
    Workspace.objects.filter(pk=workspace.pk).update(settings={"require_two_factor": True})
    client = Client()
    sign_in(client, partner_user.email)

    assert client.get(f"/portal/{workspace.slug}/")["Location"].startswith("/account/two-factor/")


def test_the_requirement_says_nothing_to_outsiders(outsider_client, workspace):
    Workspace.objects.filter(pk=workspace.pk).update(settings={"require_two_factor": True})

    assert outsider_client.get(f"/w/{workspace.slug}/").status_code == 404


def test_an_owner_resets_a_members_lost_device_and_it_is_audited(owner_client, owner, manager, workspace):
    member = Client()
    sign_in(member, manager.email)
    turn_on(member)
    membership = manager.memberships.get(workspace=workspace)

    response = owner_client.post(f"/w/{workspace.slug}/settings/members/{membership.pk}/reset-two-factor/")

    assert response.status_code == 302
    assert not devices.has_two_factor(manager)
    entry = AuditLogEntry.objects.get(workspace=workspace, action="two_factor.reset")
    assert entry.actor == owner and entry.target_id == str(manager.pk)
    fresh = Client()
    sign_in(fresh, manager.email)
    assert fresh.get(f"/w/{workspace.slug}/").status_code == 200


def test_only_owners_reset_and_never_in_another_workspace(manager_client, outsider_client, owner, workspace):
    membership = owner.memberships.get(workspace=workspace)
    url = f"/w/{workspace.slug}/settings/members/{membership.pk}/reset-two-factor/"

    assert manager_client.post(url).status_code == 403
    assert outsider_client.post(url).status_code == 404


def test_turning_it_off_asks_for_the_password(owner):
    client = Client()
    sign_in(client, owner.email)
    turn_on(client)

    wrong = client.post("/account/two-factor/disable/", {"password": "nope"})
    assert b"That is not your password" in wrong.content
    assert devices.has_two_factor(owner)

    client.post("/account/two-factor/disable/", {"password": PASSWORD})
    assert not devices.has_two_factor(owner)


def test_an_owner_resets_a_partners_lost_device(owner_client, owner, partner_user, workspace):
    partner = Client()
    sign_in(partner, partner_user.email)
    turn_on(partner)
    login = partner_user.partner_logins.get(workspace=workspace)
    page = owner_client.get(f"/w/{workspace.slug}/settings/security/")
    assert partner_user.email.encode() in page.content

    owner_client.post(f"/w/{workspace.slug}/settings/partner-logins/{login.pk}/reset-two-factor/")

    assert not devices.has_two_factor(partner_user)
    assert AuditLogEntry.objects.filter(workspace=workspace, action="two_factor.reset", actor=owner).exists()


def test_a_partner_login_of_another_workspace_is_a_404(outsider_client, partner_user, workspace):
    login = partner_user.partner_logins.get(workspace=workspace)
    url = f"/w/{workspace.slug}/settings/partner-logins/{login.pk}/reset-two-factor/"

    assert outsider_client.post(url).status_code == 404
