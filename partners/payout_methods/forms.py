"""The payout method form of the portal and of the staff partner page: one choice, the fields per method.

The form only parses; `clean_payout_fields` (details.py) and `set_payout_method` decide what is valid.
"""

from __future__ import annotations

from typing import Any

from django import forms

from core.iso import COUNTRIES
from partners.models import PayoutMethod, TaxForm
from partners.payout_methods.details import FIELDS

METHOD_CHOICES = [
    (PayoutMethod.Type.STRIPE_CONNECT, "Stripe (to your Stripe account)"),
    (PayoutMethod.Type.PAYPAL, "PayPal"),
    (PayoutMethod.Type.SEPA, "Bank transfer (SEPA, in euros)"),
    (PayoutMethod.Type.MANUAL, "Another way (paid outside Tandem)"),
]


class PayoutMethodForm(forms.Form):
    type = forms.ChoiceField(label="How would you like to be paid?", choices=METHOD_CHOICES, widget=forms.RadioSelect)
    account_id = forms.CharField(
        label="Stripe account ID",
        required=False,
        max_length=64,
        help_text="Starts with acct_, shown in your Stripe dashboard.",
    )
    email = forms.CharField(label="PayPal email", required=False, max_length=254)
    account_holder = forms.CharField(label="Account holder", required=False, max_length=70)
    iban = forms.CharField(
        label="IBAN", required=False, max_length=42, help_text="Such as DE44 5001 0517 5407 3249 31."
    )
    bic = forms.CharField(
        label="BIC (SWIFT code)", required=False, max_length=11, help_text="Optional when Tandem knows your bank."
    )
    instructions = forms.CharField(
        label="How to pay you", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def chosen_fields(self) -> dict[str, Any]:
        method_type = self.cleaned_data["type"]
        return {name: self.cleaned_data.get(name, "") for name in FIELDS[method_type]}

    def fields_of(self, method_type: str) -> list[forms.BoundField]:
        return [self[name] for name in FIELDS[method_type]]

    def method_groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(type, label, fields) per method, for the template."""
        return [(value, label, self.fields_of(value)) for value, label in METHOD_CHOICES]


class TaxDetailsForm(forms.Form):
    """The W-9 / W-8BEN questions; `save_tax_form` checks them."""

    kind = forms.ChoiceField(
        label="Which form applies to you?",
        choices=[
            (TaxForm.Kind.W9, "W-9: I am a US citizen, resident or US company"),
            (TaxForm.Kind.W8BEN, "W-8BEN: I am not a US person"),
        ],
        widget=forms.RadioSelect,
    )
    legal_name = forms.CharField(label="Legal name (as on your tax return)", max_length=200)
    business_name = forms.CharField(label="Business name, if different", required=False, max_length=200)
    country = forms.ChoiceField(label="Country of residence for tax purposes")
    tin = forms.CharField(
        label="Taxpayer identification number",
        max_length=40,
        help_text="W-9: your SSN or EIN. W-8BEN: the tax number of your country of residence.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    address_line1 = forms.CharField(label="Address", max_length=200)
    address_line2 = forms.CharField(label="Address, line 2", required=False, max_length=200)
    city = forms.CharField(label="City", max_length=100)
    region = forms.CharField(label="State or province", required=False, max_length=100)
    postal_code = forms.CharField(label="Postal code", required=False, max_length=20)
    signature_name = forms.CharField(
        label="Signature: type your full name",
        max_length=200,
        help_text="Under penalties of perjury, I certify that the information above is true, correct and complete.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *COUNTRIES]  # type: ignore[attr-defined]
