"""The htmx pages work under the Content-Security-Policy: no violation in the browser's console."""

from __future__ import annotations

import re

import pytest

from accounts.services import create_workspace
from tests.partners.factories import PartnerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password"


@pytest.fixture
def acme_with_partners(transactional_db):
    workspace = create_workspace(
        slug="acme-rockets", name="Acme Rockets", owner_email="owner@acme.test", owner_password=PASSWORD
    ).workspace
    PartnerFactory(workspace=workspace, name="Zephyr Referrals")
    PartnerFactory(workspace=workspace, name="Quokka Partners")
    return workspace


def test_htmx_search_and_charts_work_without_policy_violations(acme_with_partners, browser, live_server):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/acme-rockets/$"))
    page.goto(f"{live_server.url}/w/acme-rockets/partners/")
    rows = page.locator("#partner-rows")
    assert "Quokka Partners" in rows.inner_text()

    with page.expect_response(lambda r: "/partners/?" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_label("Search", exact=True).fill("Zephyr")
    page.wait_for_function("!document.querySelector('#partner-rows').innerText.includes('Quokka')")

    assert "Zephyr Referrals" in page.locator("#partner-rows").inner_text()
    assert page.evaluate("typeof htmx") == "object"
    assert problems == []  # a CSP violation is a console error ("Refused to …")
