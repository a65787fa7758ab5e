"""Groups and their permissions, created here so every database has the same roles."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DOSSIER_WORK = [
    "dossiers.view_dossier", "dossiers.change_dossier", "dossiers.add_dossier",
    "dossiers.view_dossierevent", "dossiers.view_document", "dossiers.view_payment",
    "dossiers.view_rating", "dossiers.view_petition", "dossiers.change_petition",
    "dossiers.view_procedure", "dossiers.view_procedureversion", "dossiers.view_field",
    "portal.view_servicecenter", "portal.view_province", "portal.view_commune",
]
GROUPS = {
    "Citizens": [],
    "Receptionists": DOSSIER_WORK,
    "Officers": DOSSIER_WORK,
    "Leaders": DOSSIER_WORK + ["portal.view_staffmembership"],
    "Managers": [
        "dossiers.view_dossier", "dossiers.view_dossierevent", "dossiers.view_procedure",
        "dossiers.view_petition", "portal.view_servicecenter", "portal.view_province",
        "portal.view_commune",
    ],
}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("dossiers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
