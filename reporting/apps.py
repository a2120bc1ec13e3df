from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"

    def ready(self) -> None:
        from partners.payout_methods.offers import SETUP_OFFERS
        from reporting.payouts.runs.onboarding import stripe_setup_offer

        SETUP_OFFERS.append(stripe_setup_offer)
