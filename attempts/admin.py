"""Support-staff views of projected progress, and the per-tenant verb mapping.

Attempts and completions are derived rows: the admin shows them and never edits them (a
wrong row is fixed by fixing the statements, or rebuilt with ``rebuild_projections``).
Listing waits for a tenant to be chosen, since every index leads with the tenant, and
searches are exact matches on indexed columns. The verb mapping is configuration: support
staff can read it, superusers change it (then rebuild that tenant, docs/projection.md).
"""

from __future__ import annotations

import re
import uuid

import orjson
from django.contrib import admin
from django.utils.html import format_html

from attempts.models import AttemptRecord, CompletionRecord, VerbOutcome

_IFI = re.compile(r"^(mbox|mbox_sha1sum|openid|account):")


class _ProjectedAdmin(admin.ModelAdmin):
    list_filter = ("tenant",)
    list_select_related = ("tenant",)
    search_fields = ("learner",)  # enables the box; get_search_results decides
    search_help_text = (
        "Exact match: a learner identifier (account:<homePage> <name>, mbox:mailto:...), "
        "an Activity IRI, or a registration UUID."
    )
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        listing = match is not None and match.url_name.endswith("changelist")
        if listing and "tenant__id__exact" not in request.GET:
            return queryset.none()
        return queryset

    def changelist_view(self, request, extra_context=None):
        if "tenant__id__exact" not in request.GET:
            self.message_user(request, "Choose a tenant to list its rows.")
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(registration=uuid.UUID(term)), False
        except ValueError:
            pass
        if _IFI.match(term):
            return queryset.filter(learner=term), False
        return queryset.filter(activity_id=term), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AttemptRecord)
class AttemptAdmin(_ProjectedAdmin):
    list_display = ("last_activity_at", "tenant", "learner", "activity_id", "status",
                    "session_id")  # fmt: skip
    list_filter = ("tenant", "status")
    readonly_fields = fields = (
        "attempt_id", "tenant", "learner", "activity_id", "registration", "session_id",
        "status", "completion", "success", "launch_mode", "move_on", "started_at",
        "last_activity_at", "ended_at", "finished_at", "best_scaled", "best_raw", "best_min",
        "best_max", "last_scaled", "last_raw", "last_min", "last_max", "duration_seconds",
        "statement_count", "outcome_statements_json", "parents", "projected_at",
    )  # fmt: skip

    @admin.display(description="outcome statements")
    def outcome_statements_json(self, obj):
        pretty = orjson.dumps(obj.outcome_statements, option=orjson.OPT_INDENT_2).decode()
        return format_html("<pre>{}</pre>", pretty)


@admin.register(CompletionRecord)
class CompletionAdmin(_ProjectedAdmin):
    list_display = ("satisfied_at", "tenant", "learner", "activity_id", "basis")
    list_filter = ("tenant", "basis")
    readonly_fields = fields = (
        "completion_id", "tenant", "learner", "activity_id", "registration", "satisfied_at",
        "basis", "move_on", "score_scaled", "score_raw", "score_min", "score_max",
        "statement_id", "attempt_id", "parents", "projected_at",
    )  # fmt: skip


@admin.register(VerbOutcome)
class VerbOutcomeAdmin(admin.ModelAdmin):
    list_display = ("tenant", "verb_id", "outcome")
    list_filter = ("tenant", "outcome")
    search_fields = ("verb_id",)
