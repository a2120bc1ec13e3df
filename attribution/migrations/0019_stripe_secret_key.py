from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("attribution", "0018_partner_visits")]

    operations = [
        migrations.AddField(
            model_name="integrationsettings",
            name="stripe_secret_key_sealed",
            field=models.TextField(blank=True, help_text="The Stripe secret key, sk_…, sealed"),
        ),
        migrations.AddField(
            model_name="integrationsettings",
            name="stripe_secret_key_set_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
