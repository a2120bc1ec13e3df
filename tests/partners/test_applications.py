from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from partners import services
from partners.models import Partner

APPLICATION = {
    "name": "Morgan Lee",
    "email": "morgan@growthgarden.test",
    "company": "Growth Garden",
    "country": "NL",
    "website": "https://growthgarden.test",
    "promotion_plan": "A newsletter for founders.",
    "accepted_terms": "on",
}


@pytest.fixture
def open_program(program, manager):
    return services.update_program(program=program, by=manager, public_applications=True, terms="Play fair.")


@pytest.fixture
def applicant(open_program):
    partner, _ = services.apply_to_program(
        program=open_program, name="Morgan Lee", email="morgan@growthgarden.test", accepted_terms=True
    )
    return partner


def test_the_application_page_is_404_when_applications_are_off(client, workspace, program):
    assert client.get(f"/apply/{workspace.slug}/{program.slug}/").status_code == 404


def test_the_application_page_shows_the_program_terms_when_applications_are_on(client, workspace, open_program):
    response = client.get(f"/apply/{workspace.slug}/{open_program.slug}/")

    assert response.status_code == 200
    assert b"Play fair." in response.content


def test_applying_creates_a_pending_partner(client, workspace, open_program):
    response = client.post(f"/apply/{workspace.slug}/{open_program.slug}/", APPLICATION)

    partner = Partner.objects.for_workspace(workspace).get(email="morgan@growthgarden.test")
    assert response.status_code == 200
    assert partner.status == Partner.Status.PENDING
    assert (partner.website, partner.country, partner.program) == ("https://growthgarden.test", "NL", open_program)
    assert partner.terms_accepted_at is not None


def test_applying_without_accepting_the_terms_is_refused(client, workspace, open_program):
    response = client.post(f"/apply/{workspace.slug}/{open_program.slug}/", {**APPLICATION, "accepted_terms": ""})

    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not Partner.objects.for_workspace(workspace).exists()


def test_applying_twice_with_one_email_makes_one_partner(client, workspace, open_program):
    client.post(f"/apply/{workspace.slug}/{open_program.slug}/", APPLICATION)
    client.post(f"/apply/{workspace.slug}/{open_program.slug}/", {**APPLICATION, "email": "MORGAN@growthgarden.test"})

    assert Partner.objects.for_workspace(workspace).count() == 1


def test_managers_see_pending_applications(manager_client, workspace, applicant):
    response = manager_client.get(f"/w/{workspace.slug}/partners/applications/")

    assert response.status_code == 200
    assert b"Morgan Lee" in response.content


def test_approving_activates_the_partner_and_emails_a_set_password_link(
    manager_client, workspace, applicant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(f"/w/{workspace.slug}/partners/{applicant.pk}/approve/")

    applicant.refresh_from_db()
    assert response.status_code == 302
    assert applicant.status == Partner.Status.ACTIVE
    assert mail.outbox[0].to == ["morgan@growthgarden.test"]
    assert "approved" in mail.outbox[0].subject and "/partner-invitations/" in mail.outbox[0].body


def test_rejecting_emails_the_applicant_the_reason(
    manager_client, workspace, applicant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(f"/w/{workspace.slug}/partners/{applicant.pk}/reject/", {"reason": "No brand bidding."})

    applicant.refresh_from_db()
    assert applicant.status == Partner.Status.REJECTED
    assert applicant.rejection_reason == "No brand bidding."
    assert "No brand bidding." in mail.outbox[0].body


def test_rejecting_without_a_reason_is_refused(
    manager_client, workspace, applicant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(f"/w/{workspace.slug}/partners/{applicant.pk}/reject/", {"reason": "  "})

    applicant.refresh_from_db()
    assert applicant.status == Partner.Status.PENDING
    assert not mail.outbox


def test_the_reject_action_returns_to_the_page_it_was_posted_from(manager_client, workspace, applicant):
    page = f"/w/{workspace.slug}/partners/applications/"

    response = manager_client.post(
        f"/w/{workspace.slug}/partners/{applicant.pk}/reject/", {"reason": "Not a fit.", "next": page}
    )

    assert response["Location"] == page


def test_an_active_partner_cannot_be_approved_again(manager, partner):
    with pytest.raises(ValidationError, match="cannot be approved"):
        services.approve_partner(partner=partner, by=manager)


def test_a_viewer_cannot_approve_an_application(viewer_client, workspace, applicant):
    response = viewer_client.post(f"/w/{workspace.slug}/partners/{applicant.pk}/approve/")

    applicant.refresh_from_db()
    assert response.status_code == 403
    assert applicant.status == Partner.Status.PENDING


def test_an_outsider_gets_404_on_the_applications_page(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/applications/").status_code == 404


def test_the_navigation_shows_how_many_applications_wait(viewer_client, workspace, applicant):
    response = viewer_client.get(f"/w/{workspace.slug}/partners/")

    assert b'Applications <span class="badge warn">1' in response.content


def test_with_applications_off_the_empty_page_says_to_turn_them_on(manager_client, workspace, program):
    page = manager_client.get(f"/w/{workspace.slug}/partners/applications/").content.decode()

    assert "No program takes applications yet" in page and "Open programs" in page


def test_with_applications_on_the_empty_page_points_at_the_page_to_share(manager_client, workspace, open_program):
    page = manager_client.get(f"/w/{workspace.slug}/partners/applications/").content.decode()

    assert f"/apply/{workspace.slug}/{open_program.slug}/" in page
    assert "Share an application page above" in page and "turn on public applications" not in page
