"""Pages of the white label: the owner's branding settings, the public logo, the branded sign-in page."""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from accounts.branding import MAX_LOGO_BYTES, brand_of, contrast_ratio, update_branding, validate_brand_color
from accounts.forms import LoginForm
from accounts.models import Workspace, WorkspaceLogo
from accounts.tenancy import OWNERS, WorkspaceRequest, workspace_member
from core.text import unusable_character

_PORTAL_NEXT = re.compile(r"^/portal/(?P<slug>[-a-zA-Z0-9_]+)/")


class BrandingForm(forms.Form):
    name = forms.CharField(label="Business name", max_length=120, help_text="Shown to partners instead of Tandem.")
    brand_color = forms.CharField(
        label="Brand colour",
        max_length=7,
        required=False,
        help_text="Your main colour. Text on it is white or black, whichever reads better.",
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    support_email = forms.EmailField(
        label="Support email",
        required=False,
        help_text="Where partners' replies to your emails go; the portal shows it for questions.",
    )
    logo = forms.FileField(
        label="Upload a logo",
        required=False,
        help_text=f"PNG, JPEG, GIF or WebP, at most {MAX_LOGO_BYTES // 1024} KB. Shown about 32 pixels high.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    logo_url = forms.URLField(
        label="…or the address of a logo",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="An https:// address of an image; used when no logo is uploaded.",
    )
    remove_logo = forms.BooleanField(label="Remove the uploaded logo", required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for name in ("name", "support_email", "logo_url"):
            problem = unusable_character(str(data.get(name) or ""))
            if problem:
                self.add_error(name, problem)
        return data

    def clean_brand_color(self) -> str:
        value = self.cleaned_data.get("brand_color") or ""
        return validate_brand_color(value) if value.strip() else ""

    def clean_logo_url(self) -> str:
        value: str = self.cleaned_data.get("logo_url") or ""
        if value and not value.startswith("https://"):
            raise ValidationError("Give an https:// address, so the logo shows on secure pages and in emails.")
        return value


@workspace_member(OWNERS, methods=("GET", "HEAD", "POST"))
def branding_settings(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    initial = {
        "name": workspace.name,
        "brand_color": workspace.brand_color or "#4f46e5",
        "support_email": workspace.support_email,
        "logo_url": workspace.logo_url,
    }
    form = BrandingForm(request.POST or None, request.FILES or None, initial=initial)
    if not workspace.logo_version:
        del form.fields["remove_logo"]  # nothing uploaded to remove
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("logo")
        data = form.cleaned_data
        try:
            update_branding(
                workspace=workspace,
                by=request.user,
                name=data["name"],
                brand_color=data["brand_color"],
                support_email=data["support_email"],
                logo_url=data["logo_url"],
                logo=upload.read(MAX_LOGO_BYTES + 1) if upload else None,
                remove_logo=data.get("remove_logo", False),
            )
        except ValidationError as exc:
            form.add_error("logo", exc)
        else:
            messages.success(request, "Branding saved. Partners see it on the portal, the apply page and in emails.")
            return redirect("branding_settings", slug=workspace.slug)
    brand = brand_of(workspace)
    context = {"form": form, "brand": brand, "contrast": round(contrast_ratio(brand.color, brand.text_color), 1)}
    return render(request, "accounts/branding.html", context)


@require_safe
def workspace_logo(request: HttpRequest, slug: str) -> HttpResponse:
    """The uploaded logo; public, as it shows on the public apply page and in emails."""
    logo = get_object_or_404(WorkspaceLogo.objects.select_related("workspace"), workspace__slug=slug)
    response = HttpResponse(bytes(logo.image), content_type=logo.content_type)
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = 'inline; filename="logo"'
    return response


def _workspace_asked(request: HttpRequest) -> Workspace | None:
    """The workspace a sign-in page was reached through: ?workspace=<slug>, or a portal page in ?next=."""
    slug = request.GET.get("workspace", "")
    if not slug:
        found = _PORTAL_NEXT.match(request.GET.get("next", "") or request.POST.get("next", ""))
        slug = found.group("slug") if found else ""
    if not slug or len(slug) > 60:
        return None
    return Workspace.objects.filter(slug=slug).first()


def login(request: HttpRequest) -> HttpResponseBase:
    """Tandem's sign-in page; reached through a workspace, it wears that business's brand."""
    workspace = _workspace_asked(request)
    extra = {"brand": brand_of(workspace), "brand_workspace": workspace} if workspace else {}
    view = auth_views.LoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
        extra_context=extra,
    )
    return view(request)
