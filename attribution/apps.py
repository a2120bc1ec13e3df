from django.apps import AppConfig


class AttributionConfig(AppConfig):
    name = "attribution"

    def ready(self) -> None:
        # Partners' pages and emails state the reward, but partners may not import attribution.
        from attribution.reward_terms import reward_sentence
        from partners.reward_text import set_reward_describer

        set_reward_describer(lambda program, group: reward_sentence(program, group=group))
