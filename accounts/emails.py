"""Sending Tandem's emails: every email has a text part and an HTML part from one template name."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated_email(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    attachments: list[tuple[str, bytes, str]] | tuple[()] = (),
) -> None:
    """Send an email with a text part and an HTML part rendered from `<template>.txt` and `.html`,
    and any (filename, content, mimetype) attachments."""
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"{template}.txt", context), to=[to])
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()
