from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts import services
from accounts.forms import AcceptInvitationForm, ApiKeyForm, DomainForm, InviteStaffForm, RoleForm
from accounts.invitations import STAFF_INVITATIONS, InvitationError, InvitationKind
from accounts.models import ApiKey, AuditLogEntry, Domain, Invitation, Membership, StaffInvitation, User
from accounts.tenancy import MANAGERS, OWNERS, WorkspaceRequest, get_for_workspace_or_404, workspace_member

WRITE = ("GET", "HEAD", "POST")
POST = ("POST",)


def invitation_page[I: Invitation](
    request: HttpRequest,
    token: str,
    *,
    kind: InvitationKind[I],
    template: str,
    joining: Callable[[I], str],
    accept: Callable[[I, User], object],
    landing_url: Callable[[I], str],
) -> HttpResponse:
    """The page an invitation link opens, for every kind of invitation: someone new sets a password,
    someone with a login signs in first; both then accept and land where `landing_url` says.
    `joining` names what they join, for the messages ("Acme", "Acme's partner program")."""
    try:
        invitation = kind.load(token)
    except InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=410)
    existing = User.objects.filter(email__iexact=invitation.email).first()
    if existing is not None and existing.has_usable_password():
        # Someone who already has a login proves it by signing in first.
        if not request.user.is_authenticated:
            messages.info(request, f"Sign in as {invitation.email} to join {joining(invitation)}.")
            return redirect_to_login(request.get_full_path())
        if request.method == "POST":
            try:
                accept(invitation, request.user)
            except InvitationError as exc:
                messages.error(request, str(exc))
                return redirect("home")
            messages.success(request, f"Welcome to {joining(invitation)}.")
            return redirect(landing_url(invitation))
        return render(request, template, {"invitation": invitation, "form": None})

    user = existing or User(email=invitation.email)
    form = AcceptInvitationForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user.first_name = form.cleaned_data["first_name"]
        user.last_name = form.cleaned_data["last_name"]
        form.save()
        accept(invitation, user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {joining(invitation)}.")
        return redirect(landing_url(invitation))
    return render(request, template, {"invitation": invitation, "form": form})


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    return invitation_page(
        request,
        token,
        kind=STAFF_INVITATIONS,
        template="accounts/accept_invitation.html",
        joining=lambda invitation: invitation.workspace.name,
        accept=lambda invitation, user: services.accept_staff_invitation(invitation=invitation, user=user),
        landing_url=lambda invitation: reverse("dashboard", kwargs={"slug": invitation.workspace.slug}),
    )


@workspace_member(MANAGERS, methods=WRITE)
def members(request: WorkspaceRequest) -> HttpResponse:
    form = InviteStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_staff(workspace=request.workspace, invited_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("members", slug=request.workspace.slug)
    context = {
        "form": form,
        "memberships": Membership.objects.for_workspace(request.workspace).select_related("user"),
        "invitations": StaffInvitation.objects.for_workspace(request.workspace).filter(
            accepted_at__isnull=True, revoked_at__isnull=True
        ),
        "role_form": RoleForm(),
        "is_owner": request.membership.role in OWNERS,
    }
    return render(request, "accounts/members.html", context)


@workspace_member(OWNERS, methods=POST)
def change_role(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    membership = get_for_workspace_or_404(
        Membership.objects.select_related("user"), request.workspace, pk=membership_id
    )
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.change_member_role(membership=membership, role=form.cleaned_data["role"], by=request.user)
            messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("members", slug=request.workspace.slug)


@workspace_member(OWNERS, methods=POST)
def remove_member(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    membership = get_for_workspace_or_404(
        Membership.objects.select_related("user"), request.workspace, pk=membership_id
    )
    try:
        services.remove_member(membership=membership, by=request.user)
        messages.success(request, f"{membership.user.email} no longer has access.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("members", slug=request.workspace.slug)


@workspace_member(MANAGERS, methods=POST)
def revoke_invitation(request: WorkspaceRequest, invitation_id: int) -> HttpResponse:
    invitation = get_for_workspace_or_404(StaffInvitation.objects, request.workspace, pk=invitation_id)
    services.revoke_staff_invitation(invitation=invitation, by=request.user)
    messages.success(request, f"Invitation for {invitation.email} withdrawn.")
    return redirect("members", slug=request.workspace.slug)


@workspace_member(MANAGERS, methods=WRITE)
def api_keys(request: WorkspaceRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _, new_key = services.create_api_key(
            workspace=request.workspace, name=form.cleaned_data["name"], created_by=request.user
        )
        form = ApiKeyForm()
    keys = ApiKey.objects.for_workspace(request.workspace).select_related("created_by")
    return render(request, "accounts/api_keys.html", {"form": form, "keys": keys, "new_key": new_key})


@workspace_member(MANAGERS, methods=POST)
def revoke_api_key(request: WorkspaceRequest, key_id: int) -> HttpResponse:
    api_key = get_for_workspace_or_404(ApiKey.objects, request.workspace, pk=key_id)
    services.revoke_api_key(api_key=api_key, by=request.user)
    messages.success(request, f"Key “{api_key.name}” revoked; requests using it now get 401.")
    return redirect("api_keys", slug=request.workspace.slug)


@workspace_member(MANAGERS, methods=WRITE)
def domains(request: WorkspaceRequest) -> HttpResponse:
    form = DomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        domain = services.add_domain(
            workspace=request.workspace, domain=form.cleaned_data["domain"], actor=request.user
        )
        if domain.is_verified:
            messages.success(request, f"{domain.display_name} is already verified. Links may point there.")
        else:
            messages.success(
                request,
                f"{domain.display_name} added. Add its TXT record below to prove it is yours; "
                "links may point there once it is verified.",
            )
        return redirect("domains", slug=request.workspace.slug)
    rows = Domain.objects.for_workspace(request.workspace)
    return render(request, "accounts/domains.html", {"form": form, "domains": rows})


@workspace_member(MANAGERS, methods=POST)
def verify_domain(request: WorkspaceRequest, domain_id: int) -> HttpResponse:
    """ "Check now": look up the domain's TXT record at once instead of waiting for the periodic check."""
    domain = get_for_workspace_or_404(Domain.objects, request.workspace, pk=domain_id)
    services.check_domain(domain=domain, actor=request.user)
    if domain.is_verified:
        messages.success(request, f"{domain.display_name} is verified. Links may now point there.")
    else:
        messages.error(request, f"{domain.display_name} is not verified yet. {domain.last_check_message}")
    return redirect("domains", slug=request.workspace.slug)


@workspace_member(MANAGERS, methods=POST)
def remove_domain(request: WorkspaceRequest, domain_id: int) -> HttpResponse:
    domain = get_for_workspace_or_404(Domain.objects, request.workspace, pk=domain_id)
    services.remove_domain(domain=domain, actor=request.user)
    messages.success(request, f"{domain.display_name} removed.")
    return redirect("domains", slug=request.workspace.slug)


@workspace_member(MANAGERS)
def audit_log(request: WorkspaceRequest) -> HttpResponse:
    entries = AuditLogEntry.objects.for_workspace(request.workspace).select_related("actor")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/audit_log.html", {"page": page})
