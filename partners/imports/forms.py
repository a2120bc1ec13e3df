from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Workspace
from partners import selectors
from partners.models import PartnerGroup, Program


class PartnerImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="One partner a line under a heading line: email (required), name, company, country, group.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    program = forms.ModelChoiceField(label="Program", queryset=Program.objects.none(), empty_label=None)
    group = forms.ModelChoiceField(
        label="Group",
        queryset=PartnerGroup.objects.none(),
        required=False,
        empty_label="No group (or the file's group column)",
        help_text="For rows whose group column is empty.",
    )
    invite = forms.BooleanField(
        label="Email each new partner an invitation to the portal",
        required=False,
        help_text="Otherwise they are added as active, and you invite them when you are ready.",
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = selectors.programs(workspace=workspace)  # type: ignore[attr-defined]
        self.fields["group"].queryset = selectors.groups(workspace=workspace)  # type: ignore[attr-defined]
