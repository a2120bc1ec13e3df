"""Forms of the attribution pages: filters, bulk decisions, reward rule versions and exchange rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Workspace
from attribution.models import Commission, InboundEvent, RewardRule
from partners.models import Partner, PartnerGroup, Program


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError next to the fields it names (the rest above the form)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class EventFilterForm(forms.Form):
    status = forms.ChoiceField(label="State", required=False, choices=[("", "Any state"), *InboundEvent.Status.choices])
    kind = forms.ChoiceField(label="Type", required=False, choices=[("", "Any type"), *InboundEvent.Kind.choices])
    q = forms.CharField(label="Event or customer id", required=False, max_length=200)


class CommissionFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *Commission.Status.choices])
    partner = forms.ModelChoiceField(
        label="Partner", required=False, queryset=Partner.objects.none(), empty_label="Any partner"
    )
    program = forms.ModelChoiceField(
        label="Program", required=False, queryset=Program.objects.none(), empty_label="Any program"
    )
    start = forms.DateField(label="Earned from", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="Earned until", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "Choose a day on or after the first day.")
        return data

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.for_workspace(workspace).order_by("name")  # type: ignore[attr-defined]
        self.fields["program"].queryset = Program.objects.for_workspace(workspace).order_by("name")  # type: ignore[attr-defined]


class BulkCommissionForm(forms.Form):
    ACTIONS = [("approve", "Approve"), ("reject", "Reject")]

    action = forms.ChoiceField(label="Action", choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(label="Commissions", coerce=int, choices=[])
    reason = forms.CharField(
        label="Reason (shown to the partner)",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "Needed to reject"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id may be submitted; the service only touches the workspace's own rows.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids", [])
        self.fields["ids"].choices = [(value, value) for value in raw if str(value).isdigit()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns (the stubs allow None)
        if data.get("action") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Tell the partner why; they will see this reason.")
        return data


class RetryEventsForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(label="Events", coerce=int, choices=[], required=False)
    reason_code = forms.CharField(required=False, max_length=40)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(value, value) for value in raw if str(value).isdigit()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns (the stubs allow None)
        if not data.get("ids") and not data.get("reason_code"):
            raise ValidationError("Select the events to send again.")
        return data


class RewardRuleForm(forms.Form):
    name = forms.CharField(label="Name partners see", max_length=120)
    sale_type = forms.ChoiceField(label="Sale reward", choices=RewardRule.SaleType.choices)
    sale_value = forms.DecimalField(
        label="Percent or amount",
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=4,
        help_text="20 means 20% for a percent rule; an amount in the program's currency for a flat one",
    )
    duration = forms.ChoiceField(
        label="Pays for",
        choices=[
            (RewardRule.Duration.ONE_TIME, "The first sale only"),
            (RewardRule.Duration.MONTHS, "A number of months"),
            (RewardRule.Duration.LIFETIME, "As long as the customer pays"),
        ],
    )
    duration_months = forms.IntegerField(
        label="Months",
        required=False,
        min_value=1,
        max_value=600,
        help_text="When it pays for a number of months: counted from the customer's first sale",
    )
    lead_amount = forms.DecimalField(
        label="Lead reward",
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        help_text="A flat amount per new referral; empty for none",
    )
    cap_per_customer = forms.DecimalField(
        label="Cap per customer", required=False, min_value=Decimal("0"), max_digits=14, decimal_places=2
    )
    min_sale_amount = forms.DecimalField(
        label="Minimum sale", required=False, min_value=Decimal("0"), max_digits=14, decimal_places=2
    )
    group = forms.ModelChoiceField(
        label="For", required=False, queryset=PartnerGroup.objects.none(), empty_label="Every partner of the program"
    )
    effective_from = forms.DateTimeField(
        label="Effective from",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: now. Sales before this keep the version they had.",
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = PartnerGroup.objects.for_workspace(workspace).order_by("name")  # type: ignore[attr-defined]


class ExchangeRateForm(forms.Form):
    date = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))
    from_currency = forms.CharField(label="From", min_length=3, max_length=3, help_text="The sale's currency, e.g. EUR")
    to_currency = forms.CharField(label="To", min_length=3, max_length=3, help_text="The program's currency, e.g. USD")
    rate = forms.DecimalField(
        label="Rate",
        min_value=Decimal("0.0000000001"),
        max_digits=20,
        decimal_places=10,
        help_text="1 From = this many To",
    )
