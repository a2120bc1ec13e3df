from django.db import migrations, models


class Migration(migrations.Migration):
    """What the CSV import sweeper watches, so an import whose worker died is resumed, not stuck."""

    dependencies = [
        ("attribution", "0013_inbox_indexes_no_partner_and_click_waits"),
    ]

    operations = [
        migrations.AddField(
            model_name="csvimport",
            name="progress_at",
            field=models.DateTimeField(
                blank=True, help_text="Last chunk committed, run started or sent again", null=True
            ),
        ),
        migrations.AddField(
            model_name="csvimport",
            name="runs_without_progress",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="csvimport",
            name="total_rows",
            field=models.PositiveIntegerField(
                blank=True, help_text="Data lines, counted when the job starts", null=True
            ),
        ),
    ]
