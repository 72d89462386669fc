"""The outbox table: one row per event, written in the transaction of the change it
announces, relayed to NATS JetStream by ``outbox.relay``.

States (no status column: each is a timestamp, so a row says when it got there):

- pending: ``sent_at``, ``dead_at`` and ``discarded_at`` null; due when ``next_try_at`` is
  null or past;
- sent: ``sent_at`` set (JetStream acked it); deleted after the retention window;
- dead: ``dead_at`` set after ``PROGRESS_OUTBOX_MAX_ATTEMPTS`` failures; kept, not
  published, and blocking the later events of its aggregate key until retried or discarded;
- discarded: ``discarded_at`` set by an operator; never published; deleted like sent rows.

``seq`` (a bigserial) is the total order; the relay publishes each aggregate key's events
in ``seq`` order. ``shard`` is a stable hash of the aggregate key (``outbox.services``), so
one relay worker at a time owns all the events of a key. No foreign key to tenants: the
outbox imports no other app, and an event outlives nothing it refers to.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

PENDING = Q(sent_at__isnull=True, dead_at__isnull=True, discarded_at__isnull=True)
TROUBLED = Q(sent_at__isnull=True, discarded_at__isnull=True, attempts__gt=0)


class OutboxRecord(models.Model):
    seq = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True)
    event_type = models.TextField()
    schema_version = models.SmallIntegerField()
    tenant_id = models.BigIntegerField()
    tenant_slug = models.TextField()
    aggregate_key = models.TextField()
    shard = models.SmallIntegerField()
    # The event's ``data`` as JSON text, exactly the bytes the envelope embeds.
    payload = models.TextField()
    created_at = models.DateTimeField(db_default=Now())
    attempts = models.IntegerField(default=0, db_default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(default="", db_default="", blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    discarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "outbox_events"
        verbose_name = "outbox event"
        ordering = ("-seq",)
        indexes = [
            # The relay's claim (shard, in seq order) and the backlog count.
            models.Index(fields=["shard", "seq"], condition=PENDING, name="outbox_pending"),
            # Keys held back by a failed or dead event (usually none).
            models.Index(
                fields=["shard", "aggregate_key"], condition=TROUBLED, name="outbox_troubled"
            ),
            # Retention.
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outbox_sent"
            ),
            models.Index(
                fields=["discarded_at"],
                condition=Q(discarded_at__isnull=False),
                name="outbox_discarded",
            ),
            # Operators look events up by aggregate key.
            models.Index(fields=["aggregate_key", "seq"], name="outbox_aggregate"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"

    @property
    def state(self) -> str:
        if self.sent_at is not None:
            return "sent"
        if self.discarded_at is not None:
            return "discarded"
        if self.dead_at is not None:
            return "dead"
        return "pending"
