import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("attribution", "0003_reward_rules"),
        ("partners", "0003_default_programs"),
        ("referrals", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Commission",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(choices=[("lead", "Lead reward"), ("sale", "Sale commission")], max_length=8),
                ),
                ("amount", models.DecimalField(decimal_places=4, max_digits=18)),
                ("currency", models.CharField(max_length=3)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("approved", "Approved"),
                            ("paid", "Paid"),
                            ("rejected", "Rejected"),
                            ("reversed", "Reversed"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("occurred_at", models.DateTimeField(help_text="When the sale or lead happened")),
                (
                    "hold_until",
                    models.DateTimeField(help_text="Approved automatically once this passes (the program's hold)"),
                ),
                ("reversed_amount", models.DecimalField(decimal_places=4, default=0, max_digits=18)),
                ("rejection_reason", models.TextField(blank=True)),
                (
                    "explanation",
                    models.JSONField(
                        default=dict,
                        help_text="Why it was earned: source, click or code, window, rule and version, amounts",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("approved_at", models.DateTimeField(blank=True, null=True)),
                ("rejected_at", models.DateTimeField(blank=True, null=True)),
                ("paid_at", models.DateTimeField(blank=True, null=True)),
                (
                    "approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="commissions", to="partners.partner"
                    ),
                ),
                (
                    "program",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="commissions", to="partners.program"
                    ),
                ),
                (
                    "referral",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="commissions", to="referrals.referral"
                    ),
                ),
                (
                    "rejected_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "reward_rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="commissions",
                        to="attribution.rewardrule",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="commissions", to="accounts.workspace"
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Conversion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("sale", "Sale"), ("refund", "Refund")], max_length=8)),
                ("event_id", models.CharField(max_length=200)),
                (
                    "processor_ref",
                    models.CharField(
                        blank=True,
                        help_text="The payment processor's or CRM's own id (e.g. stripe:pi_123), so a sale reaching Tandem twice is one sale.",
                        max_length=200,
                        null=True,
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=4,
                        help_text="In the program's currency; refunds are positive too.",
                        max_digits=18,
                    ),
                ),
                ("currency", models.CharField(max_length=3)),
                ("original_amount", models.DecimalField(blank=True, decimal_places=4, max_digits=18, null=True)),
                ("original_currency", models.CharField(blank=True, max_length=3)),
                (
                    "fx_rate",
                    models.DecimalField(
                        blank=True,
                        decimal_places=10,
                        help_text="original_currency → currency, the workspace's rate for the day",
                        max_digits=20,
                        null=True,
                    ),
                ),
                ("occurred_at", models.DateTimeField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="conversions", to="partners.partner"
                    ),
                ),
                (
                    "program",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="conversions", to="partners.program"
                    ),
                ),
                (
                    "referral",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="conversions", to="referrals.referral"
                    ),
                ),
                (
                    "sale",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refunds",
                        to="attribution.conversion",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="conversions", to="accounts.workspace"
                    ),
                ),
            ],
            options={
                "ordering": ["-occurred_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="CommissionReversal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("amount", models.DecimalField(decimal_places=4, max_digits=18)),
                ("currency", models.CharField(max_length=3)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "commission",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reversals",
                        to="attribution.commission",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="commission_reversals",
                        to="accounts.workspace",
                    ),
                ),
                (
                    "refund",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reversals",
                        to="attribution.conversion",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="commission",
            name="conversion",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="commissions",
                to="attribution.conversion",
            ),
        ),
        migrations.CreateModel(
            name="ExchangeRate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField()),
                ("from_currency", models.CharField(max_length=3)),
                ("to_currency", models.CharField(max_length=3)),
                ("rate", models.DecimalField(decimal_places=10, max_digits=20)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="exchange_rates",
                        to="accounts.workspace",
                    ),
                ),
            ],
            options={
                "ordering": ["-date", "from_currency", "to_currency"],
            },
        ),
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=255)),
                ("request_hash", models.CharField(help_text="SHA-256 of method, path and body", max_length=64)),
                ("status_code", models.PositiveSmallIntegerField()),
                ("response", models.JSONField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="idempotency_keys",
                        to="accounts.workspace",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="InboundEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "event_id",
                    models.CharField(help_text="The sender's id for the event; one event per id.", max_length=200),
                ),
                (
                    "kind",
                    models.CharField(choices=[("lead", "Lead"), ("sale", "Sale"), ("refund", "Refund")], max_length=8),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("api", "API"),
                            ("stripe", "Stripe"),
                            ("hubspot", "HubSpot"),
                            ("csv", "CSV import"),
                            ("manual", "Entered by hand"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "payload",
                    models.JSONField(
                        help_text="The normalised event, with the original payload under `raw` when there is one."
                    ),
                ),
                ("related_event_id", models.CharField(blank=True, max_length=200)),
                ("processor_ref", models.CharField(blank=True, max_length=200)),
                ("customer_external_id", models.CharField(blank=True, max_length=200)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("received", "Received"),
                            ("attributed", "Attributed"),
                            ("unattributed", "Unattributed"),
                            ("duplicate", "Duplicate sale"),
                            ("failed", "Failed"),
                        ],
                        default="received",
                        max_length=14,
                    ),
                ),
                (
                    "reason",
                    models.TextField(blank=True, help_text="Why the event ended as it did, for the people reading it."),
                ),
                (
                    "reason_code",
                    models.CharField(
                        blank=True, help_text="The same reason for programs, e.g. no_exchange_rate.", max_length=40
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("received_at", models.DateTimeField()),
                ("attempted_at", models.DateTimeField(blank=True, null=True)),
                ("processed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="inbound_events",
                        to="accounts.workspace",
                    ),
                ),
            ],
            options={
                "ordering": ["-received_at", "-id"],
            },
        ),
        migrations.AddIndex(
            model_name="conversion",
            index=models.Index(fields=["workspace", "partner", "occurred_at"], name="conversion_ws_partner_time"),
        ),
        migrations.AddIndex(
            model_name="conversion",
            index=models.Index(fields=["workspace", "referral", "occurred_at"], name="conversion_ws_referral_time"),
        ),
        migrations.AddIndex(
            model_name="conversion",
            index=models.Index(
                condition=models.Q(("sale__isnull", False)), fields=["workspace", "sale"], name="conversion_ws_sale"
            ),
        ),
        migrations.AddConstraint(
            model_name="conversion",
            constraint=models.UniqueConstraint(
                fields=("workspace", "event_id"), name="conversion_event_unique_per_workspace"
            ),
        ),
        migrations.AddConstraint(
            model_name="conversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("processor_ref__isnull", False)),
                fields=("workspace", "processor_ref"),
                name="conversion_processor_ref_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="conversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="conversion_amount_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="conversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "refund"), _negated=True), ("sale__isnull", False), _connector="OR"
                ),
                name="conversion_refund_has_sale",
            ),
        ),
        migrations.AddIndex(
            model_name="commissionreversal",
            index=models.Index(fields=["workspace", "commission"], name="reversal_ws_commission"),
        ),
        migrations.AddConstraint(
            model_name="commissionreversal",
            constraint=models.UniqueConstraint(
                fields=("workspace", "refund", "commission"), name="reversal_unique_per_refund"
            ),
        ),
        migrations.AddConstraint(
            model_name="commissionreversal",
            constraint=models.CheckConstraint(condition=models.Q(("amount__gt", 0)), name="reversal_amount_positive"),
        ),
        migrations.AddIndex(
            model_name="commission",
            index=models.Index(fields=["workspace", "status", "hold_until"], name="commission_ws_status_hold"),
        ),
        migrations.AddIndex(
            model_name="commission",
            index=models.Index(fields=["workspace", "partner", "created_at"], name="commission_ws_partner_created"),
        ),
        migrations.AddIndex(
            model_name="commission",
            index=models.Index(fields=["workspace", "referral"], name="commission_ws_referral"),
        ),
        migrations.AddConstraint(
            model_name="commission",
            constraint=models.UniqueConstraint(
                fields=("workspace", "conversion", "partner", "reward_rule"),
                name="commission_unique_per_conversion_rule",
            ),
        ),
        migrations.AddConstraint(
            model_name="commission",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "lead")),
                fields=("workspace", "referral", "partner", "reward_rule"),
                name="commission_one_lead_reward",
            ),
        ),
        migrations.AddConstraint(
            model_name="commission",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="commission_amount_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="commission",
            constraint=models.CheckConstraint(
                condition=models.Q(("reversed_amount__gte", 0), ("reversed_amount__lte", models.F("amount"))),
                name="commission_reversal_within_amount",
            ),
        ),
        migrations.AddConstraint(
            model_name="commission",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "sale"), _negated=True), ("conversion__isnull", False), _connector="OR"
                ),
                name="commission_sale_has_conversion",
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangerate",
            constraint=models.UniqueConstraint(
                fields=("workspace", "date", "from_currency", "to_currency"), name="exchangerate_unique_per_day"
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangerate",
            constraint=models.CheckConstraint(condition=models.Q(("rate__gt", 0)), name="exchangerate_rate_positive"),
        ),
        migrations.AddIndex(
            model_name="idempotencykey",
            index=models.Index(fields=["workspace", "created_at"], name="idempotencykey_ws_created"),
        ),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(fields=("workspace", "key"), name="idempotencykey_unique_per_workspace"),
        ),
        migrations.AddIndex(
            model_name="inboundevent",
            index=models.Index(
                condition=models.Q(("status", "received")),
                fields=["workspace", "received_at"],
                name="inboundevent_ws_pending",
            ),
        ),
        migrations.AddIndex(
            model_name="inboundevent",
            index=models.Index(fields=["workspace", "status", "received_at"], name="inboundevent_ws_status"),
        ),
        migrations.AddIndex(
            model_name="inboundevent",
            index=models.Index(
                condition=models.Q(("kind", "refund")),
                fields=["workspace", "related_event_id"],
                name="inboundevent_ws_refund_of",
            ),
        ),
        migrations.AddIndex(
            model_name="inboundevent",
            index=models.Index(
                condition=models.Q(("processor_ref", ""), _negated=True),
                fields=["workspace", "processor_ref"],
                name="inboundevent_ws_processor_ref",
            ),
        ),
        migrations.AddIndex(
            model_name="inboundevent",
            index=models.Index(
                condition=models.Q(("status", "received")),
                fields=["workspace", "customer_external_id", "id"],
                name="inboundevent_ws_customer_pending",
            ),
        ),
        migrations.AddConstraint(
            model_name="inboundevent",
            constraint=models.UniqueConstraint(
                fields=("workspace", "event_id"), name="inboundevent_unique_per_workspace"
            ),
        ),
    ]
