"""The free-text payout details of partners move into sealed payout methods (partners/payout_methods/).

A PayPal method with an email becomes a `paypal` method; anything else becomes a `manual` method
holding the old text, so finance still sees how to pay the partner. The plain-text columns are
emptied here and dropped by the next migration. Going back restores the text from the methods.
"""

import json

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import migrations
from django.utils import timezone

from core.sealed import seal, unseal

_OLD_LABELS = {"bank_transfer": "Bank transfer", "paypal": "PayPal", "wise": "Wise", "other": "Other"}


def _method_of(old_method: str, details: str) -> tuple[str, dict[str, str]]:
    text = details.strip()
    if old_method == "paypal":
        try:
            validate_email(text)
        except ValidationError:
            pass
        else:
            return "paypal", {"email": text.lower()}
    label = _OLD_LABELS.get(old_method, "")
    instructions = f"{label}: {text}" if label and text else (text or label)
    return "manual", {"instructions": instructions[:2000]}


def move_details(apps, schema_editor):
    Partner = apps.get_model("partners", "Partner")
    PayoutMethod = apps.get_model("partners", "PayoutMethod")
    now = timezone.now()
    has_method = set(PayoutMethod.objects.values_list("partner_id", flat=True))
    partners = Partner.objects.exclude(payout_method="", payout_details="")
    for partner in partners.iterator():
        if partner.pk not in has_method:
            method_type, fields = _method_of(partner.payout_method, partner.payout_details)
            PayoutMethod.objects.create(
                workspace_id=partner.workspace_id,
                partner_id=partner.pk,
                type=method_type,
                sealed_details=seal(json.dumps(fields, sort_keys=True)),
                updated_at=now,
            )
    partners.update(payout_method="", payout_details="")


def restore_details(apps, schema_editor):
    Partner = apps.get_model("partners", "Partner")
    PayoutMethod = apps.get_model("partners", "PayoutMethod")
    old = {"paypal": "paypal", "sepa": "bank_transfer"}
    for method in PayoutMethod.objects.iterator():
        fields = json.loads(unseal(method.sealed_details))
        if method.type == "sepa":
            text = f"{fields['account_holder']}\nIBAN {fields['iban']}\nBIC {fields['bic']}"
        else:
            text = "\n".join(fields.values())
        Partner.objects.filter(pk=method.partner_id).update(
            payout_method=old.get(method.type, "other"), payout_details=text
        )


class Migration(migrations.Migration):
    dependencies = [("partners", "0006_payout_methods_and_tax_forms")]

    operations = [migrations.RunPython(move_details, restore_details)]
