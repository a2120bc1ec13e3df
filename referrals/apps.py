from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"

    def ready(self) -> None:
        # partners may not import referrals (layering), so referrals tells it what to do for a new partner.
        from partners.services import when_partner_joins
        from referrals.default_links import give_partner_a_start

        when_partner_joins(give_partner_a_start)
