"""The projection queue: one row per newly stored statement, for the downstream projector.

The statements write path inserts a row here in the same transaction as each statement it
stores (ARCHITECTURE.md §2), so a committed statement always has its row, and a rolled-back
one never does. The projector (``attempts``) claims rows in ``seq`` order with
``FOR UPDATE SKIP LOCKED`` and deletes them in the transaction that projects them; the age
of the oldest row is the projection lag. The statements app never reads this table.

``seq`` orders the queue across tenants (the claim walks ``projection_queue_seq_idx``);
the primary key leads with the tenant like every other key (ARCHITECTURE.md §3).
"""

from django.db import migrations

QUEUE = """
CREATE TABLE statement_projection_queue (
    tenant_id    bigint      NOT NULL,
    seq          bigint      GENERATED ALWAYS AS IDENTITY,
    statement_id uuid        NOT NULL,
    stored       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX projection_queue_seq_idx ON statement_projection_queue (seq);
"""


class Migration(migrations.Migration):
    dependencies = [("statements", "0006_activities_agents")]

    operations = [
        migrations.RunSQL(QUEUE, reverse_sql="DROP TABLE statement_projection_queue;"),
    ]
