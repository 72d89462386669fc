"""Projected learner progress: attempts and completions, and the per-tenant verb mapping.

``attempts`` and ``completions`` are derived data: written only by ``attempts.services``
from the statement log, rebuildable from it at any time (``rebuild_projections``), and keyed
``(tenant_id, <uuid5 id>)`` (ARCHITECTURE.md §3, §6). Their tables are created by SQL in the
migration; the models below map them read-only for the admin and selectors (nothing writes
through them). ``attempt_id`` and ``completion_id`` are digests of keys that include the
tenant, so each is unique on its own, which lets the admin use it as the primary key.

``VerbOutcome`` is configuration, edited by support staff: a tenant's own verbs mapped to
outcomes (``attempts.vocabulary``).
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from attempts.vocabulary import Outcome
from tenants.models import Tenant


class VerbOutcome(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="verb_outcomes")
    verb_id = models.CharField(max_length=2000, help_text="The verb IRI, exactly as sent")
    outcome = models.CharField(max_length=16, choices=[(o.value, o.value) for o in Outcome])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("tenant", "verb_id"), name="verb_outcome_per_tenant")
        ]
        verbose_name = "verb outcome"

    def __str__(self) -> str:
        return f"{self.verb_id} -> {self.outcome}"


class _Projected(models.Model):
    tenant = models.ForeignKey(
        Tenant, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    learner = models.TextField()
    activity_id = models.TextField()
    registration = models.UUIDField(null=True)
    parents = ArrayField(models.TextField())
    projected_at = models.DateTimeField()

    class Meta:
        abstract = True


class AttemptRecord(_Projected):
    attempt_id = models.UUIDField(primary_key=True)
    session_id = models.TextField(null=True)  # noqa: DJ001 (mirrors a nullable column)
    status = models.TextField()
    completion = models.BooleanField(null=True)
    success = models.BooleanField(null=True)
    launch_mode = models.TextField(null=True)  # noqa: DJ001
    move_on = models.TextField(null=True)  # noqa: DJ001
    started_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    best_scaled = models.FloatField(null=True)
    best_raw = models.FloatField(null=True)
    best_min = models.FloatField(null=True)
    best_max = models.FloatField(null=True)
    last_scaled = models.FloatField(null=True)
    last_raw = models.FloatField(null=True)
    last_min = models.FloatField(null=True)
    last_max = models.FloatField(null=True)
    duration_seconds = models.FloatField(null=True)
    statement_count = models.IntegerField()
    outcome_statements = models.JSONField()

    class Meta:
        managed = False
        db_table = "attempts"
        verbose_name = "attempt"
        ordering = ("-last_activity_at",)

    def __str__(self) -> str:
        return f"{self.learner} / {self.activity_id} ({self.status})"


class CompletionRecord(_Projected):
    completion_id = models.UUIDField(primary_key=True)
    satisfied_at = models.DateTimeField()
    basis = models.TextField()
    move_on = models.TextField(null=True)  # noqa: DJ001
    score_scaled = models.FloatField(null=True)
    score_raw = models.FloatField(null=True)
    score_min = models.FloatField(null=True)
    score_max = models.FloatField(null=True)
    statement_id = models.UUIDField()
    attempt_id = models.UUIDField()

    class Meta:
        managed = False
        db_table = "completions"
        verbose_name = "completion"
        ordering = ("-satisfied_at",)

    def __str__(self) -> str:
        return f"{self.learner} / {self.activity_id} ({self.basis})"
