"""Tax details (W-9 / W-8BEN) as data, and the program setting that requires them before a first payout."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditLogEntry
from partners.tax_forms import tax_form_on_file
from partners.tax_forms.services import save_tax_form

pytestmark = pytest.mark.django_db

W8 = {
    "kind": "w8ben",
    "legal_name": "Kite & Key Studio Ltd",
    "country": "GB",
    "tin": "GB 123 4567 89",
    "address_line1": "1 High Street",
    "city": "London",
    "signature_name": "Kit Key",
}


def test_a_w8ben_is_kept_with_its_tin_masked_in_the_summary(workspace, partner):
    save_tax_form(partner=partner, data=W8, by=None)

    summary = tax_form_on_file(workspace, [partner.pk])[partner.pk]
    assert (summary.kind, summary.legal_name, summary.country, summary.tin_masked) == (
        "w8ben",
        "Kite & Key Studio Ltd",
        "GB",
        "•••••6789",
    )


def test_a_us_person_cannot_sign_a_w8ben(partner):
    with pytest.raises(ValidationError) as caught:
        save_tax_form(partner=partner, data={**W8, "country": "US"}, by=None)

    assert list(caught.value.message_dict) == ["country"]


def test_saving_the_same_form_again_is_not_a_second_change(workspace, partner):
    save_tax_form(partner=partner, data=W8, by=None)
    save_tax_form(partner=partner, data=W8, by=None)

    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="partner.tax_form_saved").count() == 1


def test_a_program_can_require_a_tax_form_through_the_api(api_client, program):
    response = api_client.patch(
        f"/api/v1/programs/{program.pk}", json.dumps({"requires_tax_form": True}), content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["requires_tax_form"] is True
    program.refresh_from_db()
    assert program.requires_tax_form is True
