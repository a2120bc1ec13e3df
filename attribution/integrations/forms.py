"""Forms of the integration pages. They only parse input; the services in services.py and
csv_import.py (csv_rows.py for a file's rows) decide what is valid beyond the shape."""

from __future__ import annotations

from typing import Any

from django import forms

from attribution.integrations import csv_import, csv_rows
from attribution.integrations.models import CsvImport


class StripeSecretForm(forms.Form):
    signing_secret = forms.CharField(
        label="Signing secret",
        max_length=255,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "placeholder": "whsec_…", "spellcheck": "false"}),
        help_text="In Stripe: Developers → Webhooks → your Tandem endpoint → Signing secret.",
    )


class HubSpotSettingsForm(forms.Form):
    app_id = forms.CharField(
        label="App id", max_length=40, required=False, help_text="Optional: events from other apps are then ignored."
    )
    client_secret = forms.CharField(
        label="Client secret",
        max_length=255,
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="From your HubSpot app's Auth tab. Leave empty to keep the one saved.",
    )
    closed_won_stages = forms.CharField(
        label="Closed-won stage ids",
        max_length=1000,
        initial="closedwon",
        help_text="Comma-separated deal stage ids that mean won; the default pipeline uses closedwon.",
    )
    default_currency = forms.CharField(
        label="Default currency",
        max_length=3,
        required=False,
        help_text="For deals whose payload names no currency, e.g. USD.",
    )


class CsvUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="The file holds", choices=CsvImport.Kind.choices, initial=CsvImport.Kind.SALES, widget=forms.RadioSelect
    )
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=f"UTF-8, first row naming the columns, up to {csv_import.MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
    )

    def clean_file(self) -> Any:
        uploaded = self.cleaned_data["file"]
        if uploaded.size > csv_import.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {csv_import.MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it into parts."
            )
        return uploaded


class MappingForm(forms.Form):
    """One select per Tandem field, offering the file's columns."""

    def __init__(
        self, csv_file: CsvImport, *args: Any, initial_mapping: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.csv_file = csv_file
        choices = [("", "— not in the file —"), *((h, h) for h in csv_file.headers)]
        for spec in csv_rows.FIELDS[csv_file.kind]:
            self.fields[f"map_{spec.name}"] = forms.ChoiceField(
                label=spec.label + ("" if spec.required else " (optional)"),
                choices=choices,
                required=False,
                help_text=spec.help,  # start_import names what is missing
                initial=(initial_mapping or {}).get(spec.name, ""),
            )

    def mapping(self) -> dict[str, str]:
        return {spec.name: self.data.get(f"map_{spec.name}", "") or "" for spec in csv_rows.FIELDS[self.csv_file.kind]}
