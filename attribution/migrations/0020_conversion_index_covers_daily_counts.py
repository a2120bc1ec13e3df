# The conversions' partner index gains INCLUDE (kind, amount) so the fraud signals' daily counts read
# the index alone. Built beside the old one without blocking writes (a conversions table is large),
# then swapped in under the old name.

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("attribution", "0019_stripe_secret_key"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="conversion",
            index=models.Index(
                fields=["workspace", "partner", "occurred_at"],
                include=("kind", "amount"),
                name="conversion_ws_partner_time_c",
            ),
        ),
        RemoveIndexConcurrently(
            model_name="conversion",
            name="conversion_ws_partner_time",
        ),
        migrations.RenameIndex(
            model_name="conversion",
            new_name="conversion_ws_partner_time",
            old_name="conversion_ws_partner_time_c",
        ),
    ]
