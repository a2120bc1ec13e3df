"""Forms parse and check input; the services in partners/services/ do the writing.

Choice fields for programs and groups are built from the request's workspace, so a form can never
accept another workspace's row.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Workspace
from core.iso import COUNTRIES, CURRENCIES
from partners import selectors
from partners.models import Partner, PartnerGroup, Program

COUNTRY_CHOICES = [("", "—"), *COUNTRIES]
CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCIES)]


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError next to the field it names, or above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class _WorkspaceForm(forms.Form):
    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        if "program" in self.fields:
            self.fields["program"].queryset = selectors.programs(workspace=workspace)  # type: ignore[attr-defined]
        if "group" in self.fields:
            self.fields["group"].queryset = selectors.groups(workspace=workspace)  # type: ignore[attr-defined]


class ProgramForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    currency = forms.ChoiceField(
        label="Currency",
        choices=CURRENCY_CHOICES,
        initial="USD",
        help_text="Commissions and payouts of this program are in this currency.",
    )
    default_destination = forms.CharField(
        label="Default destination",
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://shop.example.com/"}),
        help_text="Where every partner's default link lands; a page on one of your verified domains. "
        "Left empty: the home page of your first verified domain.",
    )
    attribution_window_days = forms.IntegerField(
        label="Attribution window (days)",
        min_value=1,
        max_value=3650,
        initial=90,
        help_text="How long after a click a new lead is still credited to the partner.",
    )
    attribution_model = forms.ChoiceField(
        label="Attribution model",
        choices=Program.Model.choices,
        help_text="Which click wins when a customer clicked several partners' links. "
        "A code or an approved deal registration always outranks a click.",
    )
    hold_days = forms.IntegerField(
        label="Hold (days)",
        min_value=0,
        max_value=365,
        initial=30,
        help_text="Commissions wait this long before they can be approved, to absorb refunds.",
    )
    minimum_payout = forms.DecimalField(
        label="Minimum payout",
        min_value=0,
        max_digits=14,
        decimal_places=2,
        initial=0,
        help_text="Approved commissions below this total roll over to the next period.",
    )
    requires_tax_form = forms.BooleanField(
        label="Require a tax form before the first payout",
        required=False,
        help_text="Partners fill in a W-9 (US) or W-8BEN (everyone else) in their portal's payout settings.",
    )
    deal_protection_days = forms.IntegerField(
        label="Deal protection (days)",
        min_value=0,
        max_value=3650,
        initial=90,
        help_text="How long an approved deal registration keeps the customer for the partner.",
    )
    public_applications = forms.BooleanField(
        label="Accept public applications",
        required=False,
        help_text="Anyone with the link can apply; you approve or reject each one.",
    )
    terms = forms.CharField(
        label="Program terms",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Shown to applicants and in the partner portal.",
    )
    report_frequency = forms.ChoiceField(
        label="Partner performance report",
        choices=Program.ReportFrequency.choices,
        initial=Program.ReportFrequency.MONTHLY,
        required=False,
        help_text="How often partners are emailed their performance report (PDF).",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Optional so scripts posting the older field set keep working: left out, the program keeps its
        # frequency (or gets the model's default when new) instead of being switched off.
        if not data.get("report_frequency"):
            data.pop("report_frequency", None)
        if "default_destination" not in self.data:
            data.pop("default_destination", None)  # an older script's post keeps the destination set
        return data

    @classmethod
    def for_program(cls, program: Program, data: Any = None) -> ProgramForm:
        return cls(data, initial={name: getattr(program, name) for name in cls.base_fields})


class PartnerInviteForm(_WorkspaceForm):
    name = forms.CharField(label="Name", max_length=120)
    email = forms.EmailField(label="Email address")
    company = forms.CharField(label="Company", max_length=120, required=False)
    program = forms.ModelChoiceField(label="Program", queryset=Program.objects.none(), empty_label=None)
    group = forms.ModelChoiceField(
        label="Group", queryset=PartnerGroup.objects.none(), required=False, empty_label="No group"
    )


class PartnerEditForm(_WorkspaceForm):
    name = forms.CharField(label="Name", max_length=120)
    email = forms.EmailField(label="Email address")
    company = forms.CharField(label="Company", max_length=120, required=False)
    country = forms.ChoiceField(label="Country", choices=COUNTRY_CHOICES, required=False)
    program = forms.ModelChoiceField(label="Program", queryset=Program.objects.none(), empty_label=None)
    group = forms.ModelChoiceField(
        label="Group", queryset=PartnerGroup.objects.none(), required=False, empty_label="No group"
    )
    external_id = forms.CharField(
        label="External ID", max_length=120, required=False, help_text="Your own systems' id for this partner."
    )
    notes = forms.CharField(
        label="Internal notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only your team sees these.",
    )
    receives_reports = forms.BooleanField(
        label="Email performance reports",
        required=False,
        help_text="The program's scheduled performance report, with a PDF.",
    )

    @classmethod
    def for_partner(cls, partner: Partner, data: Any = None) -> PartnerEditForm:
        initial = {name: getattr(partner, name) for name in cls.base_fields}
        return cls(data, initial=initial, workspace=partner.workspace)


class NotesForm(forms.Form):
    notes = forms.CharField(label="Internal notes", required=False, widget=forms.Textarea(attrs={"rows": 4}))


class GroupChoiceForm(_WorkspaceForm):
    group = forms.ModelChoiceField(
        label="Group", queryset=PartnerGroup.objects.none(), required=False, empty_label="No group"
    )


class GroupForm(forms.Form):
    name = forms.CharField(label="Group name", max_length=80)


class PartnerFilterForm(_WorkspaceForm):
    """The partner list's search and filters; a bad value is dropped rather than shown as an error."""

    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Name, email or company", "enterkeyhint": "search"}),
    )
    status = forms.ChoiceField(label="Status", choices=[("", "Any status"), *Partner.Status.choices], required=False)
    group = forms.ModelChoiceField(
        label="Group", queryset=PartnerGroup.objects.none(), required=False, empty_label="Any group"
    )
    program = forms.ModelChoiceField(
        label="Program", queryset=Program.objects.none(), required=False, empty_label="Any program"
    )

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        group, program = data.get("group"), data.get("program")
        return {
            "search": data.get("q") or "",
            "status": data.get("status") or "",
            "group_id": group.pk if group else None,
            "program_id": program.pk if program else None,
        }


class ApplicationForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    company = forms.CharField(
        label="Company", max_length=120, required=False, widget=forms.TextInput(attrs={"autocomplete": "organization"})
    )
    country = forms.ChoiceField(label="Country", choices=COUNTRY_CHOICES, required=False)
    website = forms.URLField(
        label="Website",
        required=False,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "url"}),
    )
    promotion_plan = forms.CharField(
        label="How will you promote us?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Your audience, channels and expected volume help us review faster.",
    )
    accepted_terms = forms.BooleanField(label="I accept the program terms")


class ProfileForm(forms.Form):
    company = forms.CharField(label="Company", max_length=120, required=False)
    country = forms.ChoiceField(label="Country", choices=COUNTRY_CHOICES, required=False)
    receives_reports = forms.BooleanField(
        label="Email me performance reports",
        required=False,
        help_text="Your clicks, leads, customers and commissions, with a PDF.",
    )

    @classmethod
    def for_partner(cls, partner: Partner, data: Any = None) -> ProfileForm:
        return cls(data, initial={name: getattr(partner, name) for name in cls.base_fields})
