"""Two-factor sign-in's part of the accounts isolation registry (see tests/isolation.py).

Its workspace pages (security settings, resetting a member) take `membership_id`, registered in isolation.py."""

from __future__ import annotations

from tests.partners.factories import PartnerFactory, PartnerUserFactory

FOREIGN_PARAMS = {
    "partner_user_id": lambda workspace: PartnerUserFactory(partner=PartnerFactory(workspace=workspace)).pk,
}

PUBLIC_ROUTES = {
    "login_code": "the second step of signing in: the signed-in person's own devices, no workspace",
    "two_factor_setup": "a person's own second factor, kept per person, not per workspace",
    "two_factor_recovery_codes": "a person's own recovery codes, behind their password",
    "two_factor_disable": "turning off a person's own second factor, behind their password",
}
