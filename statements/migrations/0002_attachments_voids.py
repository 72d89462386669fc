"""Attachment bodies, and the record of voided statement ids.

``statement_attachments``: content-addressed, one row per tenant and SHA-2 digest.
Statements refer to attachments by digest (``statements.attachment_sha2``), so the same file
sent with many statements is kept once. Never updated: a digest's content cannot change.

``statement_voids``: which statement ids a voiding statement targets. A voiding statement
may arrive before its target (Data §2.3.2: the LRS SHOULD NOT* reject it for that); a
target stored later must be voided on arrival, and checking this small table costs one
index probe per batch instead of one per monthly partition.
"""

from django.db import migrations

SQL = """
CREATE TABLE statement_attachments (
    tenant_id    bigint      NOT NULL,
    sha2         text        NOT NULL,
    content_type text        NOT NULL,
    length       bigint      NOT NULL,
    content      bytea       NOT NULL,
    created      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sha2)
);
CREATE TABLE statement_voids (
    tenant_id    bigint NOT NULL,
    statement_id uuid   NOT NULL,  -- the voided (target) statement
    voiding_id   uuid   NOT NULL,  -- the first voiding statement stored for it
    PRIMARY KEY (tenant_id, statement_id)
);
"""


class Migration(migrations.Migration):
    dependencies = [("statements", "0001_statements_schema")]

    operations = [
        migrations.RunSQL(
            SQL, reverse_sql="DROP TABLE statement_voids; DROP TABLE statement_attachments;"
        ),
    ]
