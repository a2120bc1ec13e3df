"""Pages of the partners app: the manager's partner, application, program and group pages, the public
application page, partner invitation acceptance, the portal profile, and the signed-in home redirect."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.branding import brand_of
from accounts.models import Membership
from accounts.tenancy import ANY_STAFF, MANAGERS, AuthenticatedRequest, WorkspaceRequest, workspace_member
from accounts.views import invitation_page
from partners import reward_text, selectors, services
from partners.forms import (
    ApplicationForm,
    GroupChoiceForm,
    GroupForm,
    NotesForm,
    PartnerEditForm,
    PartnerInviteForm,
    ProfileForm,
    ProgramForm,
    add_service_errors,
)
from partners.models import Partner
from partners.portal import PartnerRequest, partner_member

WRITE = ("GET", "HEAD", "POST")
POST = ("POST",)
PAGE_SIZE = 25


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    """Where a signed-in person lands: their only workspace, their portal, or a chooser listing both."""
    memberships = list(
        Membership.objects.across_workspaces("a person's own memberships")
        .filter(user=request.user)
        .select_related("workspace")
        .order_by("workspace__name")
    )
    logins = selectors.partner_logins_of(user=request.user)
    if len(memberships) == 1 and not logins:
        return redirect("dashboard", slug=memberships[0].workspace.slug)
    if not memberships and logins:
        first = logins[0]
        return redirect(f"{_portal_url(first.workspace.slug)}?partner={first.partner_id}")
    return render(request, "partners/choose.html", {"memberships": memberships, "logins": logins})


def _portal_url(slug: str) -> str:
    return reverse("portal_home", args=[slug])


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page the action was posted from (the list, the applications, the detail)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def _detail_url(request: WorkspaceRequest, partner: Partner) -> str:
    return reverse("partner_detail", args=[request.workspace.slug, partner.pk])


# --- Partners ----------------------------------------------------------------------------------


@workspace_member(MANAGERS, methods=WRITE)
def partner_invite(request: WorkspaceRequest) -> HttpResponse:
    # A workspace made outside create_workspace (the admin, say) has no program yet; the form needs one.
    default = services.ensure_default_program(workspace=request.workspace)
    form = PartnerInviteForm(request.POST or None, workspace=request.workspace, initial={"program": default})
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.invite_partner(workspace=request.workspace, invited_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {partner.email}.")
            return redirect("partner_detail", slug=request.workspace.slug, partner_id=partner.pk)
    return render(request, "partners/invite.html", {"form": form})


@workspace_member(MANAGERS, methods=WRITE)
def partner_edit(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    partner = selectors.get_partner_or_404(request.workspace, partner_id)
    form = PartnerEditForm.for_partner(partner, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_partner(partner=partner, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{partner.name} saved.")
            return redirect("partner_detail", slug=request.workspace.slug, partner_id=partner.pk)
    return render(request, "partners/edit.html", {"form": form, "partner": partner})


@workspace_member(MANAGERS, methods=POST)
def partner_notes(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    partner = selectors.get_partner_or_404(request.workspace, partner_id)
    form = NotesForm(request.POST)
    if form.is_valid():
        services.update_partner(partner=partner, by=request.user, notes=form.cleaned_data["notes"])
        messages.success(request, "Notes saved.")
    return redirect(_detail_url(request, partner))


def _change_status(
    request: WorkspaceRequest, partner_id: int, change: Callable[[Partner], object], done: Callable[[Partner], str]
) -> HttpResponse:
    """Run one status service on the partner; a refusal (wrong current status, no reason) becomes a message."""
    partner = selectors.get_partner_or_404(request.workspace, partner_id)
    try:
        change(partner)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done(partner))
    return _back(request, _detail_url(request, partner))


@workspace_member(MANAGERS, methods=POST)
def partner_approve(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    return _change_status(
        request,
        partner_id,
        lambda p: services.approve_partner(partner=p, by=request.user),
        lambda p: f"{p.name} approved; we emailed them a link to set up their portal login.",
    )


@workspace_member(MANAGERS, methods=POST)
def partner_reject(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    # The service insists on a reason and says so; the form on the page only renders the field.
    return _change_status(
        request,
        partner_id,
        lambda p: services.reject_partner(partner=p, reason=request.POST.get("reason", ""), by=request.user),
        lambda p: f"{p.name}'s application rejected; we emailed them your reason.",
    )


@workspace_member(MANAGERS, methods=POST)
def partner_suspend(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    return _change_status(
        request,
        partner_id,
        lambda p: services.suspend_partner(partner=p, by=request.user),
        lambda p: f"{p.name} suspended: their links still work but earn nothing until reactivated.",
    )


@workspace_member(MANAGERS, methods=POST)
def partner_reactivate(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    return _change_status(
        request,
        partner_id,
        lambda p: services.reactivate_partner(partner=p, by=request.user),
        lambda p: f"{p.name} is active again.",
    )


@workspace_member(MANAGERS, methods=POST)
def partner_change_group(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    partner = selectors.get_partner_or_404(request.workspace, partner_id)
    form = GroupChoiceForm(request.POST, workspace=request.workspace)
    if form.is_valid():
        services.change_partner_group(partner=partner, group=form.cleaned_data["group"], by=request.user)
        messages.success(request, f"{partner.name} is now in {partner.group or 'no group'}.")
    else:
        messages.error(request, "Choose one of this workspace's groups.")
    return _back(request, _detail_url(request, partner))


@workspace_member(MANAGERS, methods=POST)
def partner_send_invitation(request: WorkspaceRequest, partner_id: int) -> HttpResponse:
    partner = selectors.get_partner_or_404(request.workspace, partner_id)
    try:
        services.send_portal_invitation(partner=partner, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Portal invitation sent to {partner.email}.")
    return redirect(_detail_url(request, partner))


# --- Applications ---------------------------------------------------------------------------


@workspace_member(ANY_STAFF)
def applications(request: WorkspaceRequest) -> HttpResponse:
    page = Paginator(selectors.pending_applications(workspace=request.workspace), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "can_manage": request.membership.role in MANAGERS,
        "public_programs": selectors.programs(workspace=request.workspace).filter(public_applications=True),
    }
    return render(request, "partners/applications.html", context)


def apply(request: HttpRequest, workspace_slug: str, program_slug: str) -> HttpResponse:
    """The public application page of a program that takes applications (else 404)."""
    program = selectors.get_public_program_or_404(workspace_slug=workspace_slug, program_slug=program_slug)
    form = ApplicationForm(request.POST or None)
    if not program.terms:
        # Nothing to accept: no checkbox.
        del form.fields["accepted_terms"]
    if request.method == "POST" and form.is_valid():
        try:
            services.apply_to_program(program=program, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return render(
                request,
                "partners/apply_done.html",
                {"program": program, "email": form.cleaned_data["email"], "brand": brand_of(program.workspace)},
            )
    context = {
        "program": program,
        "form": form,
        "reward": reward_text.reward_sentence(program),
        "brand": brand_of(program.workspace),
    }
    return render(request, "partners/apply.html", context)


# --- Invitation acceptance -----------------------------------------------------------------


def accept_partner_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Set a password (or sign in, for people who already have one), then land in the portal."""
    return invitation_page(
        request,
        token,
        kind=services.PARTNER_INVITATIONS,
        template="partners/accept_invitation.html",
        joining=lambda invitation: f"{invitation.workspace.name}'s partner program",
        accept=lambda invitation, user: services.accept_partner_invitation(invitation=invitation, user=user),
        landing_url=lambda invitation: f"{_portal_url(invitation.workspace.slug)}?partner={invitation.partner_id}",
    )


