"""Attempts and completions, projected from statements (ARCHITECTURE.md §6).

Derived tables, written only by ``attempts.services``: each row is a pure function of the
statements of its group (tenant, learner, Activity, registration), so both can be emptied
and rebuilt from the log. Keys lead with the tenant (ARCHITECTURE.md §3); the ids are
uuid5 digests that include the tenant, hence also unique alone (the admin's key).

Indexes serve the recompute (``*_group_idx``: a group's rows), the read API's filters
(learner, Activity, registration, each ending with the keyset order), and rollups
(``parents``, GIN).
"""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

TABLES = """
CREATE TABLE attempts (
    tenant_id          bigint      NOT NULL,
    attempt_id         uuid        NOT NULL,
    learner            text        NOT NULL,   -- the actor's canonical IFI (statements.xapi.ifi)
    activity_id        text        NOT NULL,
    registration       uuid,
    session_id         text,                   -- cmi5 session id, when the statements carry one
    status             text        NOT NULL,
    completion         boolean,
    success            boolean,
    launch_mode        text,
    move_on            text,
    started_at         timestamptz NOT NULL,
    last_activity_at   timestamptz NOT NULL,
    ended_at           timestamptz,
    finished_at        timestamptz,
    best_scaled        double precision,
    best_raw           double precision,
    best_min           double precision,
    best_max           double precision,
    last_scaled        double precision,
    last_raw           double precision,
    last_min           double precision,
    last_max           double precision,
    duration_seconds   double precision,
    statement_count    integer     NOT NULL,
    outcome_statements jsonb       NOT NULL,
    parents            text[]      NOT NULL DEFAULT '{}',
    projected_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, attempt_id)
);
CREATE UNIQUE INDEX attempts_id_idx ON attempts (attempt_id);
CREATE INDEX attempts_group_idx ON attempts (tenant_id, learner, activity_id, registration);
CREATE INDEX attempts_order_idx ON attempts (tenant_id, last_activity_at, attempt_id);
CREATE INDEX attempts_activity_idx ON attempts (tenant_id, activity_id, last_activity_at, attempt_id);
CREATE INDEX attempts_registration_idx ON attempts (tenant_id, registration, last_activity_at, attempt_id)
    WHERE registration IS NOT NULL;
CREATE INDEX attempts_parents_idx ON attempts USING gin (parents);

CREATE TABLE completions (
    tenant_id      bigint      NOT NULL,
    completion_id  uuid        NOT NULL,
    learner        text        NOT NULL,
    activity_id    text        NOT NULL,
    registration   uuid,
    satisfied_at   timestamptz NOT NULL,
    basis          text        NOT NULL,
    move_on        text,
    score_scaled   double precision,
    score_raw      double precision,
    score_min      double precision,
    score_max      double precision,
    statement_id   uuid        NOT NULL,
    attempt_id     uuid        NOT NULL,
    parents        text[]      NOT NULL DEFAULT '{}',
    projected_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, completion_id)
);
CREATE UNIQUE INDEX completions_id_idx ON completions (completion_id);
CREATE INDEX completions_group_idx ON completions (tenant_id, learner, activity_id, registration);
CREATE INDEX completions_order_idx ON completions (tenant_id, satisfied_at, completion_id);
CREATE INDEX completions_activity_idx ON completions (tenant_id, activity_id, satisfied_at, completion_id);
CREATE INDEX completions_registration_idx ON completions (tenant_id, registration, satisfied_at, completion_id)
    WHERE registration IS NOT NULL;
CREATE INDEX completions_parents_idx ON completions USING gin (parents);
"""

VIEW_CODENAMES = ("view_attemptrecord", "view_completionrecord", "view_verboutcome")


def grant_support_staff(apps, schema_editor):
    app_config = apps.get_app_config("attempts")
    # create_permissions skips app configs without a models module (as in tenants 0002).
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="support-staff")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="attempts", codename__in=VIEW_CODENAMES)
    )


def revoke_support_staff(apps, schema_editor):
    apps.get_model("auth", "Permission").objects.filter(content_type__app_label="attempts").delete()


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tenants", "0002_support_staff_group"),
        ("statements", "0007_projection_queue"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunSQL(TABLES, reverse_sql="DROP TABLE completions; DROP TABLE attempts;"),
        migrations.CreateModel(
            name="AttemptRecord",
            fields=[
                ("learner", models.TextField()),
                ("activity_id", models.TextField()),
                ("registration", models.UUIDField(null=True)),
                (
                    "parents",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(), size=None
                    ),
                ),
                ("projected_at", models.DateTimeField()),
                ("attempt_id", models.UUIDField(primary_key=True, serialize=False)),
                ("session_id", models.TextField(null=True)),
                ("status", models.TextField()),
                ("completion", models.BooleanField(null=True)),
                ("success", models.BooleanField(null=True)),
                ("launch_mode", models.TextField(null=True)),
                ("move_on", models.TextField(null=True)),
                ("started_at", models.DateTimeField()),
                ("last_activity_at", models.DateTimeField()),
                ("ended_at", models.DateTimeField(null=True)),
                ("best_scaled", models.FloatField(null=True)),
                ("best_raw", models.FloatField(null=True)),
                ("best_min", models.FloatField(null=True)),
                ("best_max", models.FloatField(null=True)),
                ("last_scaled", models.FloatField(null=True)),
                ("last_raw", models.FloatField(null=True)),
                ("last_min", models.FloatField(null=True)),
                ("last_max", models.FloatField(null=True)),
                ("duration_seconds", models.FloatField(null=True)),
                ("statement_count", models.IntegerField()),
                ("outcome_statements", models.JSONField()),
            ],
            options={
                "verbose_name": "attempt",
                "db_table": "attempts",
                "ordering": ("-last_activity_at",),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="CompletionRecord",
            fields=[
                ("learner", models.TextField()),
                ("activity_id", models.TextField()),
                ("registration", models.UUIDField(null=True)),
                (
                    "parents",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(), size=None
                    ),
                ),
                ("projected_at", models.DateTimeField()),
                ("completion_id", models.UUIDField(primary_key=True, serialize=False)),
                ("satisfied_at", models.DateTimeField()),
                ("basis", models.TextField()),
                ("move_on", models.TextField(null=True)),
                ("score_scaled", models.FloatField(null=True)),
                ("score_raw", models.FloatField(null=True)),
                ("score_min", models.FloatField(null=True)),
                ("score_max", models.FloatField(null=True)),
                ("statement_id", models.UUIDField()),
                ("attempt_id", models.UUIDField()),
            ],
            options={
                "verbose_name": "completion",
                "db_table": "completions",
                "ordering": ("-satisfied_at",),
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="VerbOutcome",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "verb_id",
                    models.CharField(help_text="The verb IRI, exactly as sent", max_length=2000),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("launched", "launched"),
                            ("initialized", "initialized"),
                            ("progressed", "progressed"),
                            ("completed", "completed"),
                            ("passed", "passed"),
                            ("failed", "failed"),
                            ("terminated", "terminated"),
                            ("abandoned", "abandoned"),
                            ("waived", "waived"),
                            ("satisfied", "satisfied"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="verb_outcomes",
                        to="tenants.tenant",
                    ),
                ),
            ],
            options={
                "verbose_name": "verb outcome",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "verb_id"), name="verb_outcome_per_tenant"
                    )
                ],
            },
        ),
        migrations.RunPython(grant_support_staff, revoke_support_staff),
    ]
