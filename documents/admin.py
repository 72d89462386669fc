"""Read-only browsing of xAPI documents for support staff: find a learner's State or
profile documents by tenant, agent or activity and read them; never edit."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from documents.models import Document

_SHOWN_BYTES = 64 * 1024


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("updated", "tenant", "kind", "document_id", "activity_id", "agent_ifi",
                    "registration", "content_type")  # fmt: skip
    list_filter = ("tenant", "kind")
    list_select_related = ("tenant",)
    search_fields = ("agent_ifi", "activity_id", "document_id")
    search_help_text = (
        "Part of an agent identifier (e.g. mbox:mailto:someone@example.org or "
        "account:<homePage> <name>), an activity IRI or a document id."
    )
    list_per_page = 50
    fields = ("tenant", "kind", "document_id", "activity_id", "agent_ifi", "agent",
              "registration", "content_type", "etag", "updated", "content_shown")  # fmt: skip
    readonly_fields = fields

    @admin.display(description="content")
    def content_shown(self, document: Document) -> str:
        content = bytes(document.content)
        media_type = document.content_type.split(";", 1)[0].strip().lower()
        textual = media_type.startswith("text/") or media_type.endswith(("json", "+xml", "/xml"))
        if not textual:
            return f"{len(content)} bytes of {document.content_type}"
        text = content[:_SHOWN_BYTES].decode("utf-8", "replace")
        suffix = f"\n… ({len(content)} bytes in all)" if len(content) > _SHOWN_BYTES else ""
        return format_html("<pre>{}{}</pre>", text, suffix)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
