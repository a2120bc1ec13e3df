"""Remembering the devices a partner's own people use on the portal, hashed as clicks are.

A click from one of them that wins a sale is the partner buying through its own link (the
`own_visitor` signal). Only the day-salted hashes are kept, never the address.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from attribution.models import PartnerVisit
from partners.models import Partner
from referrals.clicks.entries import USER_AGENT_MAX
from referrals.clicks.hashing import client_ip, ip_hash, visitor_hash


def remember_partner_device(request: HttpRequest, partner: Partner) -> None:
    ip = client_ip(request.META)
    if not ip:
        return
    now = timezone.now()
    day = now.date()
    PartnerVisit.objects.update_or_create(
        workspace_id=partner.workspace_id,
        partner_id=partner.pk,
        visitor_hash=visitor_hash(ip, request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX], day),
        defaults={"ip_hash": ip_hash(ip, day), "seen_at": now},
    )
