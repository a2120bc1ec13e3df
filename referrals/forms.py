"""Forms of the referrals pages. They parse input; the rules live in referrals/services.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Workspace
from core.iso import CURRENCIES
from partners.models import Partner
from referrals.models import DealRegistration
from referrals.validation import UTM_FIELDS

UTM_LABELS = {
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "utm_term": "UTM term",
    "utm_content": "UTM content",
}


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (the rest at the top)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def partner_choices(workspace: Workspace) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label="Partner",
        queryset=Partner.objects.for_workspace(workspace).exclude(status=Partner.Status.REJECTED).order_by("name"),
        empty_label="Choose a partner",
    )


class LinkFieldsMixin(forms.Form):
    destination_url = forms.CharField(
        label="Destination",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "url", "inputmode": "url"}),
        help_text="A page on one of the workspace's verified domains.",
    )
    channel = forms.CharField(
        label="Channel", max_length=60, required=False, help_text="Where the link is used, e.g. newsletter, youtube."
    )
    campaign = forms.CharField(label="Campaign", max_length=120, required=False)
    utm_source = forms.CharField(label=UTM_LABELS["utm_source"], max_length=120, required=False)
    utm_medium = forms.CharField(label=UTM_LABELS["utm_medium"], max_length=120, required=False)
    utm_campaign = forms.CharField(label=UTM_LABELS["utm_campaign"], max_length=120, required=False)
    utm_term = forms.CharField(label=UTM_LABELS["utm_term"], max_length=120, required=False)
    utm_content = forms.CharField(label=UTM_LABELS["utm_content"], max_length=120, required=False)

    def utm(self) -> dict[str, str]:
        return {field: self.cleaned_data.get(field, "") for field in UTM_FIELDS}

    def utm_fields(self) -> list[forms.BoundField]:
        return [self[field] for field in UTM_FIELDS]


class LinkForm(LinkFieldsMixin):
    """A new link; `workspace` given means a manager choosing the partner, else the portal's own partner."""

    code = forms.CharField(
        label="Code (optional)",
        max_length=40,
        required=False,
        help_text="3–40 letters, digits or dashes. Leave empty for a short random code.",
    )
    field_order = ["partner", "destination_url", "code", "channel", "campaign", *UTM_FIELDS]

    def __init__(self, *args: Any, workspace: Workspace | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if workspace is not None:
            self.fields["partner"] = partner_choices(workspace)
            self.order_fields(self.field_order)


class LinkEditForm(LinkFieldsMixin):
    pass


class ReferralCodeForm(forms.Form):
    code = forms.CharField(
        label="Code (optional)",
        max_length=40,
        required=False,
        help_text="What customers type at checkout, e.g. PAULA10. Leave empty to generate one.",
    )
    channel = forms.CharField(label="Channel", max_length=60, required=False)
    campaign = forms.CharField(label="Campaign", max_length=120, required=False)

    def __init__(self, *args: Any, workspace: Workspace | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if workspace is not None:
            self.fields["partner"] = partner_choices(workspace)
            self.order_fields(["partner", "code", "channel", "campaign"])


class LinkFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Code, destination or partner", "enterkeyhint": "search"}),
    )
    partner = forms.TypedChoiceField(label="Partner", required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(label="Channel", required=False)
    archived = forms.BooleanField(label="Archived links", required=False)

    def __init__(self, *args: Any, workspace: Workspace, channels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partners = Partner.objects.for_workspace(workspace).order_by("name").values_list("pk", "name")
        cast(forms.ChoiceField, self.fields["partner"]).choices = [("", "All partners"), *partners]
        cast(forms.ChoiceField, self.fields["channel"]).choices = [("", "All channels"), *((c, c) for c in channels)]


class DealRegistrationForm(forms.Form):
    company = forms.CharField(label="Company", max_length=160)
    contact_name = forms.CharField(label="Contact name", max_length=160)
    contact_email = forms.EmailField(label="Contact email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    estimated_value = forms.DecimalField(
        label="Estimated deal value",
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    currency = forms.ChoiceField(label="Currency", choices=[(c, c) for c in sorted(CURRENCIES)])
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you know about the opportunity: timing, needs, who decides.",
    )


class DealDecisionForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to the partner. Required when you reject.",
    )


class DealFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "All"), *DealRegistration.Status.choices])
