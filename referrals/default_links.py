"""The default link and referral code every partner gets the moment it joins, so that its first visit
to the portal starts with something to share.

partners calls `give_partner_a_start` through its join hook (partners/services/arrivals.py; partners may
not import referrals), registered in referrals/apps.py. The API's `default_link` field is described by
`default_link_out`, which config/api.py hands to the partners API for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from partners.models import Partner
from partners.services import landing_page
from referrals.models import Link, ReferralCode
from referrals.services import create_link, create_referral_code

# Partners that may share links: an applicant under review or a rejected one may not.
_MAY_SHARE = (Partner.Status.ACTIVE, Partner.Status.INVITED, Partner.Status.SUSPENDED)


def default_link(*, partner: Partner) -> Link | None:
    return Link.objects.for_workspace(partner.workspace).filter(partner=partner, is_default=True).first()


def short_link_url(link: Link) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("redirect", args=[link.code])


@transaction.atomic
def ensure_default_link(*, partner: Partner) -> Link | None:
    """The partner's default link to its program's landing page, made if missing (one per partner).

    None while the workspace has no verified domain (there is nowhere to send visitors yet) and for a
    partner who may not share links. Safe to call any number of times, also at once.
    """
    if partner.status not in _MAY_SHARE:
        return None
    # Two requests for the same partner wait for each other here, so the second finds the first's link.
    Partner.objects.for_workspace(partner.workspace).select_for_update().filter(pk=partner.pk).exists()
    existing = default_link(partner=partner)
    if existing is not None:
        return existing
    destination = landing_page(program=partner.program)
    if destination is None:
        return None
    return create_link(
        workspace=partner.workspace,
        partner=partner,
        destination_url=destination,
        actor_label="system",
        is_default=True,
    ).link


@transaction.atomic
def ensure_referral_code(*, partner: Partner) -> ReferralCode | None:
    """The partner's first active referral code, made if it has none."""
    if partner.status not in _MAY_SHARE:
        return None
    Partner.objects.for_workspace(partner.workspace).select_for_update().filter(pk=partner.pk).exists()
    codes = ReferralCode.objects.for_workspace(partner.workspace).filter(partner=partner, archived_at__isnull=True)
    existing = codes.order_by("created_at", "pk").first()
    if existing is not None:
        return existing
    return create_referral_code(workspace=partner.workspace, partner=partner, actor_label="system")


def give_partner_a_start(partner: Partner) -> None:
    """What a partner needs on day one: a link to share and a code customers can type."""
    ensure_default_link(partner=partner)
    ensure_referral_code(partner=partner)


def default_link_out(partner: Partner) -> dict[str, Any] | None:
    """`{"code", "url"}` of the partner's default link, or None while it has none."""
    link = default_link(partner=partner)
    return None if link is None else {"code": link.code, "url": short_link_url(link)}


@dataclass(frozen=True)
class ShareKit:
    """What the portal home leads with: the partner's default link, its QR code and its referral code."""

    url: str | None
    qr_data_uri: str | None
    code: str | None


def share_kit(*, partner: Partner) -> ShareKit:
    """The partner's link and code, made now if it joined before they existed (or before a domain was verified)."""
    link = ensure_default_link(partner=partner)
    code = ensure_referral_code(partner=partner)
    url = short_link_url(link) if link is not None else None
    # A data URI, so the page needs no second request and the CSP's img-src (data: allowed) is enough.
    qr = segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#111427") if url else None
    return ShareKit(url=url, qr_data_uri=qr, code=code.code if code is not None else None)
