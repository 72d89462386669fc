"""The statements table, partitioned by month then by tenant hash, and the id registry.

Raw SQL because Django has no partitioned tables. Monthly partitions are created by the
partitions app (``partitions_ensure``), never here, so this migration only owns the parents.

Why the id registry is its own table (ARCHITECTURE.md §4): a partitioned table's primary key
must contain every partition key, so ``statements``' key is ``(tenant_id, stored,
statement_id)`` and cannot enforce one id per tenant across months. ``statement_ids`` is
keyed ``(tenant_id, statement_id)``, hash-partitioned by tenant only, and ``INSERT ... ON
CONFLICT DO NOTHING`` into it is how a write learns which ids are new. It also maps an id
to its ``stored`` time, so a lookup by id touches exactly one statements partition.
"""

from django.db import migrations

REGISTRY_BUCKETS = 8

STATEMENTS = """
CREATE TABLE statements (
    tenant_id           bigint      NOT NULL,
    stored              timestamptz NOT NULL,
    statement_id        uuid        NOT NULL,
    "timestamp"         timestamptz NOT NULL,
    version             text        NOT NULL,
    -- Lookup columns for the GET filters (Communication §2.1.3). IFIs are in the canonical
    -- string form the statements app defines (one string per Inverse Functional Identifier).
    actor_ifi           text,                       -- null for an anonymous Group actor
    verb_id             text        NOT NULL,
    object_type         text        NOT NULL,       -- Activity, Agent, Group, StatementRef, SubStatement
    activity_id         text,                       -- object's id when the object is an Activity
    statement_ref       uuid,                       -- object's id when the object is a StatementRef
    registration        uuid,
    agents              text[]      NOT NULL DEFAULT '{}',  -- "agent" filter matches besides the actor
    related_agents      text[]      NOT NULL DEFAULT '{}',  -- ... with related_agents=true
    related_activities  text[]      NOT NULL DEFAULT '{}',  -- ... with related_activities=true
    authority_ifi       text,
    voided              boolean     NOT NULL DEFAULT false,
    attachment_sha2     text[]      NOT NULL DEFAULT '{}',
    -- The statement as the LRS serves it (id, stored, authority, version, timestamp set),
    -- and, when it differs, the document as received. Text, not jsonb: returned verbatim
    -- and cheapest to load; every query uses the lookup columns instead.
    payload             text        NOT NULL,
    raw                 text,
    PRIMARY KEY (tenant_id, stored, statement_id)
) PARTITION BY RANGE (stored);

-- Each index leads with tenant_id and ends with stored, so a filtered query walks one
-- tenant's matches in "stored" order and stops at the page size.
CREATE INDEX statements_actor_idx ON statements (tenant_id, actor_ifi, stored);
CREATE INDEX statements_verb_idx ON statements (tenant_id, verb_id, stored);
CREATE INDEX statements_activity_idx ON statements (tenant_id, activity_id, stored)
    WHERE activity_id IS NOT NULL;
CREATE INDEX statements_registration_idx ON statements (tenant_id, registration, stored)
    WHERE registration IS NOT NULL;
CREATE INDEX statements_ref_idx ON statements (tenant_id, statement_ref)
    WHERE statement_ref IS NOT NULL;
-- related_agents holds a few entries per row: indexed at once (no fast-update pending
-- list for every query to read until vacuum merges it).
CREATE INDEX statements_related_agents_idx ON statements USING gin (related_agents)
    WITH (fastupdate = off);
CREATE INDEX statements_related_activities_idx ON statements USING gin (related_activities);
"""

REGISTRY = """
CREATE TABLE statement_ids (
    tenant_id    bigint      NOT NULL,
    statement_id uuid        NOT NULL,
    stored       timestamptz NOT NULL,
    -- Optional digest of the statement's equivalence form, for stores that keep no
    -- statement body to compare a re-sent id with (archived months).
    fingerprint  bytea,
    PRIMARY KEY (tenant_id, statement_id)
) PARTITION BY HASH (tenant_id);
""" + "".join(
    f"CREATE TABLE statement_ids_h{r} PARTITION OF statement_ids "
    f"FOR VALUES WITH (MODULUS {REGISTRY_BUCKETS}, REMAINDER {r});\n"
    for r in range(REGISTRY_BUCKETS)
)


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.RunSQL(STATEMENTS, reverse_sql="DROP TABLE statements;"),
        migrations.RunSQL(REGISTRY, reverse_sql="DROP TABLE statement_ids;"),
    ]
