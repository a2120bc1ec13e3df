"""The short-link redirect and the managers' pages for links, codes, referrals and deal registrations."""

from __future__ import annotations

import logging
import re
import time
from io import BytesIO

import redis
import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.models import Domain
from accounts.tenancy import ANY_STAFF, MANAGERS, WorkspaceRequest, get_for_workspace_or_404, workspace_member
from referrals import selectors, services
from referrals.charts import bar_chart
from referrals.clicks import recording
from referrals.clicks.entries import Visit
from referrals.clicks.hashing import client_ip
from referrals.clicks.ids import new_click_id
from referrals.forms import (
    DealDecisionForm,
    DealFilterForm,
    LinkEditForm,
    LinkFilterForm,
    LinkForm,
    ReferralCodeForm,
    apply_errors,
)
from referrals.models import DealRegistration, Link, ReferralCode
from referrals.validation import CODE_MAX_LENGTH, CODE_MIN_LENGTH

logger = logging.getLogger(__name__)

WRITE = ("GET", "HEAD", "POST")
POST = ("POST",)
PAGE_SIZE = 25
_LOOKS_LIKE_A_CODE = re.compile(rf"[a-z0-9-]{{{CODE_MIN_LENGTH},{CODE_MAX_LENGTH}}}").fullmatch


# --- The redirect ----------------------------------------------------------------------------


def short_link(request: HttpRequest, code: str) -> HttpResponse:
    """`/r/<code>`: 302 to the link's destination with `tclid` added; anything unknown is the 404 page.

    Deliberately plain: no session, user or database on the way unless the link is not cached.
    """
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    code = code.lower()
    if not _LOOKS_LIKE_A_CODE(code):  # junk from scanners never reaches Redis or the database
        raise Http404("No such link.")
    visit = None
    if request.method == "GET":  # link previews that only ask HEAD are not visits
        meta = request.META
        at = time.time()
        visit = Visit(
            click_id=new_click_id(at),
            at=at,
            ip=client_ip(meta),
            user_agent=meta.get("HTTP_USER_AGENT", ""),
            referrer=meta.get("HTTP_REFERER", ""),
        )
    try:
        target = recording.resolve_and_record(code, visit)
    except redis.RedisError as exc:
        # The visitor still gets where they were going, and the click goes straight to PostgreSQL.
        if not isinstance(exc, recording.BufferUnavailable):  # logged once per failure, not per click
            logger.warning("Click buffer unavailable (%s); recording clicks directly for a while", exc)
        target = recording.resolve_and_record_directly(code, visit)
    if target is None:
        raise Http404("No such link.")
    return ShortLinkRedirect(target)


class ShortLinkRedirect(HttpResponse):
    """A 302 to a link's target without HttpResponseRedirect's URL parsing on every visit: the
    destination was validated (http/https, verified domain) when the link was saved."""

    status_code = 302

    def __init__(self, target: str) -> None:
        super().__init__(headers={"Location": target, "Cache-Control": "no-store", "X-Robots-Tag": "noindex"})

    @property
    def url(self) -> str:
        return self["Location"]


def bench_redirect(request: HttpRequest) -> HttpResponse:
    """The baseline of `make bench BENCH=redirect`: a bare Django view answering 302 (TANDEM_BENCH_ENDPOINTS)."""
    return HttpResponseRedirect("https://example.com/landing?tclid=x")


def bench_tail(request: HttpRequest) -> HttpResponse:
    """What the bench's load tool asks for in its last seconds, so no short-link request is cut off uncounted."""
    return HttpResponse(status=204)


# --- QR codes ---------------------------------------------------------------------------------


def qr_response(url: str, kind: str, filename: str, *, download: bool) -> HttpResponse:
    qr = segno.make(url, error="m")
    buffer = BytesIO()
    if kind == "svg":
        qr.save(buffer, kind="svg", scale=8, border=2, dark="#111427", title=url)
        response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    else:
        qr.save(buffer, kind="png", scale=12, border=2)
        response = HttpResponse(buffer.getvalue(), content_type="image/png")
    if download:
        response["Content-Disposition"] = f'attachment; filename="{filename}.{kind}"'
    return response


