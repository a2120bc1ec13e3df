from django.db import migrations, models

import reporting.payouts.codes


def give_every_statement_a_code(apps, schema_editor):
    """Statements issued before codes existed get one each (the column's default is one value for all), and
    their kept PDFs are dropped so the next download renders one that carries the code."""
    Statement = apps.get_model("reporting", "Statement")
    new_code = reporting.payouts.codes.new_verification_code
    batch = []
    for statement in Statement.objects.only("pk").order_by("pk").iterator(chunk_size=2000):
        statement.verification_code = new_code()
        statement.pdf = ""
        batch.append(statement)
        if len(batch) == 2000:
            Statement.objects.bulk_update(batch, ["verification_code", "pdf"])
            batch = []
    Statement.objects.bulk_update(batch, ["verification_code", "pdf"])


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0007_payout_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="statement",
            name="verification_code",
            field=models.CharField(default="", editable=False, max_length=10),
            preserve_default=False,
        ),
        migrations.RunPython(give_every_statement_a_code, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="statement",
            name="verification_code",
            field=models.CharField(
                default=reporting.payouts.codes.new_verification_code, editable=False, max_length=10
            ),
        ),
        migrations.AddConstraint(
            model_name="statement",
            constraint=models.UniqueConstraint(
                fields=("workspace", "verification_code"), name="statement_verification_code_unique_per_workspace"
            ),
        ),
        migrations.AddIndex(
            model_name="statement",
            index=models.Index(fields=["verification_code"], name="statement_verification_code"),
        ),
    ]
