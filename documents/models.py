"""xAPI documents (Communication §2.2): State, Activity Profile and Agent Profile documents.

One table for the three resources, which share every rule but their key. A document is
stored byte for byte with the Content-Type it was sent with, and its ETag (the SHA-1 of
those bytes, §3.1.s4.b2) is kept so that preconditions never re-hash the content.

Keys are hashed (``documents.keys``): activity IRIs, agent identifiers and document ids are
unbounded strings, and a b-tree entry is not. ``scope_key`` names the context a document
lives in (the kind plus the activity, the agent and the registration it belongs to) and
``document_key`` its id inside that context; the readable parts are kept beside them for
listing, the admin and the archive.
"""

from django.db import models

from tenants.models import Tenant


class DocumentKind(models.TextChoices):
    STATE = "state", "State"
    ACTIVITY_PROFILE = "activity_profile", "Activity Profile"
    AGENT_PROFILE = "agent_profile", "Agent Profile"


class Document(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    scope_key = models.BinaryField(max_length=32, editable=False)
    document_key = models.BinaryField(max_length=32, editable=False)
    # The readable key: "" where a kind has no such part; no registration is NULL, a key
    # value of its own (see documents.keys).
    activity_id = models.TextField(blank=True, default="")
    agent_ifi = models.TextField(blank=True, default="")
    registration = models.UUIDField(null=True, blank=True)
    document_id = models.TextField()
    agent = models.JSONField(null=True, blank=True)  # the Agent as first sent, for display
    content = models.BinaryField()
    content_type = models.TextField()
    etag = models.CharField(max_length=40)
    updated = models.DateTimeField()

    class Meta:
        db_table = "xapi_documents"
        ordering = ("-updated",)
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "scope_key", "document_key"], name="xapi_documents_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.document_id}"
