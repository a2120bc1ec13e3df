from __future__ import annotations

from django import forms

from reporting.privacy.retention import DEFAULT_RETENTION_MONTHS


class CustomerForm(forms.Form):
    customer = forms.CharField(
        label="Customer id",
        max_length=200,
        help_text="The id your systems send with the customer's leads and sales.",
    )


class EraseForm(forms.Form):
    customer = forms.CharField(widget=forms.HiddenInput, max_length=200)
    confirm = forms.BooleanField(
        label="I understand: the customer's email, name and other personal details are replaced for good.",
        required=True,
        error_messages={"required": "Tick the box to confirm the erasure."},
    )


class RetentionForm(forms.Form):
    months = forms.IntegerField(
        label="Keep individual clicks for (months)",
        min_value=1,
        max_value=120,
        help_text=f"Default {DEFAULT_RETENTION_MONTHS}. Older clicks are deleted each night; reports keep their daily "
        "totals, and clicks that brought a customer are kept with the commission they earned.",
    )
