"""Pages of notifications: the unsubscribe link, the partner's email choices, announcements."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from accounts.branding import brand_of
from accounts.tenancy import MANAGERS, WorkspaceRequest, workspace_member
from partners.models import Partner
from partners.notifications import announcements, preferences
from partners.notifications.forms import AnnouncementForm, EmailChoicesForm
from partners.notifications.models import Announcement
from partners.notifications.unsubscribe import read_token
from partners.portal import PartnerRequest, partner_member


@csrf_exempt  # the signed token is the proof; a mail client's one-click POST (RFC 8058) carries no CSRF token
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link turns off, with one button; POST (the button, or the mail client) turns it off."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    found = read_token(token)
    partner = (
        Partner.objects.select_related("workspace").filter(workspace_id=found.workspace_id, pk=found.partner_id).first()
        if found
        else None
    )
    if found is None or partner is None:
        raise Http404("This unsubscribe link is not valid.")
    context = {
        "partner": partner,
        "brand": brand_of(partner.workspace),
        "kind_label": preferences.TOPICS[found.kind],
        "done": False,
    }
    if request.method == "POST":
        preferences.turn_off(partner=partner, kind=found.kind)
        context["done"] = True
    return render(request, "partners/unsubscribe.html", context)


@partner_member(methods=("POST",))
def portal_email_choices(request: PartnerRequest) -> HttpResponse:
    """The Notifications section of the portal profile page saves here."""
    form = EmailChoicesForm(request.POST)
    form.is_valid()  # checkboxes: every answer is valid
    preferences.set_choices(partner=request.partner, choices=form.cleaned_data, by=request.user)
    messages.success(request, "Email choices saved.")
    return redirect("portal_profile", slug=request.workspace.slug)


@partner_member(methods=("POST",))
def portal_dismiss_announcement(request: PartnerRequest, announcement_uuid: uuid.UUID) -> HttpResponse:
    if not announcements.dismiss_announcement(partner=request.partner, announcement_uuid=announcement_uuid):
        raise Http404("No such announcement.")
    if request.htmx:
        return HttpResponse("")
    return redirect("portal_home", slug=request.workspace.slug)


@workspace_member(MANAGERS, methods=("GET", "HEAD", "POST"))
def announcement_list(request: WorkspaceRequest) -> HttpResponse:
    """Managers write an announcement to all partners or one group, and see those sent before."""
    form = AnnouncementForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            sent = announcements.publish_announcement(
                workspace=request.workspace,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                group=form.cleaned_data["group"],
                by=request.user,
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(
                request,
                f"“{sent.title}” is on the portal home of {sent.recipients} partner{'s' if sent.recipients != 1 else ''}; "
                "those who want announcements get it by email too.",
            )
            return redirect("announcement_list", slug=request.workspace.slug)
    rows = Announcement.objects.for_workspace(request.workspace).order_by("-created_at")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(request, "partners/announcements.html", {"form": form, "page": page})
