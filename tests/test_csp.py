"""A Content-Security-Policy (Django's own) on every page, and the htmx pages still work under it."""

from __future__ import annotations

import re

import pytest


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.parametrize("path", ["/login/", "/password-reset/"])
def test_signed_out_pages_carry_the_policy(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert policy(response)["script-src"] == "'self'"  # no script on these pages, so no nonce either
    assert policy(response)["frame-ancestors"] == "'none'"
    assert policy(response)["object-src"] == "'none'"


def test_the_dashboard_carries_the_policy(owner_client, workspace):
    response = owner_client.get(f"/w/{workspace.slug}/")

    assert policy(response)["default-src"] == "'self'"
    assert policy(response)["form-action"] == "'self'"


def test_the_htmx_script_carries_the_nonce_the_policy_allows(owner_client, workspace):
    response = owner_client.get(f"/w/{workspace.slug}/")

    nonce = re.search(r"'nonce-([^']+)'", policy(response)["script-src"])[1]
    assert re.search(
        rf'<script [^>]*src="/static/django_htmx/htmx-2[^"]*"[^>]* nonce="{re.escape(nonce)}"',
        response.content.decode(),
    )


def test_pages_have_no_inline_script_without_the_nonce(owner_client, workspace):
    content = owner_client.get(f"/w/{workspace.slug}/").content.decode()

    assert not [tag for tag in re.findall(r"<script[^>]*>", content) if "nonce=" not in tag]
    assert "<style" not in content
