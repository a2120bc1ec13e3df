import django.db.models.deletion
from django.db import migrations, models

# Django cannot point a ForeignKey at a composite primary key: an item's run is this key, with
# workspace_id in it (DESIGN.md, invariants); a run's deletion takes its items with it.
RUN_FOREIGN_KEY = """
ALTER TABLE reporting_payoutrunitem ADD CONSTRAINT payoutrunitem_run_fk
FOREIGN KEY (workspace_id, run_id) REFERENCES reporting_payoutrun (workspace_id, id)
ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_idempotencykey_from_attribution"),
        ("partners", "0005_program_default_destination"),
        ("reporting", "0006_running_totals"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE reporting_payoutrun_id_seq", "DROP SEQUENCE IF EXISTS reporting_payoutrun_id_seq"
        ),
        migrations.CreateModel(
            name="PayoutRun",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "workspace_id", "id", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "id",
                    models.BigIntegerField(
                        db_default=models.Func(
                            models.Value("reporting_payoutrun_id_seq"),
                            function="nextval",
                            output_field=models.BigIntegerField(),
                        ),
                        editable=False,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Preview"),
                            ("executing", "Paying"),
                            ("awaiting_confirmation", "Waiting for confirmation"),
                            ("needs_attention", "Some payments failed"),
                            ("done", "Done"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="draft",
                        max_length=24,
                    ),
                ),
                ("created_by_label", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField()),
                ("executed_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="accounts.user",
                    ),
                ),
                (
                    "period",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="reporting.payoutperiod",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.workspace",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["workspace", "-created_at"], name="payoutrun_ws_created")],
            },
        ),
        migrations.CreateModel(
            name="PayoutRunItem",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "workspace_id",
                        "run_id",
                        "statement_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("run_id", models.BigIntegerField()),
                ("amount", models.DecimalField(decimal_places=4, max_digits=18)),
                ("currency", models.CharField(max_length=3)),
                (
                    "method",
                    models.CharField(
                        blank=True, help_text="stripe_connect, paypal, sepa, manual; empty: none", max_length=16
                    ),
                ),
                (
                    "destination",
                    models.CharField(blank=True, help_text="Where the money goes, masked", max_length=200),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Ready to pay"),
                            ("blocked", "Blocked"),
                            ("sending", "Sending"),
                            ("paid", "Paid"),
                            ("failed", "Failed"),
                            ("awaiting_confirmation", "Waiting for confirmation"),
                            ("cancelled", "Taken out of the run"),
                        ],
                        default="pending",
                        max_length=24,
                    ),
                ),
                ("blocked_reason", models.CharField(blank=True, max_length=300)),
                ("attempt", models.PositiveSmallIntegerField(default=1)),
                (
                    "reference",
                    models.CharField(blank=True, help_text="The transfer id or the bank's reference", max_length=120),
                ),
                ("error_message", models.TextField(blank=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("paid_at", models.DateTimeField(blank=True, null=True)),
                (
                    "partner",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="partners.partner",
                    ),
                ),
                (
                    "statement",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="reporting.statement",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.workspace",
                    ),
                ),
            ],
            options={
                "ordering": ["run_id", "method", "statement_id"],
                "indexes": [models.Index(fields=["workspace", "statement"], name="payoutrunitem_ws_statement")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(
                            ("status__in", ["pending", "sending", "paid", "failed", "awaiting_confirmation"])
                        ),
                        fields=("workspace", "statement"),
                        name="payoutrunitem_statement_in_one_live_run",
                    )
                ],
            },
        ),
        migrations.RunSQL(RUN_FOREIGN_KEY, "ALTER TABLE reporting_payoutrunitem DROP CONSTRAINT payoutrunitem_run_fk"),
        migrations.CreateModel(
            name="SepaDebtor",
            fields=[
                (
                    "workspace",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="accounts.workspace",
                    ),
                ),
                ("name", models.CharField(max_length=70)),
                ("iban", models.CharField(max_length=34)),
                ("bic", models.CharField(max_length=11)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
