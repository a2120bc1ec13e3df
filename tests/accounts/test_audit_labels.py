"""Audit entries read in plain words on the audit log page: "Payout details changed", not the stored name."""

from __future__ import annotations

import re
from pathlib import Path

from accounts.audit_labels import LABELS, action_label, change_lines
from accounts.services import record_audit


def test_known_actions_have_their_own_words():
    assert action_label("partner.profile_updated") == "Profile updated"
    assert action_label("partner.payout_method_changed") == "Payout details changed"


def test_an_unknown_action_reads_as_words_never_as_its_dotted_name():
    assert action_label("widget.colour_turned_blue") == "Colour turned blue"
    assert action_label("plain") == "Plain"
    assert action_label("") == "Change"


def test_the_audit_log_page_shows_the_words_not_the_stored_name(manager_client, workspace):
    record_audit(workspace=workspace, actor=None, actor_label="system", action="partner.payout_method_changed")

    page = manager_client.get(f"/w/{workspace.slug}/audit/").content.decode()

    assert "Payout details changed" in page
    assert "partner.payout_method_changed" not in page


def test_every_action_the_code_records_has_a_label():
    root = Path(__file__).resolve().parents[2]
    recorded = set()
    for app in ("accounts", "partners", "referrals", "attribution", "reporting", "core"):
        for source in (root / app).rglob("*.py"):
            recorded |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', source.read_text()))
    assert recorded, "no audit actions found: the pattern no longer matches the code"
    assert sorted(recorded - set(LABELS)) == []


def test_a_change_reads_as_before_and_after():
    assert change_lines({"role": ["viewer", "manager"], "hold_days": [None, 14], "user": "a@b.test"}) == [
        "role: viewer → manager",
        "hold days: — → 14",
        "user: a@b.test",
    ]
