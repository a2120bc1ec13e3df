from django.db import migrations

# The ledger is append-only at the database level, not just in the ORM: a correction
# is a new reversing entry. TRUNCATE is left alone so test databases can be flushed.
FORWARD = """
CREATE OR REPLACE FUNCTION tandem_refuse_ledger_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only (% refused on attribution_ledgerentry)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_append_only
    BEFORE UPDATE OR DELETE ON attribution_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION tandem_refuse_ledger_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS ledger_append_only ON attribution_ledgerentry;
DROP FUNCTION IF EXISTS tandem_refuse_ledger_change();
"""


class Migration(migrations.Migration):
    dependencies = [("attribution", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
