"""Small steps the accounts tests take the way a person would."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client

from tests.accounts.factories import PASSWORD


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra: object):
    """Post the real login form (so django-axes sees the attempt)."""
    return client.post("/login/", {"username": email, "password": password}, **extra)


def can_sign_in(email: str, password: str) -> bool:
    return sign_in(Client(), email, password).status_code == 302


def link_in_last_email(path_prefix: str) -> str:
    """The path of the first link under `path_prefix` in the last email sent."""
    body = mail.outbox[-1].body
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S*)", body)
    assert match, f"no {path_prefix} link in:\n{body}"
    return match[1]
