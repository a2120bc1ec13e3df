"""The rule that lets Tandem distribute its tables by workspace (Citus): DESIGN.md, "Invariants".

Every table that carries `workspace_id` has it in its primary key and in every unique and foreign
key. What must be unique across workspaces (a link code, an API key hash) belongs in a small global
table of its own. The tables below predate the rule; the list may only shrink: a new table must
follow the rule, and a table fixed here must leave the list (the second test says so).
"""

from __future__ import annotations

import pytest
from django.db import connection

# Tables created before the rule, each with at least one key that leaves workspace_id out.
KNOWN_EXCEPTIONS = frozenset(
    {
        "accounts_apikey",
        "accounts_auditlogentry",
        "accounts_domain",
        "accounts_membership",
        "accounts_staffinvitation",
        "attribution_commission",
        "attribution_commissionreversal",
        "attribution_conversion",
        "attribution_csvimport",
        "attribution_exchangerate",
        "attribution_idempotencykey",
        "attribution_inboundevent",
        "attribution_integrationsettings",
        "attribution_ledgerentry",
        "attribution_rewardrule",
        "partners_partner",
        "partners_partnergroup",
        "partners_partnerinvitation",
        "partners_partneruser",
        "partners_program",
        "referrals_click",
        "referrals_dealregistration",
        "referrals_link",
        "referrals_referral",
        "referrals_referralcode",
        "reporting_customertiming",
        "reporting_dailyrollup",
        "reporting_dailysummary",
        "reporting_exportjob",
        "reporting_monthlypartnerrollup",
        "reporting_partnerrunningtotal",
        "reporting_payout",
        "reporting_payoutperiod",
        "reporting_reportdelivery",
        "reporting_rollupstate",
        "reporting_statement",
        "reporting_statementline",
        "reporting_timingrunningcount",
    }
)

# Primary, unique and foreign keys (and unique indexes that back no constraint) of tables with a
# workspace_id column, that do not include workspace_id.
_KEYS_WITHOUT_WORKSPACE = """
SELECT c.conrelid::regclass::text, c.conname
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
WHERE c.contype IN ('p', 'u', 'f')
  AND EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = c.conrelid AND a.attname = 'workspace_id' AND NOT a.attisdropped)
  AND NOT EXISTS (SELECT 1 FROM unnest(c.conkey) k
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k WHERE a.attname = 'workspace_id')
UNION ALL
SELECT t.relname::text, i.relname::text
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
WHERE x.indisunique AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped)
  AND NOT EXISTS (SELECT 1 FROM unnest(x.indkey) k
                  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k WHERE a.attname = 'workspace_id')
"""


def _offending_keys() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(_KEYS_WITHOUT_WORKSPACE)
        found: dict[str, list[str]] = {}
        for table, key in cursor.fetchall():
            found.setdefault(table, []).append(key)
    return found


@pytest.mark.django_db
def test_no_new_table_leaves_workspace_out_of_a_key():
    new = {table: keys for table, keys in _offending_keys().items() if table not in KNOWN_EXCEPTIONS}
    assert not new, (
        f"These keys leave workspace_id out (put it in the key, or move a global lookup to its own table): {new}"
    )


@pytest.mark.django_db
def test_the_list_of_old_exceptions_only_shrinks():
    fixed = KNOWN_EXCEPTIONS - set(_offending_keys())
    assert not fixed, f"These tables follow the rule now: remove them from KNOWN_EXCEPTIONS: {sorted(fixed)}"
