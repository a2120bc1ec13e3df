"""Built into every template (settings TEMPLATES "builtins"): `{{ referral|customer_for_partner }}` on portal pages and partners' PDFs,
`{{ referral|customer_for_staff }}` on staff pages. The rule itself is core/privacy.py."""

from __future__ import annotations

from typing import Any

from django import template

from core import privacy

register = template.Library()


@register.filter
def customer_for_partner(customer: Any) -> str:
    return privacy.customer_for_partner(customer)


@register.filter
def customer_for_staff(customer: Any) -> str:
    return privacy.customer_for_staff(customer)
