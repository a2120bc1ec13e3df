"""The partner's way to a Stripe payout account: Tandem creates a Stripe Express account for it, saves the
`acct_…` as its payout method, and sends it to Stripe's own onboarding pages (an account link).

Offered only when the workspace has set its Stripe secret key; without one the page is not found.
"""

from __future__ import annotations

import stripe
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.models import Workspace
from attribution.integrations.services import settings_for, stripe_secret_key
from partners.payout_methods import current_payout_method
from partners.payout_methods.offers import SetupOffer
from partners.payout_methods.services import set_payout_method
from partners.portal import PartnerRequest, partner_member
from reporting.payouts.runs.rules import STRIPE_CONNECT
from reporting.payouts.runs.transfers import stripe_client


def stripe_setup_offer(workspace: Workspace) -> SetupOffer | None:
    """The payout settings page's "Set up Stripe payouts" button, when the workspace pays through Stripe."""
    if not settings_for(workspace).stripe_secret_key_set:
        return None
    return SetupOffer(
        label="Set up Stripe payouts",
        url=reverse("portal_stripe_onboarding", args=[workspace.slug]),
        note="Stripe asks for your bank details on its own secure pages; we never see them.",
    )


def _secret_key(request: PartnerRequest) -> str:
    key = stripe_secret_key(settings_for(request.workspace))
    if not key:
        raise Http404("This program does not pay through Stripe.")
    return key


@partner_member(methods=("GET", "HEAD", "POST"))
def portal_stripe_onboarding(request: PartnerRequest) -> HttpResponse:
    """GET explains; POST creates (or reuses) the partner's Express account and sends it to Stripe's form."""
    key = _secret_key(request)
    method = current_payout_method(request.partner)
    if request.method != "POST":
        return render(request, "reporting/runs/portal_stripe.html", {"method": method})
    client = stripe_client(key)
    partner = request.partner
    try:
        if method is not None and method.type == STRIPE_CONNECT:
            account_id = method.fields["account_id"]
        else:
            account = client.v1.accounts.create(
                params={
                    "type": "express",
                    "email": partner.email,
                    "metadata": {"tandem_partner_id": str(partner.pk), "tandem_workspace": request.workspace.slug},
                },
                # A double click makes one account, not two.
                options={"idempotency_key": f"tandem-express-account-{partner.workspace_id}-{partner.pk}"},
            )
            account_id = account.id
            set_payout_method(
                partner=partner,
                method_type=STRIPE_CONNECT,
                fields={"account_id": account_id},
                by=request.user,
                by_partner=True,
            )
        portal = request.build_absolute_uri(reverse("portal_stripe_onboarding", args=[request.workspace.slug]))
        link = client.v1.account_links.create(
            params={
                "account": account_id,
                "refresh_url": portal,
                "return_url": request.build_absolute_uri(
                    reverse("portal_stripe_return", args=[request.workspace.slug])
                ),
                "type": "account_onboarding",
            }
        )
    except stripe.StripeError as exc:
        messages.error(request, f"Stripe could not start the set-up: {exc.user_message or exc}. Try again in a moment.")
        return redirect("portal_stripe_onboarding", request.workspace.slug)
    return redirect(link.url)


@partner_member()
def portal_stripe_return(request: PartnerRequest) -> HttpResponse:
    _secret_key(request)
    messages.success(request, "Thank you: your payouts go to your Stripe account from now on.")
    return redirect("portal_stripe_onboarding", request.workspace.slug)
