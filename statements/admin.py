"""A read-only statement browser for support staff.

Built for a table of billions of rows: nothing is listed until a tenant is chosen (every
index leads with ``tenant_id``), searches are exact matches on indexed lookup columns, the
row count is capped instead of counted, and a statement's page is found through the id
registry so it reads one partition. Nothing can be added, changed or deleted here.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import orjson
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from statements.models import StatementRecord

COUNT_CAP = 10_000
_PREFIXES = {
    "actor": "actor_ifi",
    "verb": "verb_id",
    "activity": "activity_id",
    "registration": "registration",
    "id": "statement_id",
}


class CappedPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` rows: a full count of a tenant's statements is a scan."""

    @cached_property
    def count(self) -> int:
        return self.object_list[: COUNT_CAP + 1].count()


class StoredWithinFilter(admin.SimpleListFilter):
    title = "stored within"
    parameter_name = "within"
    _RANGES = {"1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1),
               "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}  # fmt: skip

    def lookups(self, request, model_admin):
        return [("1h", "the last hour"), ("1d", "the last day"), ("7d", "the last 7 days"),
                ("30d", "the last 30 days")]  # fmt: skip

    def queryset(self, request, queryset):
        span = self._RANGES.get(self.value() or "")
        return queryset.filter(stored__gte=timezone.now() - span) if span else queryset


@admin.register(StatementRecord)
class StatementRecordAdmin(admin.ModelAdmin):
    list_display = ("stored", "tenant", "actor_ifi", "verb_id", "activity_id", "registration",
                    "voided")  # fmt: skip
    list_filter = ("tenant", StoredWithinFilter, "voided")
    list_select_related = ("tenant",)
    search_fields = ("verb_id",)  # enables the search box; get_search_results decides
    search_help_text = (
        "Exact match: actor:<IFI> (e.g. actor:mbox:mailto:someone@example.org), verb:<IRI>, "
        "activity:<IRI>, registration:<UUID>, id:<UUID>; a bare UUID or IRI also works."
    )
    paginator = CappedPaginator
    show_full_result_count = False
    list_per_page = 50
    fields = ("statement_id", "tenant", "stored", "timestamp", "actor_ifi", "verb_id",
              "object_type", "activity_id", "registration", "voided", "statement_json")  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        listing = match is not None and match.url_name.endswith("changelist")
        if listing and "tenant__id__exact" not in request.GET:
            return queryset.none()
        return queryset

    def changelist_view(self, request, extra_context=None):
        if "tenant__id__exact" not in request.GET:
            self.message_user(request, "Choose a tenant to list its statements.")
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        field, value = self._search_field(term)
        if field is None:
            return queryset.none(), False
        return queryset.filter(**{field: value}), False

    def _search_field(self, term: str):
        prefix, sep, rest = term.partition(":")
        if sep and prefix in _PREFIXES and rest:
            field, value = _PREFIXES[prefix], rest.strip()
        else:
            field, value = None, term
            try:
                uuid.UUID(term)
                field = "statement_id"
            except ValueError:
                if re.match(r"^(mbox|mbox_sha1sum|openid|account):", term):
                    field = "actor_ifi"
                elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", term):
                    field = "verb_id" if "/verbs/" in term else "activity_id"
        if field in ("registration", "statement_id"):
            try:
                value = uuid.UUID(value)
            except ValueError:
                return None, None
        return field, value

    def get_object(self, request, object_id, from_field=None):
        """Through the id registry: its ``stored`` time names the one partition to read."""
        tenant_id, _, statement_id = str(object_id).partition(":")
        try:
            tenant_id, statement_id = int(tenant_id), uuid.UUID(statement_id)
        except ValueError:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT stored FROM statement_ids WHERE tenant_id = %s AND statement_id = %s",
                [tenant_id, statement_id],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        return (
            self.get_queryset(request)
            .filter(tenant_id=tenant_id, stored=row[0], statement_id=statement_id)
            .first()
        )

    @admin.display(description="statement")
    def statement_json(self, obj):
        pretty = orjson.dumps(orjson.loads(obj.payload), option=orjson.OPT_INDENT_2).decode()
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", pretty)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
