"""Finance's payout pages under /w/<slug>/payouts/, and the partner's statements in the portal.

Only finance (owners and the finance role) see payouts: statements carry partners' bank details,
so managers and viewers get a 403 rather than a read-only view.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone

from accounts.tenancy import FINANCE, WorkspaceRequest, workspace_member
from partners.portal import PartnerRequest, partner_member
from reporting.payouts import selectors
from reporting.payouts.dates import suggested_period_end
from reporting.payouts.models import PayoutPeriod
from reporting.payouts.pdf import payout_csv, shown_lines, statement_pdf_bytes, stream_statements_zip
from reporting.payouts.preview import preview_payout_period
from reporting.payouts.statements import (
    approve_statements,
    close_payout_period,
    mark_statement_paid,
    mark_statements_paid,
)


class ClosePeriodForm(forms.Form):
    end = forms.DateField(
        label="Period ends on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day the period covers, before today. Approved commissions up to this day go on the statements.",
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["end"].widget.attrs["max"] = (today - timedelta(days=1)).isoformat()


def _pdf_response(data: bytes, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response


def _end_errors(form: ClosePeriodForm, exc: ValidationError) -> None:
    for message in exc.message_dict.get("end", exc.messages) if hasattr(exc, "error_dict") else exc.messages:
        form.add_error("end", message)


@workspace_member(FINANCE, methods=("GET", "HEAD", "POST"))
def payout_periods(request: WorkspaceRequest) -> HttpResponse:
    """The periods closed so far, and the close form: `?end=` previews the close (a dry run), POST closes."""
    workspace = request.workspace
    today = timezone.now().astimezone(UTC).date()
    previewing = request.method != "POST" and "end" in request.GET
    data = request.POST if request.method == "POST" else (request.GET if previewing else None)
    form = ClosePeriodForm(data, today=today, initial={"end": suggested_period_end(workspace=workspace, today=today)})
    preview = None
    if previewing and form.is_valid():
        try:
            preview = preview_payout_period(workspace=workspace, end=form.cleaned_data["end"], today=today)
        except ValidationError as exc:
            _end_errors(form, exc)
    if request.method == "POST" and form.is_valid():
        try:
            closed = close_payout_period(workspace=workspace, end=form.cleaned_data["end"], by=request.user)
        except ValidationError as exc:
            _end_errors(form, exc)
        else:
            if closed.created:
                messages.success(
                    request,
                    f"Period closed: {len(closed.statements)} statement{pluralize(len(closed.statements))} issued and being emailed.",
                )
            else:
                messages.info(request, "That period was already closed; here it is.")
            return redirect("payout_period_detail", workspace.slug, closed.period.pk)
    context: dict[str, Any] = {"form": form, "preview": preview, "today": today}
    if request.htmx and not request.htmx.boosted and previewing:
        # htmx swaps only 2xx answers: the error sits next to the field in a 200.
        return render(request, "reporting/payouts/periods.html#close", context)
    totals = selectors.period_totals(workspace)
    context["period_rows"] = [(period, totals.get(period.pk, [])) for period in selectors.periods(workspace)]
    return render(request, "reporting/payouts/periods.html", context, status=422 if form.errors else 200)


@workspace_member(FINANCE)
def payout_period_detail(request: WorkspaceRequest, period_id: int) -> HttpResponse:
    period = selectors.get_period_or_404(request.workspace, period_id)
    statements = selectors.period_statements(period)
    context = {"period": period, "statements": statements, "totals": selectors.totals_by_currency(statements)}
    template = "reporting/payouts/period_detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#statements"
    return render(request, template, context)


def _checked_statement_ids(request: WorkspaceRequest, period: PayoutPeriod) -> list[int]:
    ids = [int(v) for v in request.POST.getlist("statement") if v.isdigit()]
    # Only this period's statements: ids of another period (or workspace) are ignored.
    return list(selectors.period_statements(period).filter(pk__in=ids).values_list("pk", flat=True))


def _after_bulk_action(request: WorkspaceRequest, period: PayoutPeriod) -> HttpResponse:
    if request.htmx:
        statements = selectors.period_statements(period)
        context = {"period": period, "statements": statements, "totals": selectors.totals_by_currency(statements)}
        return render(request, "reporting/payouts/period_detail.html#statements", context)
    return redirect("payout_period_detail", request.workspace.slug, period.pk)


def _plural(count: int) -> str:
    return f"{count} statement{'s' if count != 1 else ''}"


@workspace_member(FINANCE, methods=("POST",))
def payout_period_mark_paid(request: WorkspaceRequest, period_id: int) -> HttpResponse:
    period = selectors.get_period_or_404(request.workspace, period_id)
    paid = mark_statements_paid(
        workspace=request.workspace,
        statement_ids=_checked_statement_ids(request, period),
        by=request.user,
        reference=request.POST.get("reference", "").strip(),
    )
    if paid:
        messages.success(request, f"Marked {_plural(len(paid))} paid.")
    else:
        messages.info(request, "Nothing to mark: choose statements that are not paid yet.")
    return _after_bulk_action(request, period)


@workspace_member(FINANCE, methods=("POST",))
def payout_period_approve(request: WorkspaceRequest, period_id: int) -> HttpResponse:
    period = selectors.get_period_or_404(request.workspace, period_id)
    approved = approve_statements(
        workspace=request.workspace, statement_ids=_checked_statement_ids(request, period), by=request.user
    )
    if approved:
        messages.success(request, f"Approved {_plural(len(approved))} for payment.")
    else:
        messages.info(request, "Nothing to approve: choose statements that are issued and not approved yet.")
    return _after_bulk_action(request, period)


@workspace_member(FINANCE)
def payout_period_zip(request: WorkspaceRequest, period_id: int) -> StreamingHttpResponse:
    period = selectors.get_period_or_404(request.workspace, period_id)
    response = StreamingHttpResponse(
        stream_statements_zip(selectors.period_statements(period).iterator()), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="statements-{period.end:%Y-%m-%d}.zip"'
    return response


@workspace_member(FINANCE)
def payout_period_csv(request: WorkspaceRequest, period_id: int) -> HttpResponse:
    period = selectors.get_period_or_404(request.workspace, period_id)
    response = HttpResponse(payout_csv(selectors.period_statements(period)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payouts-{period.end:%Y-%m-%d}.csv"'
    return response


@workspace_member(FINANCE)
def statement_detail(request: WorkspaceRequest, statement_id: int) -> HttpResponse:
    statement = selectors.get_statement_or_404(request.workspace, statement_id)
    payout = getattr(statement, "payout", None) if statement.status == statement.Status.PAID else None
    context = {"statement": statement, "lines": shown_lines(statement.lines.all(), for_partner=False), "payout": payout}
    return render(request, "reporting/payouts/statement_detail.html", context)


@workspace_member(FINANCE)
def statement_pdf(request: WorkspaceRequest, statement_id: int) -> HttpResponse:
    statement = selectors.get_statement_or_404(request.workspace, statement_id)
    return _pdf_response(statement_pdf_bytes(statement), f"{statement.number}.pdf", inline="inline" in request.GET)


@workspace_member(FINANCE, methods=("POST",))
def statement_approve(request: WorkspaceRequest, statement_id: int) -> HttpResponse:
    statement = selectors.get_statement_or_404(request.workspace, statement_id)
    if approve_statements(workspace=request.workspace, statement_ids=[statement.pk], by=request.user):
        messages.success(request, f"Statement {statement.number} approved for payment.")
    else:
        messages.info(request, f"Statement {statement.number} is already {statement.get_status_display().lower()}.")
    return redirect("statement_detail", request.workspace.slug, statement.pk)


@workspace_member(FINANCE, methods=("POST",))
def statement_mark_paid(request: WorkspaceRequest, statement_id: int) -> HttpResponse:
    statement = selectors.get_statement_or_404(request.workspace, statement_id)
    if mark_statement_paid(statement=statement, by=request.user, reference=request.POST.get("reference", "").strip()):
        messages.success(request, f"Statement {statement.number} marked paid.")
    else:
        messages.info(request, f"Statement {statement.number} was already paid.")
    return redirect("statement_detail", request.workspace.slug, statement.pk)


# --- Portal -----------------------------------------------------------------------------


@partner_member()
def portal_statements(request: PartnerRequest) -> HttpResponse:
    return render(
        request,
        "reporting/payouts/portal_statements.html",
        {
            "partner": request.partner,
            "statements": selectors.partner_statements(request.partner),
        },
    )


@partner_member()
def portal_statement_pdf(request: PartnerRequest, statement_id: int) -> HttpResponse:
    statement = selectors.get_partner_statement_or_404(request.partner, statement_id)
    return _pdf_response(statement_pdf_bytes(statement), f"{statement.number}.pdf")
