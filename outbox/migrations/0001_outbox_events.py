"""The outbox_events table, viewable by support staff (docs/events.md)."""

import django.db.models.functions.datetime
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GROUP = "support-staff"


def grant_support_staff(apps, schema_editor):
    app_config = apps.get_app_config("outbox")
    # create_permissions skips app configs without a models module; the migration state's
    # stand-in has none, so mark it for the duration of the call.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="outbox", codename="view_outboxrecord")
    )


def revoke_support_staff(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="outbox", codename__endswith="_outboxrecord"
    ).delete()


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="OutboxRecord",
            fields=[
                ("seq", models.BigAutoField(primary_key=True, serialize=False)),
                ("event_id", models.UUIDField(unique=True)),
                ("event_type", models.TextField()),
                ("schema_version", models.SmallIntegerField()),
                ("tenant_id", models.BigIntegerField()),
                ("tenant_slug", models.TextField()),
                ("aggregate_key", models.TextField()),
                ("shard", models.SmallIntegerField()),
                ("payload", models.TextField()),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                ("attempts", models.IntegerField(db_default=0, default=0)),
                ("next_try_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True, db_default="", default="")),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("dead_at", models.DateTimeField(blank=True, null=True)),
                ("discarded_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "outbox event",
                "db_table": "outbox_events",
                "ordering": ("-seq",),
                "indexes": [
                    models.Index(
                        condition=models.Q(
                            ("dead_at__isnull", True),
                            ("discarded_at__isnull", True),
                            ("sent_at__isnull", True),
                        ),
                        fields=["shard", "seq"],
                        name="outbox_pending",
                    ),
                    models.Index(
                        condition=models.Q(
                            ("attempts__gt", 0),
                            ("discarded_at__isnull", True),
                            ("sent_at__isnull", True),
                        ),
                        fields=["shard", "aggregate_key"],
                        name="outbox_troubled",
                    ),
                    models.Index(
                        condition=models.Q(("sent_at__isnull", False)),
                        fields=["sent_at"],
                        name="outbox_sent",
                    ),
                    models.Index(
                        condition=models.Q(("discarded_at__isnull", False)),
                        fields=["discarded_at"],
                        name="outbox_discarded",
                    ),
                    models.Index(fields=["aggregate_key", "seq"], name="outbox_aggregate"),
                ],
            },
        ),
        migrations.RunPython(grant_support_staff, revoke_support_staff),
    ]
