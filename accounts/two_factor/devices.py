"""The second factors a person holds, and the decisions about them.

A person has two factors once an authenticator app is confirmed (a confirmed TOTP device); the
recovery codes (one static device with ten single-use tokens) come with it and go with it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django_otp.models import VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, User, Workspace
from accounts.services import record_audit

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
REQUIRE_SETTING = "require_two_factor"


def has_two_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def workspace_requires_two_factor(workspace: Workspace) -> bool:
    return bool((workspace.settings or {}).get(REQUIRE_SETTING))


def belongs_to(user: User, workspace: Workspace) -> bool:
    """Staff of the workspace, or a partner's login in it."""
    return (
        Membership.objects.filter(workspace=workspace, user=user).exists()
        or user.partner_logins.filter(workspace=workspace).exists()
    )


def requiring_workspaces(user: User) -> list[Workspace]:
    """The workspaces this person belongs to (staff or partner) whose owner requires two factors."""
    ids = set(
        Membership.objects.across_workspaces("a person's own memberships, in every workspace")
        .filter(user=user)
        .values_list("workspace_id", flat=True)
    )
    ids |= set(user.partner_logins.values_list("workspace_id", flat=True))
    return [ws for ws in Workspace.objects.filter(pk__in=ids) if workspace_requires_two_factor(ws)]


def pending_app_device(user: User) -> TOTPDevice:
    """The authenticator key being set up: the same one on every visit until it is confirmed, so a
    reload does not invalidate the QR code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def _new_recovery_code() -> str:
    return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))


def display_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def normalize_code(raw: str) -> str:
    """What people type: spaces and dashes anywhere, any case."""
    return "".join(raw.split()).replace("-", "").lower()


@transaction.atomic
def replace_recovery_codes(*, user: User) -> list[str]:
    """Ten new single-use codes; any earlier ones stop working. Returns them for showing once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_DEVICE_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [display_code(code) for code in codes]


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


@transaction.atomic
def confirm_app(*, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Turn two-factor sign-in on once the app shows a correct code: returns the recovery codes
    (shown once), or None when the code is wrong."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if not device.verify_token(normalize_code(code)):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()  # one app at a time
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = replace_recovery_codes(user=user)
    _audit_everywhere(user=user, actor=user, action="two_factor.enabled")
    return codes


@dataclass(frozen=True)
class CodeCheck:
    device: TOTPDevice | StaticDevice | None
    wait_until: datetime | None = None  # set when too many wrong codes were typed

    @property
    def ok(self) -> bool:
        return self.device is not None


def check_sign_in_code(*, user: User, code: str) -> CodeCheck:
    """A six-digit code goes to the app, anything else to the recovery codes (used up when it matches).
    django-otp throttles each: after n wrong codes in a row the next is refused for 2^(n-1) seconds."""
    token = normalize_code(code)
    model: type[TOTPDevice] | type[StaticDevice] = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            return CodeCheck(None)
        allowed, why = device.verify_is_allowed()
        if not allowed:
            locked = (
                why.get("locked_until") if why and why.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS else None
            )
            return CodeCheck(None, wait_until=locked)
        if device.verify_token(token):
            return CodeCheck(device)
        return CodeCheck(None)


def _audit_everywhere(*, user: User, actor: User | None, action: str, workspace: Workspace | None = None) -> None:
    """Two factors belong to the person, not to one workspace: each workspace they are staff of sees the change."""
    targets = [workspace] if workspace else list(Workspace.objects.filter(memberships__user=user).distinct())
    for ws in targets:
        record_audit(workspace=ws, actor=actor, action=action, target=user, changes={"user": user.email})


@transaction.atomic
def disable_two_factor(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _audit_everywhere(user=user, actor=user, action="two_factor.disabled")


@transaction.atomic
def reset_two_factor(*, user: User, workspace: Workspace, by: User) -> None:
    """An owner's answer to a lost phone and lost codes of someone in the workspace (staff or a
    partner's login): they sign in with the password alone and set up a new app (at once, if the
    workspace requires it)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _audit_everywhere(user=user, actor=by, action="two_factor.reset", workspace=workspace)


@transaction.atomic
def set_two_factor_requirement(*, workspace: Workspace, required: bool, by: User) -> None:
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if workspace_requires_two_factor(workspace) == required:
        return
    workspace.settings = {**(workspace.settings or {}), REQUIRE_SETTING: required}
    workspace.save(update_fields=["settings"])
    record_audit(
        workspace=workspace,
        actor=by,
        action="two_factor.required" if required else "two_factor.optional",
        target=workspace,
        changes={REQUIRE_SETTING: required},
    )
