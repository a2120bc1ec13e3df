"""A commission's explanation: staff see the ids they look things up by, the partner reads plain words."""

from __future__ import annotations

from attribution.explain import explanation_lines

EXPLANATION = {
    "attribution": {
        "source": "link",
        "partner": {"name": "Paula Picks"},
        "click": "1k97eqk90MozyloFI790",
        "clicked_at": "2026-12-07T05:00:00+00:00",
        "days_before": 0,
    },
    "reward_rule": {
        "name": "20 % for a year",
        "version": 3,
        "effective_from": "2026-12-06",
        "terms": "20% of each sale",
    },
}


def test_the_partner_reads_a_click_and_the_rule_without_ids_or_versions():
    lines = dict(explanation_lines(EXPLANATION, for_partner=True))
    assert lines["Attribution"] == ("Credited to Paula Picks for a click on their link (on 07 Dec 2026, the same day).")
    assert lines["Reward rule"] == "20 % for a year: 20% of each sale."


def test_staff_see_the_click_id_and_the_rule_version():
    lines = dict(explanation_lines(EXPLANATION))
    assert "click 1k97eqk90MozyloFI790" in lines["Attribution"]
    assert "(version 3, from 06 Dec 2026)" in lines["Reward rule"]


def test_days_before_a_sale_are_counted_in_words():
    one = dict(explanation_lines({"attribution": {**EXPLANATION["attribution"], "days_before": 1}}))
    many = dict(explanation_lines({"attribution": {**EXPLANATION["attribution"], "days_before": 5}}))
    assert one["Attribution"].endswith(", 1 day before).")
    assert many["Attribution"].endswith(", 5 days before).")
