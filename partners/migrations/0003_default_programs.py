"""Give every existing workspace its Default program (new ones get it from create_workspace)."""

from django.db import migrations


def create_default_programs(apps, schema_editor):
    Workspace = apps.get_model("accounts", "Workspace")
    Program = apps.get_model("partners", "Program")
    for workspace in Workspace.objects.exclude(programs__slug="default"):
        Program.objects.get_or_create(workspace=workspace, slug="default", defaults={"name": "Default"})


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0002_partner_applications_invitations"),
    ]

    # Going back leaves the programs in place: partners may already point at them.
    operations = [migrations.RunPython(create_default_programs, migrations.RunPython.noop)]
