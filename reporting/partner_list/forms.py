"""The partner list's bulk form: which partners (ticked ids, or every partner the filters match) and what
to do with them."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Workspace
from partners import selectors
from partners.models import PartnerGroup


class BulkPartnerForm(forms.Form):
    ACTIONS = [
        ("move", "Move to group"),
        ("suspend", "Suspend"),
        ("reactivate", "Reactivate"),
        ("message", "Send a message"),
    ]

    action = forms.ChoiceField(label="Action", choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(label="Partners", coerce=int, choices=[])
    group = forms.ModelChoiceField(
        label="Group",
        queryset=PartnerGroup.objects.none(),
        required=False,
        empty_label="No group",
        widget=forms.Select(attrs={"id": "bulk-group"}),
    )
    subject = forms.CharField(label="Subject", required=False, max_length=150)
    body = forms.CharField(label="Message", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = selectors.groups(workspace=workspace)  # type: ignore[attr-defined]
        # Any id may be submitted; the services only touch the workspace's own partners.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids", [])
        self.fields["ids"].choices = [(value, value) for value in raw if str(value).isdigit()]  # type: ignore[attr-defined]
