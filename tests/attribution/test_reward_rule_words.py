"""The reward rules page says a rule as the partner reads it and fills its form as a person types it."""

from __future__ import annotations


def test_a_rule_version_reads_in_words_not_field_names(manager_client, workspace, program):
    page = manager_client.get(f"/w/{workspace.slug}/programs/{program.pk}/rewards/").content.decode()

    assert "20% of every payment for 12 months" in page
    assert "for n months" not in page.lower()


def test_the_form_starts_from_plain_amounts(manager_client, workspace, program):
    form = manager_client.get(f"/w/{workspace.slug}/programs/{program.pk}/rewards/").context["form"]

    assert str(form["sale_value"].value()) == "20"
    assert form["lead_amount"].value() is None
    assert 'value="20.0000"' not in str(form["sale_value"])


def test_the_duration_choices_are_plain_words(manager_client, workspace, program):
    form = manager_client.get(f"/w/{workspace.slug}/programs/{program.pk}/rewards/").context["form"]

    assert dict(form.fields["duration"].choices)["months"] == "A number of months"
