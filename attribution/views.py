"""The managers' pages of the attribution app: inbound events, commissions, reward rules and exchange rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Workspace
from accounts.tenancy import ANY_STAFF, MANAGERS, WorkspaceRequest, workspace_member
from attribution import selectors, services
from attribution.click_wait import click_buffer_state
from attribution.explain import explanation_lines, risk_lines
from attribution.forms import (
    BulkCommissionForm,
    CommissionFilterForm,
    EventFilterForm,
    ExchangeRateForm,
    RetryEventsForm,
    RewardRuleForm,
    apply_errors,
)
from attribution.fraud.queue import reply_of
from attribution.models import Commission, InboundEvent
from attribution.reward_terms import describe_terms
from attribution.rules import RuleInput, terms_of
from partners import selectors as partner_selectors

WRITE = ("GET", "HEAD", "POST")
POST = ("POST",)
PAGE_SIZE = 50
RATE_EDITORS = frozenset({Role.OWNER, Role.MANAGER, Role.FINANCE})


def _can_manage(request: WorkspaceRequest) -> bool:
    return request.membership.role in MANAGERS


# --- Inbound events --------------------------------------------------------------------------


@workspace_member(ANY_STAFF)
def inbound_events(request: WorkspaceRequest) -> HttpResponse:
    """Every lead, sale and refund received, with its state and why; unattributed ones can be sent again."""
    workspace = request.workspace
    filters = EventFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.events(
        workspace, status=data.get("status", ""), kind=data.get("kind", ""), search=(data.get("q") or "").strip()
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "page": page,
        "counts": selectors.event_counts(workspace),
        "can_manage": _can_manage(request),
        "filtered": bool(data and any(data.values())),
        "statuses": InboundEvent.Status.choices,
    }
    rows_only = request.htmx and not request.htmx.boosted
    if not rows_only:  # the page's line on the click flusher; the rows partial does not show it
        context["click_buffer"] = click_buffer_state(workspace_id=workspace.pk)
    template = "attribution/events.html#rows" if rows_only else "attribution/events.html"
    return render(request, template, context)


@workspace_member(MANAGERS, methods=POST)
def retry_events(request: WorkspaceRequest) -> HttpResponse:
    form = RetryEventsForm(request.POST)
    if form.is_valid():
        count = services.retry_events(
            workspace=request.workspace,
            ids=form.cleaned_data["ids"] or None,
            reason_code=form.cleaned_data["reason_code"] or None,
            by=request.user,
        )
        if count:
            messages.success(request, f"{count} event{'s' if count != 1 else ''} sent for attribution again.")
        else:
            messages.info(request, "Nothing to send again: only unattributed or failed events can be retried.")
    else:
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()) or "Select the events to send again.")
    return redirect(reverse("inbound_events", args=[request.workspace.slug]) + _back_query(request))


def _back_query(request: WorkspaceRequest) -> str:
    query = request.POST.get("back", "")
    return f"?{query}" if query and "\n" not in query else ""


# --- Commissions ---------------------------------------------------------------------------


def _commission_filters(workspace: Workspace, query: QueryDict) -> tuple[CommissionFilterForm, dict[str, Any] | None]:
    """The filter form and its values ({} when none are given, None when they do not validate)."""
    filters = CommissionFilterForm(query or None, workspace=workspace)
    if not filters.is_bound:
        return filters, {}
    return filters, (filters.cleaned_data if filters.is_valid() else None)


def _filtered_commissions(
    workspace: Workspace, data: dict[str, Any], *, by_status: bool = True
) -> QuerySet[Commission]:
    partner, program = data.get("partner"), data.get("program")
    return selectors.commissions(
        workspace,
        status=data.get("status", "") if by_status else "",
        partner_id=partner.pk if partner else None,
        program_id=program.pk if program else None,
        earned_from=data.get("start"),
        earned_until=data.get("end"),
    )


@workspace_member(ANY_STAFF)
def commission_list(request: WorkspaceRequest) -> HttpResponse:
    """Commissions with combinable filters kept in the URL, a one-line summary, and bulk decisions on top."""
    workspace = request.workspace
    filters, data = _commission_filters(workspace, request.GET)
    rows = _filtered_commissions(workspace, data) if data is not None else Commission.objects.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    can_manage = _can_manage(request)
    query = request.GET.copy()
    query.pop("page", None)
    data = data or {}
    context = {
        "filters": filters,
        "page": page,
        # The summary covers the filtered list in every status, so each status reads as a tab with its count.
        "totals": selectors.commission_totals(workspace, rows=_filtered_commissions(workspace, data, by_status=False)),
        "status": data.get("status", ""),
        "start": data.get("start"),
        "end": data.get("end"),
        "query": query.urlencode(),
        "can_manage": can_manage,
        "due": selectors.due_commission_count(workspace) if can_manage else 0,
        "filtered": any(data.values()),
        "bulk": BulkCommissionForm(),
    }
    template = (
        "attribution/commissions.html#rows"
        if request.htmx and not request.htmx.boosted
        else "attribution/commissions.html"
    )
    return render(request, template, context)


@workspace_member(ANY_STAFF)
def commission_export(request: WorkspaceRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered commissions as a CSV file (the same filters as the list)."""
    filters, data = _commission_filters(request.workspace, request.GET)
    if data is None:
        messages.error(
            request, "Fix the filters first: " + " ".join(str(e) for errs in filters.errors.values() for e in errs)
        )
        return redirect(reverse("commission_list", args=[request.workspace.slug]))
    rows = _filtered_commissions(request.workspace, data)
    response = StreamingHttpResponse(selectors.commissions_csv(rows), content_type="text/csv; charset=utf-8")
    today = timezone.now().date()
    response["Content-Disposition"] = (
        f'attachment; filename="commissions-{request.workspace.slug}-{today:%Y-%m-%d}.csv"'
    )
    return response


