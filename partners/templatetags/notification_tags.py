"""Template pieces of notifications: announcements on the portal home, email choices on the profile."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from partners.notifications import announcements, preferences
from partners.notifications.forms import EmailChoicesForm

register = template.Library()


@register.inclusion_tag("partners/_announcements.html", takes_context=True)
def portal_announcements(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    return {"request": request, "announcements": announcements.announcements_for(request.partner)}


@register.inclusion_tag("partners/_email_choices.html", takes_context=True)
def email_choices(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    form = EmailChoicesForm(initial=preferences.choices_of(request.partner))
    return {"request": request, "form": form, "csrf_token": context.get("csrf_token")}


@register.filter
def announcement_html(body: str) -> SafeString:
    return announcements.render_body(body)
