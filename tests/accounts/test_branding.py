"""White label: an owner sets the business's name, logo, colour and support email; partners see them on
the portal, the apply page, the sign-in page reached through the business, emails and statement PDFs."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.branding import contrast_ratio, text_color_on
from accounts.models import AuditLogEntry, Workspace
from partners.services import ensure_default_program
from reporting.payouts.pdf import statement_html
from reporting.payouts.statements import close_payout_period
from tests.partners.factories import PartnerFactory
from tests.reporting.payout_helpers import earn

pytestmark = pytest.mark.django_db


def png(size: tuple[int, int] = (64, 32), color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def save(client, workspace, **fields):
    data = {"name": "Acme Cloud", "brand_color": "#0f766e", "support_email": "partners@acme.test", "logo_url": ""}
    data.update(fields)
    return client.post(f"/w/{workspace.slug}/settings/branding/", data)


def test_an_owner_sets_the_branding_and_it_is_audited(owner_client, workspace):
    response = save(owner_client, workspace, logo=SimpleUploadedFile("logo.png", png(), "image/png"))

    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.name, workspace.brand_color, workspace.support_email) == (
        "Acme Cloud",
        "#0f766e",
        "partners@acme.test",
    )
    assert workspace.logo_version
    assert AuditLogEntry.objects.filter(workspace=workspace, action="workspace.branding_changed").exists()


def test_only_an_owner_may_change_the_branding(manager_client, finance_client, outsider_client, workspace):
    assert manager_client.get(f"/w/{workspace.slug}/settings/branding/").status_code == 403
    assert save(finance_client, workspace).status_code == 403
    assert outsider_client.get(f"/w/{workspace.slug}/settings/branding/").status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"brand_color": "teal"}, "brand_color", "six hex digits"),
        ({"logo_url": "http://acme.test/logo.png"}, "logo_url", "https://"),
        ({"support_email": "not-an-email"}, "support_email", "valid email"),
    ],
)
def test_a_bad_value_is_refused_next_to_its_field(owner_client, workspace, fields, field, message):
    response = save(owner_client, workspace, **fields)

    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert Workspace.objects.get(pk=workspace.pk).brand_color == ""


def test_a_logo_that_is_not_an_image_or_too_large_is_refused(owner_client, workspace):
    script = SimpleUploadedFile("logo.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
    response = save(owner_client, workspace, logo=script)
    assert "PNG, JPEG, GIF or WebP" in str(response.context["form"].errors["logo"])

    huge = SimpleUploadedFile("logo.png", png((1800, 1800), "white") + b"\0" * 600_000, "image/png")
    response = save(owner_client, workspace, logo=huge)
    assert "too large" in str(response.context["form"].errors["logo"])
    assert Workspace.objects.get(pk=workspace.pk).logo_version == ""


def test_the_uploaded_logo_is_served_publicly_with_its_type(owner_client, client, workspace):
    save(owner_client, workspace, logo=SimpleUploadedFile("logo.png", png(), "image/png"))

    response = client.get(f"/brand/{workspace.slug}/logo")

    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get("/brand/no-such-workspace/logo").status_code == 404


def test_text_on_the_brand_colour_is_whichever_of_white_and_black_reads_better():
    assert text_color_on("#0f766e") == "#ffffff"
    assert text_color_on("#fde047") == "#161a2b"
    for colour in ("#0f766e", "#fde047", "#777777", "#4f46e5", "#ffffff", "#000000"):
        assert contrast_ratio(colour, text_color_on(colour)) >= 4.4


@pytest.fixture
def branded(owner_client, workspace):
    save(owner_client, workspace, logo=SimpleUploadedFile("logo.png", png(), "image/png"))
    workspace.refresh_from_db()
    return workspace


def test_the_portal_wears_the_business_brand_with_tandem_only_as_powered_by(branded, partner_client):
    html = partner_client.get(f"/portal/{branded.slug}/").content.decode()

    assert "Acme Cloud" in html and f"/brand/{branded.slug}/logo?v=" in html
    assert "--ws-brand: #0f766e" in html and "partners@acme.test" in html
    assert "Powered by Tandem" in html
    assert '<span class="brand-mark" aria-hidden="true">T</span>' not in html


def test_the_apply_page_wears_the_business_brand(branded, client):
    program = ensure_default_program(workspace=branded)
    program.public_applications = True
    program.save()

    html = client.get(f"/apply/{branded.slug}/{program.slug}/").content.decode()

    assert f"/brand/{branded.slug}/logo?v=" in html and "Acme Cloud" in html and "Powered by Tandem" in html


def test_the_sign_in_page_reached_through_the_business_wears_its_brand(branded, client):
    by_slug = client.get(f"/login/?workspace={branded.slug}").content.decode()
    from_portal = client.get(f"/portal/{branded.slug}/", follow=True).content.decode()
    plain = client.get("/login/").content.decode()

    for html in (by_slug, from_portal):
        assert "Sign in to the Acme Cloud partner portal" in html and f"/brand/{branded.slug}/logo" in html
    assert "Acme Cloud" not in plain and "Tandem" in plain


def test_a_partner_invitation_email_is_from_the_business(branded, manager_client, django_capture_on_commit_callbacks):
    program = ensure_default_program(workspace=branded)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(
            f"/w/{branded.slug}/partners/invite/",
            {"name": "Nina", "email": "nina@partner.test", "program": program.pk},
        )

    (message,) = mail.outbox
    assert message.from_email.startswith("Acme Cloud <") and message.reply_to == ["partners@acme.test"]
    html = message.alternatives[0].content
    assert "#0f766e" in html and f"/brand/{branded.slug}/logo?v=" in html and "Powered by Tandem" in html
    assert "on Tandem" not in message.body


def test_the_statement_pdf_carries_the_business_logo_and_colour(branded):
    partner = PartnerFactory(workspace=branded)
    earn(partner, "42.00")
    statement = close_payout_period(workspace=branded, end=date(2026, 9, 30), today=date(2026, 11, 24)).statements[0]

    html = statement_html(statement)

    assert 'src="data:image/png;base64,' in html and "border-bottom-color:#0f766e" in html
    assert "partners@acme.test" in html and "Powered by Tandem" in html


@pytest.mark.parametrize("template", ["partners/email/message", "partners/email/application_rejected"])
def test_other_partner_emails_wear_the_brand_too(branded, template):
    from accounts.emails import send_templated_email

    partner = PartnerFactory(workspace=branded, rejection_reason="Not a fit right now.")
    send_templated_email(
        to=partner.email,
        subject="Hello",
        template=template,
        context={"partner": partner, "body": "A note from us."},
        from_business=branded,
    )

    (message,) = mail.outbox
    assert message.from_email.startswith("Acme Cloud <") and message.reply_to == ["partners@acme.test"]
    assert "#0f766e" in message.alternatives[0].content and "Powered by Tandem" in message.body
    assert "Stop emails about" not in message.body  # a one-off message has no kind to turn off
