"""Partners paid to the same account: compared by a keyed fingerprint, never by the details.

A payout method's identifying field (the IBAN, the PayPal address, the Stripe account) is reduced
to an HMAC under SECRET_KEY; partners whose fingerprints match share an account. The workspace's
fingerprints are kept per process and worked out again when any method changes (one small query
per set checks that).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max

from partners.models import PayoutMethod
from partners.payout_methods import row_details

_IDENTIFYING: dict[str, str] = {
    PayoutMethod.Type.SEPA: "iban",
    PayoutMethod.Type.PAYPAL: "email",
    PayoutMethod.Type.STRIPE_CONNECT: "account_id",
}
_cache: dict[int, tuple[tuple[int, datetime | None], dict[int, str]]] = {}


def payout_fingerprint(method_type: str, value: str) -> str:
    normal = "".join(value.split()).lower()
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"tandem.payout:{method_type}:{normal}".encode(), hashlib.sha256).hexdigest()


def _fingerprints(workspace_id: int) -> dict[int, str]:
    rows = PayoutMethod.objects.filter(workspace_id=workspace_id)
    state = rows.aggregate(n=Count("partner_id"), latest=Max("updated_at"))
    version = (state["n"], state["latest"])
    cached = _cache.get(workspace_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    found: dict[int, str] = {}
    for row in rows.filter(type__in=list(_IDENTIFYING)):
        value = row_details(row).fields.get(_IDENTIFYING[row.type], "")
        if value:
            found[row.partner_id] = payout_fingerprint(row.type, value)
    _cache[workspace_id] = (version, found)
    return found


def partners_sharing_payouts(workspace_id: int, partner_ids: set[int]) -> dict[int, set[int]]:
    """Each of `partner_ids` paid to the same account as other partners → those others."""
    prints = _fingerprints(workspace_id)
    by_print: dict[str, set[int]] = defaultdict(set)
    for partner, fingerprint in prints.items():
        by_print[fingerprint].add(partner)
    return {pk: by_print[prints[pk]] - {pk} for pk in partner_ids if pk in prints and len(by_print[prints[pk]]) > 1}
