"""Writes of the referrals app: links, referral codes, deal registrations and referrals.

The code lives in submodules by what it owns (links, codes, customers, deals); this package
re-exports every name so `from referrals.services import x` and `services.x` keep working.
"""

from __future__ import annotations

from referrals.services._common import _actor_label, _check_partner
from referrals.services.codes import (
    _generated_referral_code,
    archive_referral_code,
    create_referral_code,
    normalize_referral_code,
)
from referrals.services.customers import FREE_MAIL_DOMAINS, email_domain, mark_referral_converted
from referrals.services.deals import (
    _clean_money,
    _flag_earlier_deals,
    _open_deals_for,
    _require_submitted,
    approve_deal_registration,
    expire_deal_registrations,
    find_deal_conflicts,
    reject_deal_registration,
    send_deal_decision,
    submit_deal_registration,
)
from referrals.services.links import LinkResult, archive_link, create_link, restore_link, update_link

__all__ = [
    "FREE_MAIL_DOMAINS",
    "LinkResult",
    "_actor_label",
    "_check_partner",
    "_clean_money",
    "_flag_earlier_deals",
    "_generated_referral_code",
    "_open_deals_for",
    "_require_submitted",
    "approve_deal_registration",
    "archive_link",
    "archive_referral_code",
    "create_link",
    "create_referral_code",
    "email_domain",
    "expire_deal_registrations",
    "find_deal_conflicts",
    "mark_referral_converted",
    "normalize_referral_code",
    "reject_deal_registration",
    "restore_link",
    "send_deal_decision",
    "submit_deal_registration",
    "update_link",
]
