"""The xapi_documents table (State, Activity Profile, Agent Profile), viewable by support
staff."""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant_support_staff(apps, schema_editor):
    app_config = apps.get_app_config("documents")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="support-staff")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="documents", codename="view_document")
    )


def revoke_support_staff(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="documents", codename__endswith="_document"
    ).delete()


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tenants", "0002_support_staff_group"),
    ]

    operations = [
        migrations.CreateModel(
            name="Document",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("state", "State"),
                            ("activity_profile", "Activity Profile"),
                            ("agent_profile", "Agent Profile"),
                        ],
                        max_length=16,
                    ),
                ),
                ("scope_key", models.BinaryField(max_length=32)),
                ("document_key", models.BinaryField(max_length=32)),
                ("activity_id", models.TextField(blank=True, default="")),
                ("agent_ifi", models.TextField(blank=True, default="")),
                ("registration", models.UUIDField(blank=True, null=True)),
                ("document_id", models.TextField()),
                ("agent", models.JSONField(blank=True, null=True)),
                ("content", models.BinaryField()),
                ("content_type", models.TextField()),
                ("etag", models.CharField(max_length=40)),
                ("updated", models.DateTimeField()),
                (
                    "tenant",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenants.tenant",
                    ),
                ),
            ],
            options={
                "db_table": "xapi_documents",
                "ordering": ("-updated",),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "scope_key", "document_key"), name="xapi_documents_key"
                    )
                ],
            },
        ),
        migrations.RunPython(grant_support_staff, revoke_support_staff),
    ]
