"""Forms of notifications: a partner's choice of emails, a manager's announcement."""

from __future__ import annotations

from django import forms

from accounts.models import Workspace
from partners.models import PartnerGroup
from partners.notifications.models import Kind
from partners.notifications.preferences import DESCRIPTIONS


class EmailChoicesForm(forms.Form):
    """One checkbox per kind of email; the label says when it comes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for kind in Kind:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label, required=False, help_text=DESCRIPTIONS[kind.value]
            )


class AnnouncementForm(forms.Form):
    title = forms.CharField(label="Title", max_length=160)
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        help_text="Plain text. Leave a blank line between paragraphs; **bold** and web addresses work.",
    )
    group = forms.ModelChoiceField(
        label="Send to",
        queryset=PartnerGroup.objects.none(),
        required=False,
        empty_label="All partners",
    )

    def __init__(self, *args: object, workspace: Workspace, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        group_field = self.fields["group"]
        assert isinstance(group_field, forms.ModelChoiceField)
        group_field.queryset = PartnerGroup.objects.for_workspace(workspace).order_by("name")