# --- Programs --------------------------------------------------------------------------------


@workspace_member(ANY_STAFF)
def program_list(request: WorkspaceRequest) -> HttpResponse:
    context = {
        "programs": selectors.programs(workspace=request.workspace),
        "can_manage": request.membership.role in MANAGERS,
    }
    return render(request, "partners/programs.html", context)


@workspace_member(MANAGERS, methods=WRITE)
def program_create(request: WorkspaceRequest) -> HttpResponse:
    form = ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            program = services.create_program(workspace=request.workspace, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Program “{program.name}” created.")
            return redirect("program_list", slug=request.workspace.slug)
    return render(request, "partners/program_form.html", {"form": form, "program": None})


@workspace_member(MANAGERS, methods=WRITE)
def program_edit(request: WorkspaceRequest, program_id: int) -> HttpResponse:
    program = selectors.get_program_or_404(request.workspace, program_id)
    form = ProgramForm.for_program(program, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_program(program=program, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Program “{program.name}” saved.")
            return redirect("program_list", slug=request.workspace.slug)
    return render(request, "partners/program_form.html", {"form": form, "program": program})


# --- Groups ------------------------------------------------------------------------------------


@workspace_member(ANY_STAFF)
def group_list(request: WorkspaceRequest) -> HttpResponse:
    context = {
        "groups": selectors.groups(workspace=request.workspace),
        "form": GroupForm(),
        "can_manage": request.membership.role in MANAGERS,
    }
    return render(request, "partners/groups.html", context)


@workspace_member(MANAGERS, methods=POST)
def group_create(request: WorkspaceRequest) -> HttpResponse:
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            group = services.create_group(workspace=request.workspace, name=form.cleaned_data["name"], by=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Group “{group.name}” created.")
            return redirect("partner_groups", slug=request.workspace.slug)
    context = {"groups": selectors.groups(workspace=request.workspace), "form": form, "can_manage": True}
    return render(request, "partners/groups.html", context, status=422)


@workspace_member(MANAGERS, methods=POST)
def group_rename(request: WorkspaceRequest, group_id: int) -> HttpResponse:
    group = selectors.get_group_or_404(request.workspace, group_id)
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            services.rename_group(group=group, name=form.cleaned_data["name"], by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Group renamed to “{group.name}”.")
    else:
        messages.error(request, "Give the group a name.")
    return redirect("partner_groups", slug=request.workspace.slug)


# --- Portal ---------------------------------------------------------------------------------------


@partner_member(methods=WRITE)
def portal_profile(request: PartnerRequest) -> HttpResponse:
    partner = request.partner
    form = ProfileForm.for_partner(partner, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_partner_profile(partner=partner, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Profile saved.")
            return redirect("portal_profile", slug=request.workspace.slug)
    context = {
        "form": form,
        "partner": partner,
        "program": partner.program,
        "reward": reward_text.reward_sentence(partner.program, partner.group),
    }
    return render(request, "partners/portal_profile.html", context)
