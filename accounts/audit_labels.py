"""What each audit action is called on screen: "Payout details changed", never `partner.payout_method_changed`.

The audit log stores stable dotted names (integrations and exports read them); people read these labels.
An action not listed yet still reads as words: its last part, with the underscores as spaces.
"""

from __future__ import annotations

LABELS: dict[str, str] = {
    # The workspace, its team and its settings
    "workspace.created": "Workspace created",
    "workspace.branding_changed": "Branding changed",
    "staff.invited": "Team member invited",
    "staff.invitation_revoked": "Team invitation withdrawn",
    "staff.joined": "Team member joined",
    "staff.role_changed": "Team member's role changed",
    "staff.removed": "Team member removed",
    "two_factor.enabled": "Two-step sign-in turned on",
    "two_factor.disabled": "Two-step sign-in turned off",
    "two_factor.reset": "Two-step sign-in reset",
    "two_factor.required": "Two-step sign-in required for the team",
    "domain.added": "Website added",
    "domain.verified": "Website verified",
    "domain.removed": "Website removed",
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
    "privacy.retention_changed": "Data retention changed",
    "webhook_endpoint.created": "Webhook added",
    "webhook_endpoint.changed": "Webhook changed",
    "webhook_endpoint.disabled": "Webhook turned off",
    "webhook_endpoint.deleted": "Webhook deleted",
    "webhook_delivery.resent": "Webhook message sent again",
    "integrations.stripe_secret_set": "Stripe signing secret saved",
    "integrations.stripe_secret_key_set": "Stripe key saved",
    "integrations.hubspot_updated": "HubSpot connection changed",
    "exchange_rate.added": "Exchange rate added",
    "fraud_settings.updated": "Fraud checks changed",
    # Programs and partners
    "program.created": "Program created",
    "program.updated": "Program changed",
    "reward_rule.version_added": "Reward changed",
    "partner_group.created": "Partner group created",
    "partner_group.renamed": "Partner group renamed",
    "partner.created": "Partner added",
    "partner.invited": "Invited",
    "partner.joined": "Joined the program",
    "partner.applied": "Applied to join",
    "partner.approved": "Application approved",
    "partner.rejected": "Application declined",
    "partner.suspended": "Suspended",
    "partner.reactivated": "Reactivated",
    "partner.updated": "Details changed",
    "partner.profile_updated": "Profile updated",
    "partner.payout_method_changed": "Payout details changed",
    "partner.tax_form_saved": "Tax form saved",
    "partner.email_choices_changed": "Email choices changed",
    "partner.messaged": "Sent a message",
    "partner.flagged": "Flagged for review",
    "partner.unflagged": "Flag removed",
    "partners.import_started": "Partner import started",
    "partners.imported": "Partners imported",
    "announcement.published": "Announcement published",
    "link.created": "Link created",
    "link.updated": "Link changed",
    "link.archived": "Link archived",
    "link.restored": "Link restored",
    "referral_code.created": "Referral code created",
    "referral_code.archived": "Referral code archived",
    "deal_registration.submitted": "Deal registered",
    "deal_registration.approved": "Deal approved",
    "deal_registration.rejected": "Deal declined",
    "deal_registration.expired": "Deal protection ended",
    # Events, commissions and payouts
    "inbound_event.retried": "Event processed again",
    "inbound_event.assigned": "Sale credited to a partner",
    "commission.manual_added": "Bonus added",
    "commission.approved": "Commission approved",
    "commission.rejected": "Commission rejected",
    "commission.review_reply": "Partner answered a review",
    "commission.review_cleared": "Review cleared",
    "payout_period.closed": "Payout period closed",
    "statement.approved": "Statement approved",
    "statement.paid": "Statement paid",
    "payout_run.prepared": "Payout run prepared",
    "payout_run.executed": "Payout run sent",
    "payout_run.confirmed": "Payout run confirmed by the bank",
    "payout_run.retried": "Payout run retried",
    "payout_run.cancelled": "Payout run cancelled",
}


def action_label(action: str) -> str:
    """The plain-words name of an audit action; an unknown `a.b_c` reads "B c"."""
    if action in LABELS:
        return LABELS[action]
    words = action.rpartition(".")[2].replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "Change"


def change_lines(changes: dict[str, object] | None) -> list[str]:
    """An entry's changes as "role: viewer → manager" lines: a [before, after] pair reads as an arrow."""
    lines = []
    for field, value in (changes or {}).items():
        name = str(field).replace("_", " ")
        if isinstance(value, list | tuple) and len(value) == 2:
            before, after = ("—" if v in (None, "") else v for v in value)
            lines.append(f"{name}: {before} → {after}")
        else:
            lines.append(f"{name}: {value}")
    return lines
