"""The read-only ``statements_browse`` view and its admin model, viewable by support staff."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

VIEW = """
CREATE VIEW statements_browse AS
SELECT tenant_id::text || ':' || statement_id::text AS browse_key,
       tenant_id, statement_id, stored, "timestamp", actor_ifi, verb_id, object_type,
       activity_id, registration, voided, payload
FROM statements;
"""


def grant_support_staff(apps, schema_editor):
    app_config = apps.get_app_config("statements")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="support-staff")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="statements", codename="view_statementrecord"
        )
    )


def revoke_support_staff(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="statements", codename__endswith="_statementrecord"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0002_attachments_voids"),
        ("tenants", "0002_support_staff_group"),
    ]

    operations = [
        migrations.RunSQL(VIEW, reverse_sql="DROP VIEW statements_browse;"),
        migrations.CreateModel(
            name="StatementRecord",
            fields=[
                ("browse_key", models.TextField(primary_key=True, serialize=False)),
                ("statement_id", models.UUIDField()),
                ("stored", models.DateTimeField()),
                ("timestamp", models.DateTimeField()),
                ("actor_ifi", models.TextField(null=True)),
                ("verb_id", models.TextField()),
                ("object_type", models.TextField()),
                ("activity_id", models.TextField(null=True)),
                ("registration", models.UUIDField(null=True)),
                ("voided", models.BooleanField()),
                ("payload", models.TextField()),
                (
                    "tenant",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.DO_NOTHING,
                        related_name="+",
                        to="tenants.tenant",
                    ),
                ),
            ],
            options={
                "verbose_name": "statement",
                "db_table": "statements_browse",
                "ordering": ("-stored",),
                "managed": False,
            },
        ),
        migrations.RunPython(grant_support_staff, revoke_support_staff),
    ]