@workspace_member(MANAGERS, methods=POST)
def commission_bulk(request: WorkspaceRequest) -> HttpResponse:
    """Approve, or reject with a reason, the selected commissions, or every one matching the filters."""
    back = reverse("commission_list", args=[request.workspace.slug]) + _back_query(request)
    data = request.POST.copy()
    if data.get("scope") == "matching":
        _, filters = _commission_filters(request.workspace, QueryDict(request.POST.get("back", "")))
        if filters is None:
            messages.error(request, "The filters are not valid; nothing was changed.")
            return redirect(back)
        rows = _filtered_commissions(request.workspace, filters)
        data.setlist("ids", [str(pk) for pk in selectors.decidable_commission_ids(rows)])
    form = BulkCommissionForm(data)
    if not form.is_valid():
        if "ids" in form.errors:
            messages.error(request, "Select the commissions first.")
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    ids, reason = form.cleaned_data["ids"], form.cleaned_data["reason"]
    if form.cleaned_data["action"] == "approve":
        done = services.approve_commissions(workspace=request.workspace, ids=ids, by=request.user)
        verb = "approved"
    else:
        done = services.reject_commissions(workspace=request.workspace, ids=ids, reason=reason, by=request.user)
        verb = "rejected"
    skipped = len(set(ids)) - len(done)
    text = f"{len(done)} commission{'s' if len(done) != 1 else ''} {verb}."
    if skipped:
        text += f" {skipped} skipped: only pending{' or approved' if verb == 'rejected' else ''} ones can be {verb}."
    messages.success(request, text)
    return redirect(back)


@workspace_member(MANAGERS, methods=POST)
def commission_approve_due(request: WorkspaceRequest) -> HttpResponse:
    """Approve every pending commission whose hold has ended (what the API's `due: true` does)."""
    done = services.approve_commissions(workspace=request.workspace, due=True, by=request.user)
    if done:
        messages.success(
            request, f"{len(done)} commission{'s' if len(done) != 1 else ''} approved: their hold had ended."
        )
    else:
        messages.info(request, "Nothing to approve: no pending commission has reached the end of its hold.")
    return redirect(reverse("commission_list", args=[request.workspace.slug]) + _back_query(request))


@workspace_member(ANY_STAFF)
def commission_detail(request: WorkspaceRequest, commission_id: int) -> HttpResponse:
    workspace = request.workspace
    commission = selectors.get_commission_or_404(workspace, commission_id)
    context = {
        "commission": commission,
        "lines": explanation_lines(commission.explanation, held=commission.status == Commission.Status.IN_REVIEW)
        + risk_lines(commission.risk_score, commission.risk_reasons),
        "entries": selectors.ledger_of_commission(workspace, commission),
        "reversals": selectors.reversals_of_commission(workspace, commission),
        "can_manage": _can_manage(request),
        "reply": reply_of(workspace, commission),
    }
    return render(request, "attribution/commission_detail.html", context)


