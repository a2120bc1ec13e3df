"""The second step of signing in, and the pages where people set up, replace or turn off their factors."""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership
from accounts.tenancy import OWNERS, AuthenticatedRequest, WorkspaceRequest, get_for_workspace_or_404, workspace_member
from accounts.two_factor import devices
from accounts.two_factor.forms import AppCodeForm, CodeForm, PasswordCheckForm, RequirementForm


def _verified_landing(request: HttpRequest) -> str:
    return _next_url(request) or reverse("home")


@login_required
def sign_in_code(request: AuthenticatedRequest) -> HttpResponse:
    """The second step of signing in, after the password: a code from the app, or a recovery code.
    Until it is passed, the middleware lets the session reach nothing but this page and sign-out."""
    user = request.user
    if user.is_verified() or not devices.has_two_factor(user):  # type: ignore[attr-defined]
        return redirect(_verified_landing(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = devices.check_sign_in_code(user=user, code=form.cleaned_data["code"])
        if check.ok:
            request.session.cycle_key()  # a new session id for the fully signed-in session
            django_otp.login(request, check.device)
            if isinstance(check.device, StaticDevice):
                left = devices.recovery_codes_left(user)
                messages.warning(
                    request, f"You used a recovery code; {left} left. If your phone is lost, set up a new app now."
                )
                return redirect("two_factor_setup")
            return redirect(_verified_landing(request))
        if check.wait_until is not None:
            seconds = max(1, int((check.wait_until - timezone.now()).total_seconds()) + 1)
            form.add_error("code", f"Too many wrong codes. Wait {seconds} seconds, then try again.")
        else:
            form.add_error("code", "That code is not right. Check the app and try again.")
    context = {"form": form, "email": user.email, "next": _next_url(request)}
    return render(request, "accounts/two_factor/sign_in_code.html", context)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


def _qr_svg(data: str) -> SafeString:
    # Inline SVG: no image request, nothing for the content security policy to refuse.
    return mark_safe(
        segno.make(data, error="m").svg_inline(
            scale=4, border=2, omitsize=True, title="QR code for your authenticator app"
        )
    )  # noqa: S308 - segno's own markup


def _spaced_key(b32: str) -> str:
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


@login_required
def setup(request: AuthenticatedRequest) -> HttpResponse:
    """Turn two-factor sign-in on (scan, type a code), or see that it is on and manage it."""
    user = request.user
    next_url = _next_url(request)
    if devices.has_two_factor(user):
        context = {
            "enabled": True,
            "codes_left": devices.recovery_codes_left(user),
            "next": next_url,
            "required_by": devices.requiring_workspaces(user),
        }
        return render(request, "accounts/two_factor/setup.html", context)
    device = devices.pending_app_device(user)
    form = AppCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = devices.confirm_app(user=user, device=device, code=form.cleaned_data["code"])
        if codes is not None:
            django_otp.login(request, device)  # this session has just proven the app
            return render(
                request, "accounts/two_factor/recovery_codes.html", {"codes": codes, "next": next_url, "new": True}
            )
        form.add_error("code", "That code is not right. Type the code the app shows now (it changes every 30 seconds).")
    key = b32encode(device.bin_key).decode()
    context = {
        "enabled": False,
        "form": form,
        "qr": _qr_svg(device.config_url),
        "key": _spaced_key(key),
        "next": next_url,
        "required_by": devices.requiring_workspaces(user),
    }
    return render(request, "accounts/two_factor/setup.html", context)


@login_required
def new_recovery_codes(request: AuthenticatedRequest) -> HttpResponse:
    if not devices.has_two_factor(request.user):
        return redirect("two_factor_setup")
    form = PasswordCheckForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = devices.replace_recovery_codes(user=request.user)
        return render(request, "accounts/two_factor/recovery_codes.html", {"codes": codes, "new": False})
    return render(request, "accounts/two_factor/confirm.html", {"form": form, "action": "codes"})


@login_required
def disable(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    if not devices.has_two_factor(user):
        return redirect("two_factor_setup")
    required_by = devices.requiring_workspaces(user)
    form = PasswordCheckForm(user, request.POST or None)
    if request.method == "POST" and not required_by and form.is_valid():
        devices.disable_two_factor(user=user)
        messages.success(request, "Two-factor sign-in is off. Your password alone now signs you in.")
        return redirect("two_factor_setup")
    return render(
        request, "accounts/two_factor/confirm.html", {"form": form, "action": "disable", "required_by": required_by}
    )


@workspace_member(OWNERS, methods=("GET", "HEAD", "POST"))
def security(request: WorkspaceRequest) -> HttpResponseBase:
    """The owner's switch: everyone in the workspace (staff and partners) must use two factors."""
    workspace = request.workspace
    form = RequirementForm(request.POST or None, initial={"required": devices.workspace_requires_two_factor(workspace)})
    if request.method == "POST" and form.is_valid():
        required = form.cleaned_data["required"]
        if required and not devices.has_two_factor(request.user):
            form.add_error("required", "Set up two-factor sign-in for yourself first, so you are not locked out.")
        else:
            devices.set_two_factor_requirement(workspace=workspace, required=required, by=request.user)
            messages.success(
                request,
                "Everyone must now use two-factor sign-in." if required else "Two-factor sign-in is now optional.",
            )
            return redirect("workspace_security", slug=workspace.slug)
    members = Membership.objects.for_workspace(workspace).select_related("user")
    with_app = set(
        TOTPDevice.objects.filter(user__memberships__workspace=workspace, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    rows = [{"membership": m, "has_two_factor": m.user_id in with_app} for m in members]
    # Partners' logins are many: only those with two factors on, who are the ones an owner may reset.
    partner_logins = (
        workspace.partner_users.filter(user__in=TOTPDevice.objects.filter(confirmed=True).values("user_id"))
        .select_related("user", "partner")
        .order_by("user__email")
    )
    context = {"form": form, "rows": rows, "partner_logins": partner_logins}
    return render(request, "accounts/two_factor/security.html", context)


@workspace_member(OWNERS, methods=("POST",))
def reset_member(request: WorkspaceRequest, membership_id: int) -> HttpResponseBase:
    membership = get_for_workspace_or_404(
        Membership.objects.select_related("user", "workspace"), request.workspace, pk=membership_id
    )
    if membership.user_id == request.user.pk:
        messages.error(request, "Use your own recovery codes, or ask another owner to reset yours.")
    else:
        devices.reset_two_factor(user=membership.user, workspace=request.workspace, by=request.user)
        messages.success(
            request,
            f"Two-factor sign-in reset for {membership.user.email}. They sign in with their password next time.",
        )
    return redirect("workspace_security", slug=request.workspace.slug)


@workspace_member(OWNERS, methods=("POST",))
def reset_partner_login(request: WorkspaceRequest, partner_user_id: int) -> HttpResponseBase:
    """A partner lost their phone: the owner of the workspace vouches for them, as for a member."""
    login = get_for_workspace_or_404(
        request.workspace.partner_users.select_related("user"), request.workspace, pk=partner_user_id
    )
    devices.reset_two_factor(user=login.user, workspace=request.workspace, by=request.user)
    messages.success(
        request, f"Two-factor sign-in reset for {login.user.email}. They sign in with their password next time."
    )
    return redirect("workspace_security", slug=request.workspace.slug)
