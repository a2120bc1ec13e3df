"""Sending Tandem's emails: every email has a text part and an HTML part from one template name."""

from __future__ import annotations

from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.models import Workspace


def send_templated_email(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    attachments: list[tuple[str, bytes, str]] | tuple[()] = (),
    from_business: Workspace | None = None,
) -> None:
    """Send an email with a text part and an HTML part rendered from `<template>.txt` and `.html`,
    and any (filename, content, mimetype) attachments. With `from_business` (an email to its partners),
    the sender's name is the business's and replies go to its support address (accounts/branding.py)."""
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"{template}.txt", context), to=[to])
    if from_business is not None:
        message.from_email = formataddr((from_business.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
        message.reply_to = [from_business.support_email] if from_business.support_email else []
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()
