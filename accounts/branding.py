"""White label: the business's name, logo, colour and support address on what its partners see.

The portal, the public apply page, the login page reached through a workspace, partner emails and
statement PDFs show these instead of Tandem's; Tandem is named only in a small "powered by" line.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User, Workspace, WorkspaceLogo

DEFAULT_COLOR = "#4f46e5"
MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_SIDE = 2000
# Raster images only: an SVG can carry script, and it would be served from Tandem's own origin.
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_DARK_TEXT = "#161a2b"
_LIGHT_TEXT = "#ffffff"


def validate_brand_color(value: str) -> str:
    """The colour as #rrggbb in lower case; "#abc" is widened. A ValidationError names what is wrong."""
    value = value.strip()
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        value = "#" + "".join(c * 2 for c in value[1:])
    if not _HEX.match(value):
        raise ValidationError("Enter a colour as # and six hex digits, such as #4f46e5.")
    return value.lower()


def _luminance(hex_color: str) -> float:
    """WCAG relative luminance of #rrggbb."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_color_on(background: str) -> str:
    """White or near-black, whichever reads better on `background` (the larger WCAG contrast)."""
    if contrast_ratio(background, _LIGHT_TEXT) >= contrast_ratio(background, _DARK_TEXT):
        return _LIGHT_TEXT
    return _DARK_TEXT


def validate_logo(data: bytes) -> str:
    """The content type of an acceptable logo image; a ValidationError says why one is refused."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError(f"The logo is too large: at most {MAX_LOGO_BYTES // 1024} KB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind, (width, height) = image.format or "", image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.") from exc
    if kind not in LOGO_TYPES:
        raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.")
    if max(width, height) > MAX_LOGO_SIDE:
        raise ValidationError(f"The logo is too big: at most {MAX_LOGO_SIDE} pixels wide and high.")
    return LOGO_TYPES[kind]


@dataclass(frozen=True)
class Brand:
    """What a page, an email or a PDF needs to look like the business."""

    name: str
    color: str
    text_color: str
    logo_url: str  # absolute (for emails and PDFs) or "" without a logo
    logo_path: str  # for pages on Tandem's own origin
    support_email: str
    is_custom_color: bool


def brand_of(workspace: Workspace) -> Brand:
    color = workspace.brand_color or DEFAULT_COLOR
    path = workspace.logo_path
    absolute = settings.SITE_URL.rstrip("/") + path if path.startswith("/") else path
    return Brand(
        name=workspace.name,
        color=color,
        text_color=text_color_on(color),
        logo_url=absolute,
        logo_path=path,
        support_email=workspace.support_email,
        is_custom_color=bool(workspace.brand_color),
    )


@transaction.atomic
def update_branding(
    *,
    workspace: Workspace,
    by: User | None,
    name: str,
    brand_color: str,
    support_email: str,
    logo_url: str,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Workspace:
    """Save the workspace's branding and audit what changed. An uploaded logo replaces the URL."""
    from accounts.services import record_audit

    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    before = {f: getattr(workspace, f) for f in ("name", "brand_color", "support_email", "logo_url", "logo_version")}
    workspace.name = name.strip() or workspace.name
    workspace.brand_color = validate_brand_color(brand_color) if brand_color.strip() else ""
    workspace.support_email = support_email.strip().lower()
    workspace.logo_url = logo_url.strip()
    if remove_logo:
        WorkspaceLogo.objects.filter(workspace=workspace).delete()
        workspace.logo_version = ""
    if logo is not None:
        content_type = validate_logo(logo)
        WorkspaceLogo.objects.update_or_create(
            workspace=workspace, defaults={"image": logo, "content_type": content_type}
        )
        workspace.logo_version = hashlib.sha256(logo).hexdigest()[:16]
        workspace.logo_url = ""
    workspace.save(update_fields=["name", "brand_color", "support_email", "logo_url", "logo_version"])
    after = {f: getattr(workspace, f) for f in before}
    changes = {f: {"from": before[f], "to": after[f]} for f in before if before[f] != after[f]}
    if changes:
        record_audit(
            workspace=workspace, actor=by, action="workspace.branding_changed", target=workspace, changes=changes
        )
    return workspace


def logo_data_uri(workspace: Workspace) -> str:
    """The uploaded logo inlined as a data: URI, for documents rendered without network (PDFs); or ""."""
    import base64

    if not workspace.logo_version:
        return ""
    logo = WorkspaceLogo.objects.filter(workspace=workspace).first()
    if logo is None:
        return ""
    return f"data:{logo.content_type};base64,{base64.b64encode(bytes(logo.image)).decode()}"
