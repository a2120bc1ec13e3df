"""The managers' pages of what is added by hand: a bonus for a partner, and crediting an unattributed
event to a partner (the services are in attribution/adjustments.py)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.models import Workspace
from accounts.tenancy import MANAGERS, WorkspaceRequest, get_for_workspace_or_404, workspace_member
from attribution import adjustments
from attribution.forms import apply_errors
from attribution.models import InboundEvent
from core.currency import format_money
from partners.models import Partner

WRITE = ("GET", "HEAD", "POST")


def _earning_partners(workspace: Workspace) -> QuerySet[Partner]:
    return Partner.objects.for_workspace(workspace).filter(status=Partner.Status.ACTIVE).order_by("name")


class BonusForm(forms.Form):
    partner = forms.ModelChoiceField(label="Partner", queryset=Partner.objects.none())
    amount = forms.DecimalField(label="Amount", min_value=Decimal("0.01"), max_digits=16, decimal_places=4)
    currency = forms.CharField(label="Currency", min_length=3, max_length=3, initial="USD")
    description = forms.CharField(
        label="Reason", max_length=adjustments.MAX_DESCRIPTION, help_text="The partner reads it: “Bonus from …: …”"
    )
    request_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.for_workspace(workspace).order_by("name")  # type: ignore[attr-defined]


@workspace_member(MANAGERS, methods=WRITE)
def add_bonus(request: WorkspaceRequest) -> HttpResponse:
    """Give a partner a one-off bonus (from the commissions page or a partner's page, ?partner=<id>)."""
    workspace = request.workspace
    initial: dict[str, Any] = {"request_key": uuid.uuid4().hex}
    chosen = Partner.objects.for_workspace(workspace).filter(pk=request.GET.get("partner") or 0).first()
    if (request.GET.get("partner") or "").isdigit() and chosen is not None:
        initial |= {"partner": chosen, "currency": chosen.program.currency}
    form = BonusForm(request.POST or None, workspace=workspace, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            commission, _ = adjustments.add_manual_commission(
                workspace=workspace,
                partner=data["partner"],
                amount=data["amount"],
                currency=data["currency"],
                description=data["description"],
                by=request.user,
                request_key=data["request_key"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"Bonus of {format_money(commission.amount, commission.currency)} added for {commission.partner.name}.",
            )
            return redirect("commission_detail", slug=workspace.slug, commission_id=commission.pk)
    return render(request, "attribution/bonus_form.html", {"form": form})


class AssignForm(forms.Form):
    partner = forms.ModelChoiceField(label="Credit to", queryset=Partner.objects.none())

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = _earning_partners(workspace)  # type: ignore[attr-defined]


@workspace_member(MANAGERS, methods=WRITE)
def assign_event(request: WorkspaceRequest, event_pk: int) -> HttpResponse:
    """Credit an unattributed lead or sale to a partner; the workers then pay it under the reward rules."""
    workspace = request.workspace
    event = get_for_workspace_or_404(InboundEvent.objects, workspace, pk=event_pk)
    form = AssignForm(request.POST or None, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        partner = form.cleaned_data["partner"]
        try:
            adjustments.assign_event_to_partner(workspace=workspace, event=event, partner=partner, by=request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
        except adjustments.EventNotAssignable as exc:
            messages.error(request, str(exc))
            return redirect("inbound_events", slug=workspace.slug)
        else:
            messages.success(
                request, f"{event.get_kind_display()} {event.event_id} credited to {partner.name}; attributing it now."
            )
            return redirect("inbound_events", slug=workspace.slug)
    assignable = event.status == InboundEvent.Status.UNATTRIBUTED and event.kind in adjustments.ASSIGNABLE_KINDS
    return render(request, "attribution/assign_event.html", {"form": form, "event": event, "assignable": assignable})
