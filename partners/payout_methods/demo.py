"""The demo workspace's payout methods and a tax form: a mix of every method, and partners without one."""

from __future__ import annotations

from accounts.models import User, Workspace
from partners.models import Partner
from partners.payout_methods import payout_methods_for
from partners.payout_methods.services import set_payout_method
from partners.tax_forms import tax_form_of
from partners.tax_forms.services import save_tax_form

# By partner email; Savvy Saver, Quickclick and Harbor have none, so a payout run shows who is blocked.
DEMO_METHODS: dict[str, tuple[str, dict[str, str]]] = {
    "partner@demo.test": ("paypal", {"email": "payouts@brightside.example"}),
    "hello@northwind.example": ("stripe_connect", {"account_id": "acct_1NorthwindDemo01"}),
    "team@kiteandkey.example": ("manual", {"instructions": "Wise transfer to team@kiteandkey.example (GBP)"}),
    "ana@dealfinder.example": ("paypal", {"email": "ana@dealfinder.example"}),
    "editor@techtalk.example": ("stripe_connect", {"account_id": "acct_1TechTalkDemo002"}),
    "sales@cloudbridge.example": (
        "sepa",
        {"account_holder": "Cloudbridge GmbH", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"},
    ),
    "ops@nordicit.example": ("sepa", {"account_holder": "Nordic IT AB", "iban": "SE4550000000058398257466", "bic": ""}),
}


def seed_payout_methods(*, workspace: Workspace, paula: Partner, by: User) -> None:
    """Give the demo partners their methods, leaving alone any a person has changed since."""
    partners = list(Partner.objects.for_workspace(workspace).filter(email__in=DEMO_METHODS))
    on_file = payout_methods_for(workspace, [partner.pk for partner in partners])
    for partner in partners:
        if partner.pk not in on_file:
            method_type, fields = DEMO_METHODS[partner.email]
            set_payout_method(partner=partner, method_type=method_type, fields=fields, by=by, notify=False)
    if tax_form_of(paula) is None:
        save_tax_form(
            partner=paula,
            data={
                "kind": "w9",
                "legal_name": "Brightside Media LLC",
                "country": "US",
                "tin": "12-3456789",
                "address_line1": "500 Market Street",
                "city": "San Francisco",
                "region": "CA",
                "postal_code": "94105",
                "signature_name": "Paula Partner",
            },
            by=by,
        )
