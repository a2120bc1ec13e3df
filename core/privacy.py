"""How a referred customer is named to a partner and to staff. Plain Python, so every page, PDF and
email calls the same rule and it is tested directly.

A partner may learn that a customer arrived, never who exactly: it sees the name the business shared,
or the email with all but its first letter hidden (`j•••@acme.com`). Staff see the name or the full
email; the tenant's own id is shown beside it, not instead of it.
"""

from __future__ import annotations

from typing import Any

_HIDDEN = "•••"
UNNAMED_CUSTOMER = "A customer"


def mask_email(email: str) -> str:
    """`john@acme.com` as `j•••@acme.com`. Anything that is not an email is hidden entirely."""
    local, at, domain = (email or "").strip().rpartition("@")
    if not at or not local or not domain:
        return _HIDDEN if email else ""
    return f"{local[0]}{_HIDDEN}@{domain}"


def _fields(customer: Any) -> tuple[str, str, str]:
    """(name, email, external id) from a referral, a dict or anything with `customer_*` attributes."""
    if isinstance(customer, dict):
        get = customer.get
    else:

        def get(name: str, default: Any = "") -> Any:
            return getattr(customer, name, default)

    return (
        (get("customer_name", "") or "").strip(),
        (get("customer_email", "") or "").strip(),
        (get("customer_external_id", "") or "").strip(),
    )


def customer_for_partner(customer: Any) -> str:
    """What a partner sees of a customer: the shared name, else the masked email, never an internal id."""
    if customer is None:
        return UNNAMED_CUSTOMER
    name, email, external_id = _fields(customer)
    if name:
        return name
    if email:
        return mask_email(email)
    # The tenant's id is often an email too; otherwise it is internal and means nothing to a partner.
    if "@" in external_id:
        return mask_email(external_id)
    return UNNAMED_CUSTOMER


def customer_for_staff(customer: Any) -> str:
    """What staff see of a customer as a person: the name, else the email, else the tenant's id."""
    if customer is None:
        return UNNAMED_CUSTOMER
    name, email, external_id = _fields(customer)
    return name or email or external_id or UNNAMED_CUSTOMER
