from django.db import migrations, models


def seal_secrets(apps, schema_editor):
    from core.sealed import seal

    for endpoint in apps.get_model("accounts", "WebhookEndpoint").objects.all():
        endpoint.secret_sealed = seal(endpoint.secret_sealed)
        endpoint.save(update_fields=["secret_sealed"])


def unseal_secrets(apps, schema_editor):
    from core.sealed import unseal

    for endpoint in apps.get_model("accounts", "WebhookEndpoint").objects.all():
        endpoint.secret_sealed = unseal(endpoint.secret_sealed)
        endpoint.save(update_fields=["secret_sealed"])


class Migration(migrations.Migration):
    """Webhook signing secrets are sealed at rest, like payout details and the Stripe key (core/sealed.py)."""

    dependencies = [
        ("accounts", "0005_workspace_branding"),
    ]

    operations = [
        migrations.RenameField(model_name="webhookendpoint", old_name="secret", new_name="secret_sealed"),
        migrations.AlterField(model_name="webhookendpoint", name="secret_sealed", field=models.TextField()),
        migrations.RunPython(seal_secrets, unseal_secrets),
    ]
