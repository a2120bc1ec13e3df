"""Payout run pages under /w/<slug>/payouts/runs/, and the partner's Stripe onboarding in the portal."""

from django.urls import path

from reporting.payouts.runs import onboarding, views

workspace_urlpatterns = [
    path("payouts/runs/", views.payout_runs, name="payout_runs"),
    path("payouts/runs/bank-account/", views.payout_runs_bank_account, name="payout_runs_bank_account"),
    path("payouts/runs/<int:payout_run_id>/", views.payout_run_detail, name="payout_run_detail"),
    path("payouts/runs/<int:payout_run_id>/execute/", views.payout_run_execute, name="payout_run_execute"),
    path("payouts/runs/<int:payout_run_id>/confirm/", views.payout_run_confirm, name="payout_run_confirm"),
    path("payouts/runs/<int:payout_run_id>/cancel/", views.payout_run_cancel, name="payout_run_cancel"),
    path("payouts/runs/<int:payout_run_id>/sepa.xml", views.payout_run_sepa, name="payout_run_sepa"),
    path("payouts/runs/<int:payout_run_id>/paypal.csv", views.payout_run_paypal, name="payout_run_paypal"),
]

portal_urlpatterns = [
    path("payouts/stripe/", onboarding.portal_stripe_onboarding, name="portal_stripe_onboarding"),
    path("payouts/stripe/return/", onboarding.portal_stripe_return, name="portal_stripe_return"),
]
