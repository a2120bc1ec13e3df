from __future__ import annotations

from django import forms

from accounts.outbound.events import EVENT_TYPES

EVENT_CHOICES = [(name, name) for name in EVENT_TYPES]


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/tandem", "inputmode": "url"}),
        help_text="Tandem sends a signed POST here for each event you pick.",
    )
    description = forms.CharField(label="Description (optional)", max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one event."},
    )


class EventsForm(forms.Form):
    events = forms.MultipleChoiceField(
        label="Events",
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one event."},
    )
