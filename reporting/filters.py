"""The report filters of the dashboard, the partner detail page and the exports, read from the query
string so that a filtered page is a URL one can share."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from accounts.models import Workspace
from partners.models import Partner
from reporting import metrics

PRESETS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last 12 months"),
    ("custom", "Custom range"),
]
DEFAULT_PRESET = "30"
MAX_DAYS = 3 * 366
PARTNER_MENU_MAX = 200


def today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


class ReportFilterForm(forms.Form):
    # The CSV exports offered beside the filters (reporting/exports.py).
    export_kinds = [
        ("partners", "Partners"),
        ("clicks", "Clicks"),
        ("referrals", "Referrals"),
        ("conversions", "Conversions"),
        ("commissions", "Commissions"),
    ]

    range = forms.ChoiceField(label="Period", choices=PRESETS, required=False)
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    program = forms.TypedChoiceField(label="Program", coerce=int, required=False, empty_value=None)
    group = forms.TypedChoiceField(label="Group", coerce=int, required=False, empty_value=None)
    partner = forms.TypedChoiceField(label="Partner", coerce=int, required=False, empty_value=None)
    channel = forms.ChoiceField(label="Channel", required=False)
    currency = forms.ChoiceField(label="Currency", required=False)

    def __init__(self, data: Any, *, workspace: Workspace, partner: Partner | None = None) -> None:
        super().__init__(data)
        self.workspace = workspace
        self.fixed_partner = partner
        cast(forms.ChoiceField, self.fields["program"]).choices = [("", "All programs")] + [
            (p.pk, p.name) for p in metrics.programs(workspace)
        ]
        cast(forms.ChoiceField, self.fields["group"]).choices = [("", "All groups")] + [
            (g.pk, g.name) for g in metrics.groups(workspace)
        ]
        cast(forms.ChoiceField, self.fields["channel"]).choices = [("", "All channels"), ("(none)", "No channel")] + [
            (c, c) for c in metrics.channels(workspace)
        ]
        self.currencies = metrics.currencies(workspace)
        cast(forms.ChoiceField, self.fields["currency"]).choices = [("", "Default")] + [(c, c) for c in self.currencies]
        if partner is None:
            partners = list(
                Partner.objects.for_workspace(workspace)
                .order_by("name")
                .values_list("pk", "name")[: PARTNER_MENU_MAX + 1]
            )
            if len(partners) <= PARTNER_MENU_MAX:
                cast(forms.ChoiceField, self.fields["partner"]).choices = [("", "All partners"), *partners]
            else:
                # A menu of thousands of partners helps nobody and weighs on every page; the top
                # partners table links each partner's own page, and the id still filters here.
                self.fields["partner"] = forms.IntegerField(label="Partner ID", required=False, min_value=1)
        else:
            for name in ("program", "group", "partner", "currency"):
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        preset = data.get("range") or DEFAULT_PRESET
        start, end = data.get("start"), data.get("end")
        if preset == "custom" or (start and end and not self.data.get("range")):
            if not start or not end:
                raise forms.ValidationError("Choose both dates of a custom range.")
            if start > end:
                self.add_error("end", "The end comes before the start.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("start", "Choose at most three years.")
            data["range"] = "custom"
        else:
            days = int(preset)
            data["end"] = today()
            data["start"] = data["end"] - dt.timedelta(days=days - 1)
            data["range"] = preset
        return data

    def to_filters(self) -> metrics.Filters:
        """The cleaned form as metrics filters; an invalid form gives the default 30 days."""
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today()
        start = data.get("start") or end - dt.timedelta(days=int(DEFAULT_PRESET) - 1)
        program_id = data.get("program")
        partner = self.fixed_partner
        chosen = None if partner else data.get("partner")
        if chosen is not None and program_id is None:
            # A partner earns in its program's currency: report in it unless another was asked for.
            program_id_of_partner = (
                Partner.objects.for_workspace(self.workspace)
                .filter(pk=chosen)
                .values_list("program_id", flat=True)
                .first()
            )
            default = metrics.default_currency(self.workspace, program_id_of_partner)
        else:
            default = metrics.default_currency(self.workspace, program_id)
        currency = partner.program.currency if partner else (data.get("currency") or default)
        channel = data.get("channel") or None
        return metrics.Filters(
            start=start,
            end=end,
            currency=currency,
            program_id=partner.program_id if partner else program_id,
            group_id=None if partner else data.get("group"),
            partner_id=partner.pk if partner else data.get("partner"),
            channel="" if channel == "(none)" else channel,
        )

    def querystring(self, **overrides: Any) -> str:
        """The current filters as a query string, for the export links and shareable URLs."""
        values = {k: v for k, v in self.data.items() if v not in ("", None) and k in self.fields}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return urlencode(values)


def filters_from_request(
    data: Any, *, workspace: Workspace, partner: Partner | None = None
) -> tuple[ReportFilterForm, metrics.Filters]:
    data = data.copy()
    if not data.get("range") and not (data.get("start") and data.get("end")):
        data["range"] = DEFAULT_PRESET  # so the period menu shows the range the page reports
    form = ReportFilterForm(data, workspace=workspace, partner=partner)
    form.is_valid()
    return form, form.to_filters()
