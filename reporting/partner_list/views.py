"""The staff partner list page, its CSV export and its bulk changes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import ANY_STAFF, MANAGERS, WorkspaceRequest, workspace_member
from partners import selectors
from partners.forms import PartnerFilterForm
from partners.models import Partner
from partners.services import bulk
from reporting.partner_list.figures import partners_csv, sorted_by, with_figures
from reporting.partner_list.forms import BulkPartnerForm

PAGE_SIZE = 25
FILTER_KEYS = ("q", "status", "group", "program")


def _filtered(request: WorkspaceRequest, query: QueryDict) -> tuple[PartnerFilterForm, QuerySet[Partner], str]:
    """The filter form, the matching partners with their figures in the asked order, and that order."""
    filters = PartnerFilterForm(query or None, workspace=request.workspace)
    partners = with_figures(selectors.partner_list(workspace=request.workspace, **filters.filters()))
    partners, sort = sorted_by(partners, query.get("sort", ""))
    return filters, partners, sort


@workspace_member(ANY_STAFF)
def partner_list(request: WorkspaceRequest) -> HttpResponse:
    """Partners with their all-time figures, sortable, filterable, selectable for bulk changes."""
    filters, partners, sort = _filtered(request, request.GET)
    page = Paginator(partners, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    can_manage = request.membership.role in MANAGERS
    context = {
        "filters": filters,
        "page": page,
        "sort": sort,
        "query": query.urlencode(),
        "filtered": any(request.GET.get(k) for k in FILTER_KEYS),
        "can_manage": can_manage,
        "bulk": BulkPartnerForm(workspace=request.workspace) if can_manage else None,
    }
    # The search box and filters ask for just the rows; a full page load (or a bookmark) gets everything.
    if request.htmx and not request.htmx.boosted:
        return render(request, "partners/list.html#rows", context)
    return render(request, "partners/list.html", context)


@workspace_member(ANY_STAFF)
def partner_export(request: WorkspaceRequest) -> StreamingHttpResponse:
    """The filtered partners with their figures as a CSV file (same filters and order as the list)."""
    _, partners, _ = _filtered(request, request.GET)
    response = StreamingHttpResponse(partners_csv(partners), content_type="text/csv; charset=utf-8")
    today = timezone.now().date()
    response["Content-Disposition"] = f'attachment; filename="partners-{request.workspace.slug}-{today:%Y-%m-%d}.csv"'
    return response


def _back(request: WorkspaceRequest) -> str:
    query = request.POST.get("back", "")
    url = reverse("partner_list", args=[request.workspace.slug])
    return f"{url}?{query}" if query and "\n" not in query else url


def _summary(outcome: bulk.BulkOutcome, verb: str) -> str:
    """ "3 partners suspended. 1 skipped: …", or for a message "Message sent to 3 partners." """
    count = len(outcome.done)
    partners = f"{count} partner{'s' if count != 1 else ''}"
    text = f"Message sent to {partners}." if verb == "messaged" else f"{partners} {verb}."
    if outcome.skipped:
        text += f" {len(outcome.skipped)} skipped: " + " ".join(outcome.skipped[:3])
        if len(outcome.skipped) > 3:
            text += f" (and {len(outcome.skipped) - 3} more)"
    return text


@workspace_member(MANAGERS, methods=("POST",))
def partner_bulk(request: WorkspaceRequest) -> HttpResponse:
    """Move, suspend, reactivate or message the ticked partners, or every partner the filters match."""
    back = _back(request)
    data = request.POST.copy()
    if data.get("scope") == "matching":
        _, partners, _ = _filtered(request, QueryDict(request.POST.get("back", "")))
        data.setlist("ids", [str(pk) for pk in partners.values_list("pk", flat=True)])
    form = BulkPartnerForm(data, workspace=request.workspace)
    if not form.is_valid():
        if "ids" in form.errors:
            messages.error(request, "Tick the partners first.")
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    ids: list[int] = form.cleaned_data["ids"]
    action: str = form.cleaned_data["action"]
    kwargs: dict[str, Any] = {"workspace": request.workspace, "ids": ids, "by": request.user}
    try:
        if action == "move":
            group = form.cleaned_data["group"]
            outcome = bulk.move_partners_to_group(group=group, **kwargs)
            verb = f"now in {group.name}" if group else "now in no group"
        elif action == "suspend":
            outcome, verb = bulk.suspend_partners(**kwargs), "suspended"
        elif action == "reactivate":
            outcome, verb = bulk.reactivate_partners(**kwargs), "reactivated"
        else:
            outcome = bulk.message_partners(
                subject=form.cleaned_data["subject"], body=form.cleaned_data["body"], **kwargs
            )
            verb = "messaged"
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _summary(outcome, verb))
    return redirect(back)
