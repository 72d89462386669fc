"""Outbox events in the admin: read-only for support staff (``support-staff`` group, view
permission from the migration); superusers can also retry or discard dead events."""

from __future__ import annotations

import uuid

import orjson
from django.contrib import admin, messages
from django.utils.html import format_html

from outbox.models import OutboxRecord
from outbox.services import OutboxError, outbox_discard, outbox_retry


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("pending", "pending"), ("dead", "dead"), ("sent", "sent"),
                ("discarded", "discarded")]  # fmt: skip

    def queryset(self, request, queryset):
        value = self.value()
        if value == "pending":
            return queryset.filter(sent_at__isnull=True, dead_at__isnull=True,
                                   discarded_at__isnull=True)  # fmt: skip
        if value == "dead":
            return queryset.filter(sent_at__isnull=True, discarded_at__isnull=True,
                                   dead_at__isnull=False)  # fmt: skip
        if value == "sent":
            return queryset.filter(sent_at__isnull=False)
        if value == "discarded":
            return queryset.filter(discarded_at__isnull=False)
        return queryset


@admin.register(OutboxRecord)
class OutboxRecordAdmin(admin.ModelAdmin):
    list_display = ("seq", "created_at", "event_type", "tenant_slug", "aggregate_key", "state",
                    "attempts", "next_try_at", "sent_at")  # fmt: skip
    list_filter = (StateFilter, "event_type", "tenant_slug")
    search_fields = ("aggregate_key",)  # enables the search box; get_search_results decides
    search_help_text = "Exact match: an event id (UUID) or an aggregate key."
    show_full_result_count = False
    list_per_page = 100
    actions = ("retry_dead", "discard_dead")
    fields = ("event_id", "seq", "event_type", "schema_version", "tenant_id", "tenant_slug",
              "aggregate_key", "shard", "created_at", "state", "attempts", "next_try_at",
              "last_error", "dead_at", "sent_at", "discarded_at", "payload_shown")  # fmt: skip
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(event_id=uuid.UUID(term)), False
        except ValueError:
            return queryset.filter(aggregate_key=term), False

    @admin.display(description="data")
    def payload_shown(self, obj: OutboxRecord) -> str:
        pretty = orjson.dumps(orjson.loads(obj.payload), option=orjson.OPT_INDENT_2).decode()
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", pretty)

    def has_superuser_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    @admin.action(description="Retry the selected dead events", permissions=["superuser"])
    def retry_dead(self, request, queryset):
        self._apply(request, queryset, outbox_retry, "due again")

    @admin.action(description="Discard the selected dead events", permissions=["superuser"])
    def discard_dead(self, request, queryset):
        self._apply(request, queryset, outbox_discard, "discarded")

    def _apply(self, request, queryset, operation, done: str) -> None:
        dead = queryset.filter(sent_at__isnull=True, discarded_at__isnull=True,
                               dead_at__isnull=False)  # fmt: skip
        count = 0
        for event_id in dead.values_list("event_id", flat=True):
            try:
                operation(event_id=event_id)
            except OutboxError as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                count += 1
        skipped = queryset.count() - count
        note = f" ({skipped} not dead, left alone)" if skipped else ""
        self.message_user(request, f"{count} dead events {done}{note}.", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
