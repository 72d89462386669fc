"""Statements the projector could not project on their own, kept with the error.

A batch that fails is retried with fewer rows until the failing row is alone; that row is
moved here so that it cannot stall the queue behind it (``services.projection_drain_run``).
``manage.py projection_failures`` lists them, ``--retry`` queues them again.
"""

from django.db import migrations

TABLE = """
CREATE TABLE projection_failures (
    tenant_id    bigint      NOT NULL,
    statement_id uuid        NOT NULL,
    stored       timestamptz NOT NULL,
    error        text        NOT NULL,
    failed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, statement_id)
);
"""


class Migration(migrations.Migration):
    dependencies = [("attempts", "0001_initial")]

    operations = [migrations.RunSQL(TABLE, reverse_sql="DROP TABLE projection_failures;")]
