from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("partners", "0008_payout_details_sealed")]

    operations = [
        migrations.RemoveField(model_name="partner", name="payout_details"),
        migrations.RemoveField(model_name="partner", name="payout_method"),
    ]
