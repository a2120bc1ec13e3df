"""Referred customers: their company domain and conversion."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from referrals.models import Referral

# Mail providers whose domain says nothing about the customer's company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.ru",
        "zoho.com",
        "qq.com",
        "163.com",
        "fastmail.com",
    }
)


def email_domain(email: str) -> str:
    """The company domain of an email address, or "" for free mail providers."""
    domain = email.rpartition("@")[2].strip().lower()
    return "" if domain in FREE_MAIL_DOMAINS else domain


def mark_referral_converted(*, referral: Referral, at: datetime | None = None) -> Referral:
    """The referred customer bought: the referral becomes a customer (the first time only)."""
    if referral.stage != Referral.Stage.CUSTOMER:
        referral.stage = Referral.Stage.CUSTOMER
        referral.converted_at = at or timezone.now()
        referral.save(update_fields=["stage", "converted_at"])
    return referral