# --- Reward rules -----------------------------------------------------------------------------


@workspace_member(ANY_STAFF)
def reward_overview(request: WorkspaceRequest) -> HttpResponse:
    """Each program with the rules in effect."""
    workspace = request.workspace
    programs = list(partner_selectors.programs(workspace=workspace))
    for program in programs:
        services.ensure_default_reward_rule(program)
        program.current_rules = selectors.current_rules(workspace, program)  # type: ignore[attr-defined]
    return render(request, "attribution/reward_overview.html", {"programs": programs})


def _plain_amounts(initial: dict[str, Any]) -> dict[str, Any]:
    """Amounts as a person types them: "20", not the stored "20.0000"; no lead reward is an empty field."""
    plain: dict[str, Any] = {}
    for field in ("sale_value", "lead_amount", "cap_per_customer", "min_sale_amount"):
        value = initial.get(field)
        if isinstance(value, Decimal):
            plain[field] = Decimal(f"{value.normalize():f}") if value else (None if field == "lead_amount" else value)
    return plain


@workspace_member(ANY_STAFF, methods=WRITE)
def reward_rules(request: WorkspaceRequest, program_id: int) -> HttpResponse:
    """A program's rules and every version; managers add a version effective from a date."""
    workspace = request.workspace
    program = selectors.get_program_or_404(workspace, program_id)
    if request.method == "POST" and not _can_manage(request):
        raise PermissionDenied("Only owners and managers change reward rules.")
    services.ensure_default_reward_rule(program)
    current = selectors.current_rules(workspace, program)
    program_rule = next((r for r in current if r.group_id is None), None)
    initial = {}
    if program_rule is not None:
        initial = {
            f: getattr(program_rule, f)
            for f in (
                "name",
                "sale_type",
                "sale_value",
                "duration",
                "duration_months",
                "lead_amount",
                "cap_per_customer",
                "min_sale_amount",
            )
        }
        initial.update(_plain_amounts(initial))
    form = RewardRuleForm(request.POST or None, workspace=workspace, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule = services.add_reward_rule_version(
                program=program,
                group=data["group"],
                effective_from=data["effective_from"],
                by=request.user,
                data=RuleInput(
                    name=data["name"],
                    sale_type=data["sale_type"],
                    sale_value=data["sale_value"],
                    duration=data["duration"],
                    duration_months=data["duration_months"],
                    lead_amount=data["lead_amount"] or Decimal("0"),
                    cap_per_customer=data["cap_per_customer"],
                    min_sale_amount=data["min_sale_amount"],
                ),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, f"“{rule.name}” version {rule.version} applies from {rule.effective_from:%d %b %Y %H:%M}."
            )
            return redirect("reward_rules", slug=workspace.slug, program_id=program.pk)
    versions = list(selectors.reward_rules(workspace, program).order_by("group__name", "-effective_from", "-version"))
    for version in versions:
        # The same words the partner reads on its portal: "20% of every payment for 12 months".
        version.terms_text = describe_terms(terms_of(version), currency=program.currency)  # type: ignore[attr-defined]
    return render(
        request,
        "attribution/reward_rules.html",
        {
            "program": program,
            "current": current,
            "versions": versions,
            "form": form,
            "can_manage": _can_manage(request),
        },
    )


# --- Exchange rates ---------------------------------------------------------------------------


@workspace_member(ANY_STAFF, methods=WRITE)
def exchange_rates(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    can_edit = request.membership.role in RATE_EDITORS
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only owners, managers and finance add exchange rates.")
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rate, created = services.add_exchange_rate(
                workspace=workspace,
                day=data["date"],
                from_currency=data["from_currency"],
                to_currency=data["to_currency"],
                rate=data["rate"],
                by=request.user,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if created:
                messages.success(request, f"{rate} added; sales that waited for it are processed again.")
            else:
                messages.info(request, f"{rate} was already there.")
            return redirect("exchange_rates", slug=workspace.slug)
    page = Paginator(selectors.exchange_rates(workspace), PAGE_SIZE).get_page(request.GET.get("page"))
    waiting = (
        selectors.events(workspace, status=InboundEvent.Status.UNATTRIBUTED)
        .filter(reason_code="no_exchange_rate")
        .count()
    )
    return render(
        request,
        "attribution/exchange_rates.html",
        {"form": form, "page": page, "can_edit": can_edit, "waiting": waiting},
    )
