"""IdempotencyKey moves here from attribution (the API platform's app) and keeps its table and rows."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_domain_verification"),
        ("attribution", "0015_idempotencykey_moves_to_accounts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
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
                    options={
                        "db_table": "attribution_idempotencykey",
                        "indexes": [models.Index(fields=["workspace", "created_at"], name="idempotencykey_ws_created")],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("workspace", "key"), name="idempotencykey_unique_per_workspace"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
