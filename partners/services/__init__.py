"""Writes of the partners app, one module per thing it owns: programs, groups, partners (adding, editing,
reviewing), applications, and invitations with portal logins.

Every function validates its input (raising `ValidationError` keyed by field name, so forms and the API
can show the error next to the field), writes, and records who did it in the audit log. The public
functions are re-exported here, so callers write `from partners import services`.
"""

from __future__ import annotations

from partners.services.applications import apply_to_program
from partners.services.arrivals import partner_joined, when_partner_joins
from partners.services.common import normalize_email
from partners.services.groups import create_group, ensure_group, rename_group
from partners.services.invitations import (
    PARTNER_INVITATIONS,
    accept_partner_invitation,
    link_partner_user,
    load_partner_invitation,
    partner_invitation_token,
    partner_invitation_url,
    send_portal_invitation,
)
from partners.services.partners import (
    PARTNER_FIELDS,
    PROFILE_FIELDS,
    approve_partner,
    change_partner_group,
    create_partner,
    invite_partner,
    reactivate_partner,
    reject_partner,
    suspend_partner,
    update_partner,
    update_partner_profile,
)
from partners.services.programs import (
    DEFAULT_PROGRAM_NAME,
    DEFAULT_PROGRAM_SLUG,
    PROGRAM_FIELDS,
    create_program,
    ensure_default_program,
    landing_page,
    update_program,
)

__all__ = [
    "DEFAULT_PROGRAM_NAME",
    "DEFAULT_PROGRAM_SLUG",
    "PARTNER_FIELDS",
    "PARTNER_INVITATIONS",
    "PROFILE_FIELDS",
    "PROGRAM_FIELDS",
    "accept_partner_invitation",
    "apply_to_program",
    "approve_partner",
    "change_partner_group",
    "create_group",
    "create_partner",
    "create_program",
    "ensure_default_program",
    "ensure_group",
    "invite_partner",
    "landing_page",
    "link_partner_user",
    "load_partner_invitation",
    "normalize_email",
    "partner_joined",
    "partner_invitation_token",
    "partner_invitation_url",
    "reactivate_partner",
    "reject_partner",
    "rename_group",
    "send_portal_invitation",
    "suspend_partner",
    "update_partner",
    "update_partner_profile",
    "update_program",
    "when_partner_joins",
]
