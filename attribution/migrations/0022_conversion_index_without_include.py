# The fraud signals now read their daily counts from ConversionDay (0021), so the conversions' partner
# index no longer needs kind and amount (0020), which only widened every conversion's entry. Rebuilt
# beside the old one without blocking writes, then swapped in under the old name, as 0020 did.

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("attribution", "0021_conversion_days"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="conversion",
            index=models.Index(fields=["workspace", "partner", "occurred_at"], name="conversion_ws_partner_time_p"),
        ),
        RemoveIndexConcurrently(
            model_name="conversion",
            name="conversion_ws_partner_time",
        ),
        migrations.RenameIndex(
            model_name="conversion",
            new_name="conversion_ws_partner_time",
            old_name="conversion_ws_partner_time_p",
        ),
    ]