def short_url(request: HttpRequest, link: Link) -> str:
    from django.conf import settings

    return settings.SITE_URL.rstrip("/") + reverse("redirect", args=[link.code])


# --- Links -------------------------------------------------------------------------------------


@workspace_member(ANY_STAFF)
def link_list(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    filters = LinkFilterForm(request.GET or None, workspace=workspace, channels=selectors.channels(workspace))
    criteria = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.links(
        workspace,
        partner_id=criteria.get("partner"),
        channel=criteria.get("channel", ""),
        search=criteria.get("q", "").strip(),
        archived=bool(criteria.get("archived")),
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.with_click_counts(workspace, list(page.object_list))
    can_manage = request.membership.role in MANAGERS
    context = {
        "filters": filters,
        "page": page,
        "can_manage": can_manage,
        "form": LinkForm(workspace=workspace) if can_manage else None,
        "has_domains": workspace.domains.filter(status=Domain.Status.VERIFIED).exists(),
    }
    template = (
        "referrals/links.html#rows" if request.htmx and request.htmx.target == "link-rows" else "referrals/links.html"
    )
    return render(request, template, context)


@workspace_member(MANAGERS, methods=WRITE)
def link_create(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    initial = {"partner": request.GET.get("partner")} if request.GET.get("partner") else None
    form = LinkForm(request.POST or None, workspace=workspace, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.create_link(
                workspace=workspace,
                partner=data["partner"],
                destination_url=data["destination_url"],
                code=data["code"],
                channel=data["channel"],
                campaign=data["campaign"],
                utm=form.utm(),
                created_by=request.user,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Link /r/{result.link.code} is ready for {result.link.partner.name}.")
            return redirect("link_detail", slug=workspace.slug, link_id=result.link.pk)
    has_domains = workspace.domains.filter(status=Domain.Status.VERIFIED).exists()
    return render(request, "referrals/link_new.html", {"form": form, "has_domains": has_domains})


def _link_of(request: WorkspaceRequest, link_id: int) -> Link:
    return get_for_workspace_or_404(
        Link.objects.select_related("partner", "program", "created_by"), request.workspace, pk=link_id
    )


@workspace_member(ANY_STAFF, methods=WRITE)
def link_detail(request: WorkspaceRequest, link_id: int) -> HttpResponse:
    link = _link_of(request, link_id)
    can_manage = request.membership.role in MANAGERS
    form = None
    if can_manage:
        form = LinkEditForm(
            request.POST or None, initial={field: getattr(link, field) for field in LinkEditForm.base_fields}
        )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Only owners and managers change links.")
        if form is not None and form.is_valid():
            data = form.cleaned_data
            try:
                services.update_link(
                    link=link,
                    destination_url=data["destination_url"],
                    channel=data["channel"],
                    campaign=data["campaign"],
                    utm=form.utm(),
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error("destination_url", exc.messages)
            else:
                messages.success(request, "Link saved. Visitors go to the new destination from now on.")
                return redirect("link_detail", slug=request.workspace.slug, link_id=link.pk)
    series = selectors.daily_clicks(request.workspace, link=link, days=90)
    counts = selectors.link_click_counts(request.workspace, [link.pk]).get(link.pk, selectors.ClickCounts())
    context = {
        "link": link,
        "short_url": short_url(request, link),
        "counts": counts,
        "chart": bar_chart(series),
        "form": form,
        "can_manage": can_manage,
    }
    return render(request, "referrals/link_detail.html", context)


@workspace_member(ANY_STAFF)
def link_qr(request: WorkspaceRequest, link_id: int, kind: str) -> HttpResponse:
    link = _link_of(request, link_id)
    return qr_response(short_url(request, link), kind, f"qr-{link.code}", download="download" in request.GET)


@workspace_member(MANAGERS, methods=POST)
def link_archive(request: WorkspaceRequest, link_id: int) -> HttpResponse:
    link = _link_of(request, link_id)
    if link.archived_at is None:
        services.archive_link(link=link, by=request.user)
        messages.success(request, f"/r/{link.code} is archived: visitors now see a “not found” page.")
    else:
        services.restore_link(link=link, by=request.user)
        messages.success(request, f"/r/{link.code} redirects again.")
    return redirect("link_detail", slug=request.workspace.slug, link_id=link.pk)


# --- Referral codes ------------------------------------------------------------------------------


@workspace_member(ANY_STAFF, methods=WRITE)
def code_list(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    can_manage = request.membership.role in MANAGERS
    form = ReferralCodeForm(request.POST or None, workspace=workspace) if can_manage else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only owners and managers create codes.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                row = services.create_referral_code(
                    workspace=workspace,
                    partner=data["partner"],
                    code=data["code"],
                    channel=data["channel"],
                    campaign=data["campaign"],
                    created_by=request.user,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Code {row.code} now credits {row.partner.name}.")
                return redirect("code_list", slug=workspace.slug)
    search = request.GET.get("q", "").strip()
    archived = request.GET.get("archived") == "1"
    rows = selectors.referral_codes(workspace, search=search, archived=archived)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "referrals/codes.html",
        {
            "form": form,
            "page": page,
            "search": search,
            "archived": archived,
            "can_manage": can_manage,
        },
    )


@workspace_member(MANAGERS, methods=POST)
def code_archive(request: WorkspaceRequest, code_id: int) -> HttpResponse:
    code = get_for_workspace_or_404(ReferralCode.objects, request.workspace, pk=code_id)
    services.archive_referral_code(code=code, by=request.user)
    messages.success(request, f"Code {code.code} is retired; it no longer credits anyone.")
    return redirect("code_list", slug=request.workspace.slug)


# --- Referrals --------------------------------------------------------------------------------------


@workspace_member(ANY_STAFF)
def referral_list(request: WorkspaceRequest) -> HttpResponse:
    rows = selectors.referrals(request.workspace)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "referrals/referrals.html", {"page": page})


# --- Deal registrations ------------------------------------------------------------------------------


@workspace_member(ANY_STAFF)
def deal_list(request: WorkspaceRequest) -> HttpResponse:
    filters = DealFilterForm(request.GET or None)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    rows = selectors.deal_registrations(request.workspace, status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "referrals/deals.html",
        {
            "filters": filters,
            "page": page,
            "status": status,
            "awaiting": selectors.deals_awaiting_review(request.workspace),
        },
    )


def _deal_of(request: WorkspaceRequest, deal_id: int) -> DealRegistration:
    return get_for_workspace_or_404(
        DealRegistration.objects.select_related("partner", "program", "decided_by", "submitted_by"),
        request.workspace,
        pk=deal_id,
    )


@workspace_member(ANY_STAFF)
def deal_detail(request: WorkspaceRequest, deal_id: int) -> HttpResponse:
    deal = _deal_of(request, deal_id)
    return render(
        request,
        "referrals/deal_detail.html",
        {
            "deal": deal,
            "form": DealDecisionForm(),
            "can_decide": request.membership.role in MANAGERS and deal.status == DealRegistration.Status.SUBMITTED,
        },
    )


@workspace_member(MANAGERS, methods=POST)
def deal_decide(request: WorkspaceRequest, deal_id: int, decision: str) -> HttpResponse:
    deal = _deal_of(request, deal_id)
    form = DealDecisionForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    try:
        if decision == "approve":
            referral = services.approve_deal_registration(deal=deal, by=request.user, reason=reason)
            messages.success(
                request,
                f"Approved. {deal.company} is protected for {deal.partner.name} "
                f"until {referral.protected_until:%d %b %Y}; they have been emailed.",
            )
        else:
            services.reject_deal_registration(deal=deal, by=request.user, reason=reason)
            messages.success(request, f"Rejected. {deal.partner.name} has been emailed your reason.")
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for errors in exc.message_dict.values():
                form.add_error("reason", errors)
        else:
            form.add_error(None, exc.messages)
        deal.refresh_from_db()
        return render(
            request,
            "referrals/deal_detail.html",
            {
                "deal": deal,
                "form": form,
                "can_decide": deal.status == DealRegistration.Status.SUBMITTED,
            },
            status=422,
        )
    return redirect("deal_detail", slug=request.workspace.slug, deal_id=deal.pk)
