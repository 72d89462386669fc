"""The read-only ``support-staff`` group: view permissions on tenants and credentials.

Permissions are normally created after migrations run (post_migrate), which is too late
for a fresh database, so they are created here first. Later apps add their own view
permissions to this group in their own migrations.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "support-staff"
VIEW_CODENAMES = ("view_tenant", "view_credential")


def create_group(apps, schema_editor):
    app_config = apps.get_app_config("tenants")
    # create_permissions skips app configs without a models module; the migration state's
    # stand-in has none, so mark it for the duration of the call.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="tenants", codename__in=VIEW_CODENAMES)
    )


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
