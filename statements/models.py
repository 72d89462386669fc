"""Read-only ORM access to statements, for the support-staff admin only.

The statements table is partitioned and keyed ``(tenant_id, stored, statement_id)``; the
service reads and writes it with SQL (``services``, ``selectors``). The admin cannot use a
composite key, so it reads the ``statements_browse`` view, whose ``browse_key``
(``"<tenant_id>:<statement_id>"``) stands in for one. Nothing writes through this model.
"""

from django.db import models

from tenants.models import Tenant


class StatementRecord(models.Model):
    browse_key = models.TextField(primary_key=True)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    statement_id = models.UUIDField()
    stored = models.DateTimeField()
    timestamp = models.DateTimeField()
    # Nullable like the view's columns; nothing ever writes through this model.
    actor_ifi = models.TextField(null=True)  # noqa: DJ001
    verb_id = models.TextField()
    object_type = models.TextField()
    activity_id = models.TextField(null=True)  # noqa: DJ001
    registration = models.UUIDField(null=True)
    voided = models.BooleanField()
    payload = models.TextField()

    class Meta:
        managed = False
        db_table = "statements_browse"
        verbose_name = "statement"
        ordering = ("-stored",)

    def __str__(self) -> str:
        return str(self.statement_id)
