"""Managers make links for any partner: code generated or chosen, destination on a verified domain."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditLogEntry
from partners.models import Partner
from referrals import services
from referrals.models import Link
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import ClickFactory, LinkFactory


def make(workspace, partner, **kwargs):
    kwargs.setdefault("destination_url", "https://shop.example.com/")
    return services.create_link(workspace=workspace, partner=partner, **kwargs)


def test_a_link_gets_a_generated_seven_character_code(workspace, partner, domain):
    link = make(workspace, partner).link
    assert len(link.code) == 7
    assert (link.workspace, link.partner, link.program) == (workspace, partner, partner.program)


def test_a_chosen_code_is_stored_lower_case(workspace, partner, domain):
    assert make(workspace, partner, code="Spring-Sale").link.code == "spring-sale"


def test_a_code_taken_in_any_workspace_is_refused_with_a_clear_message(workspace, partner, domain, other_workspace):
    LinkFactory(workspace=other_workspace, code="spring")
    with pytest.raises(ValidationError) as error:
        make(workspace, partner, code="SPRING")
    assert error.value.message_dict == {"code": ["The link code “spring” is taken; choose another."]}


def test_asking_again_for_the_same_code_partner_and_destination_returns_the_link(workspace, partner, domain):
    first = make(workspace, partner, code="spring")
    again = make(workspace, partner, code="spring")
    assert (first.created, again.created) == (True, False)
    assert again.link == first.link
    assert Link.objects.count() == 1


def test_an_unverified_destination_is_refused_next_to_its_field(workspace, partner, domain):
    with pytest.raises(ValidationError) as error:
        make(workspace, partner, destination_url="https://evil.example.net/")
    assert "destination_url" in error.value.message_dict


def test_a_rejected_partner_gets_no_links(workspace, domain):
    rejected = PartnerFactory(workspace=workspace, status=Partner.Status.REJECTED)
    with pytest.raises(ValidationError) as error:
        make(workspace, rejected)
    assert "partner" in error.value.message_dict


def test_another_workspaces_partner_is_refused(workspace, domain, other_workspace):
    with pytest.raises(ValidationError):
        make(workspace, PartnerFactory(workspace=other_workspace))


def test_making_a_link_is_audited(workspace, partner, domain, manager):
    make(workspace, partner, created_by=manager)
    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="link.created", actor=manager).exists()


# --- Pages -------------------------------------------------------------------------------


def test_manager_sees_links_of_all_partners_with_click_counts(manager_client, workspace, partner):
    link = LinkFactory(workspace=workspace, partner=partner, code="paula")
    ClickFactory.create_batch(3, link=link)
    ClickFactory(link=link, is_bot=True)
    LinkFactory(workspace=workspace, code="other-partner")
    response = manager_client.get(f"/w/{workspace.slug}/links/")
    assert response.status_code == 200
    assert b"/r/paula" in response.content and b"/r/other-partner" in response.content
    assert [link.counts.clicks for link in response.context["page"].object_list if link.code == "paula"] == [3]


def test_links_can_be_searched_and_filtered_by_partner(manager_client, workspace, partner):
    LinkFactory(workspace=workspace, partner=partner, code="paula", channel="newsletter")
    LinkFactory(workspace=workspace, code="someone-else", channel="youtube")
    response = manager_client.get(f"/w/{workspace.slug}/links/", {"partner": partner.pk})
    assert [link.code for link in response.context["page"].object_list] == ["paula"]
    response = manager_client.get(f"/w/{workspace.slug}/links/", {"channel": "youtube"})
    assert [link.code for link in response.context["page"].object_list] == ["someone-else"]
    response = manager_client.get(f"/w/{workspace.slug}/links/", {"q": "someone"})
    assert [link.code for link in response.context["page"].object_list] == ["someone-else"]


def test_htmx_search_renders_only_the_rows(manager_client, workspace, partner):
    LinkFactory(workspace=workspace, partner=partner, code="paula")
    response = manager_client.get(
        f"/w/{workspace.slug}/links/", {"q": "paula"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="link-rows"
    )
    assert b"/r/paula" in response.content
    assert b"<html" not in response.content


def test_manager_creates_a_link_for_a_partner(manager_client, workspace, partner, domain):
    response = manager_client.post(
        f"/w/{workspace.slug}/links/new/",
        {
            "partner": partner.pk,
            "destination_url": "https://shop.example.com/x",
            "code": "paula-x",
            "channel": "newsletter",
            "utm_source": "paula",
        },
    )
    link = Link.objects.get(code="paula-x")
    assert response.status_code == 302 and response["Location"] == f"/w/{workspace.slug}/links/{link.pk}/"
    assert (link.partner, link.channel, link.utm_source) == (partner, "newsletter", "paula")


def test_the_new_link_form_shows_why_a_destination_is_refused(manager_client, workspace, partner, domain):
    response = manager_client.post(
        f"/w/{workspace.slug}/links/new/",
        {
            "partner": partner.pk,
            "destination_url": "javascript:alert(1)",
        },
    )
    assert response.status_code == 200
    assert "must start with https://" in response.context["form"].errors["destination_url"][0]


def test_viewer_cannot_create_links(viewer_client, workspace, partner, domain):
    response = viewer_client.post(
        f"/w/{workspace.slug}/links/new/", {"partner": partner.pk, "destination_url": "https://shop.example.com/"}
    )
    assert response.status_code == 403


def test_link_page_shows_the_short_url_qr_and_chart(viewer_client, workspace, partner):
    link = LinkFactory(workspace=workspace, partner=partner, code="paula")
    ClickFactory(link=link)
    response = viewer_client.get(f"/w/{workspace.slug}/links/{link.pk}/")
    assert response.status_code == 200
    assert b"http://127.0.0.1:8000/r/paula" in response.content
    assert b"<svg" in response.content and b"qr.svg" in response.content
    assert response.context["chart"].total == 1


def test_qr_code_downloads_as_svg_and_png(viewer_client, workspace, partner):
    link = LinkFactory(workspace=workspace, partner=partner, code="paula")
    svg = viewer_client.get(f"/w/{workspace.slug}/links/{link.pk}/qr.svg?download")
    png = viewer_client.get(f"/w/{workspace.slug}/links/{link.pk}/qr.png?download")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert svg["Content-Disposition"] == 'attachment; filename="qr-paula.svg"'
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_manager_changes_a_links_destination(manager_client, workspace, partner, domain):
    link = LinkFactory(workspace=workspace, partner=partner, code="paula")
    response = manager_client.post(
        f"/w/{workspace.slug}/links/{link.pk}/",
        {"destination_url": "https://shop.example.com/spring", "channel": "", "campaign": "spring"},
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.destination_url, link.campaign) == ("https://shop.example.com/spring", "spring")


def test_manager_archives_and_restores_a_link(manager_client, workspace, partner):
    link = LinkFactory(workspace=workspace, partner=partner)
    manager_client.post(f"/w/{workspace.slug}/links/{link.pk}/archive/")
    link.refresh_from_db()
    assert link.archived_at is not None
    manager_client.post(f"/w/{workspace.slug}/links/{link.pk}/archive/")
    link.refresh_from_db()
    assert link.archived_at is None


def test_outsider_gets_404_on_links_pages(outsider_client, workspace, partner):
    link = LinkFactory(workspace=workspace, partner=partner)
    for url in (
        f"/w/{workspace.slug}/links/",
        f"/w/{workspace.slug}/links/new/",
        f"/w/{workspace.slug}/links/{link.pk}/",
        f"/w/{workspace.slug}/links/{link.pk}/qr.svg",
    ):
        assert outsider_client.get(url).status_code == 404, url


def test_another_workspaces_link_is_a_404_in_my_workspace(manager_client, workspace, other_workspace):
    foreign = LinkFactory(workspace=other_workspace)
    assert manager_client.get(f"/w/{workspace.slug}/links/{foreign.pk}/").status_code == 404
    assert manager_client.post(f"/w/{workspace.slug}/links/{foreign.pk}/archive/").status_code == 404
