"""``statement_refs``: the statements whose object is a StatementRef, outside the partitions.

The StatementRef filter rule (Communication §2.1.3, "Filter Conditions for StatementRefs")
makes every filtered page ask which statements reference, directly or along a chain, a
statement that matches. Until now ``statements_referencing_matches`` answered from the
partitioned table with one generic plan per connection: building it cost each connection
about 15 ms per attached month (more than 200 ms with 13 months), again after every
``ANALYZE`` of a partition, and each call then started an executor node for every month
and bucket (1.4-3.5 ms) even when the tenant had no such statement at all.

``statement_refs (tenant_id, statement_id, stored, target_id)`` holds one row per stored
statement whose object is a StatementRef (voiding statements, comments on statements: few).
It is written in the transaction that stores the statement, by both write paths
(``statements_insert_small`` below and ``statements.services.statement_refs_record``), and
is filled here from what is stored. Whatever removes statements removes their rows.

The function now walks the chains in ``statement_refs`` alone, then reads the statements
it reached, and those that reached a match, by primary key within the ``stored`` range the
registry gives, with custom plans (planned for the months those rows are in). A tenant with
no referring statement in a page's range pays one index probe. The partial index
``statements_ref_idx``, which only the previous function read, is dropped.
"""

import importlib

from django.db import migrations

_small = importlib.import_module("statements.migrations.0008_statements_insert_small")
_reads = importlib.import_module("statements.migrations.0009_statement_reads")

TABLE = """
CREATE TABLE statement_refs (
    tenant_id    bigint      NOT NULL,
    statement_id uuid        NOT NULL,
    stored       timestamptz NOT NULL,
    target_id    uuid        NOT NULL,
    PRIMARY KEY (tenant_id, statement_id)
);
-- A page's referring statements, by the page's bounds on stored.
CREATE INDEX statement_refs_stored ON statement_refs (tenant_id, stored);
INSERT INTO statement_refs (tenant_id, statement_id, stored, target_id)
SELECT tenant_id, statement_id, stored, statement_ref FROM statements
WHERE statement_ref IS NOT NULL;
"""

INSERT_SMALL = """
CREATE OR REPLACE FUNCTION statements_insert_small(
    p_tenant bigint, p_stored timestamptz, p_rows jsonb, p_require_all boolean
) RETURNS SETOF uuid LANGUAGE plpgsql AS $$
DECLARE
    inserted_ids uuid[];
BEGIN
    WITH rows AS (
        SELECT * FROM jsonb_to_recordset(p_rows) AS r(
            statement_id uuid, timestamp timestamptz, version text, actor_ifi text,
            verb_id text, object_type text, activity_id text, statement_ref uuid,
            registration uuid, agents text[], related_agents text[],
            related_activities text[], authority_ifi text, attachment_sha2 text[],
            payload text, raw text)
    ), claimed AS (
        INSERT INTO statement_ids AS i (tenant_id, statement_id, stored)
        SELECT p_tenant, r.statement_id, p_stored FROM rows r ORDER BY r.statement_id
        ON CONFLICT DO NOTHING
        RETURNING i.statement_id
    ), inserted AS (
        INSERT INTO statements AS s (
            tenant_id, stored, statement_id, timestamp, version, actor_ifi, verb_id,
            object_type, activity_id, statement_ref, registration, agents, related_agents,
            related_activities, authority_ifi, voided, attachment_sha2, payload, raw)
        SELECT p_tenant, p_stored, r.statement_id, r.timestamp, r.version, r.actor_ifi,
               r.verb_id, r.object_type, r.activity_id, r.statement_ref, r.registration,
               r.agents, r.related_agents, r.related_activities, r.authority_ifi,
               EXISTS (SELECT 1 FROM statement_voids v
                       WHERE v.tenant_id = p_tenant AND v.statement_id = r.statement_id),
               r.attachment_sha2, r.payload, r.raw
        FROM rows r JOIN claimed c ON c.statement_id = r.statement_id
        RETURNING s.statement_id, s.statement_ref
    ), referring AS (
        INSERT INTO statement_refs (tenant_id, statement_id, stored, target_id)
        SELECT p_tenant, n.statement_id, p_stored, n.statement_ref FROM inserted n
        WHERE n.statement_ref IS NOT NULL
    ), queued AS (
        INSERT INTO statement_projection_queue (tenant_id, statement_id, stored)
        SELECT p_tenant, n.statement_id, p_stored FROM inserted n
    )
    SELECT coalesce(array_agg(n.statement_id), '{}') INTO inserted_ids FROM inserted n;
    IF p_require_all AND cardinality(inserted_ids) <> jsonb_array_length(p_rows) THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'statement id already registered';
    END IF;
    RETURN QUERY SELECT unnest(inserted_ids);
END $$;
"""

REFERENCING = """
CREATE OR REPLACE FUNCTION statements_referencing_matches(
    p_tenant bigint,
    p_agent text, p_related_agents boolean,
    p_verb text,
    p_activity text, p_related_activities boolean,
    p_registration uuid,
    p_from timestamptz, p_below timestamptz, p_since timestamptz, p_until timestamptz,
    p_authority text, p_max_depth integer
) RETURNS TABLE (statement_id uuid, stored timestamptz, payload text, attachment_sha2 text[])
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan SET jit = off AS $$
#variable_conflict use_column
DECLARE
    v_referrers uuid[];
    v_reached uuid[];
    v_low timestamptz;
    v_high timestamptz;
    v_matches uuid[];
    v_found uuid[];
BEGIN
    -- The referring statements in the page's bounds, each paired with every statement its
    -- chain reaches (depth-capped: clients choose ids, so chains may loop).
    WITH RECURSIVE chain(referrer, reached, depth) AS (
        SELECT r.statement_id, r.target_id, 1 FROM statement_refs r
        WHERE r.tenant_id = p_tenant
          AND r.stored >= p_from AND r.stored < p_below
          AND r.stored > p_since AND r.stored <= p_until
        UNION ALL
        SELECT c.referrer, r.target_id, c.depth + 1 FROM chain c
        JOIN statement_refs r ON r.tenant_id = p_tenant AND r.statement_id = c.reached
        WHERE c.depth < p_max_depth
    )
    SELECT array_agg(c.referrer), array_agg(c.reached) INTO v_referrers, v_reached
    FROM chain c;
    IF v_reached IS NULL THEN
        RETURN;
    END IF;

    -- Which reached statements match the filters. The registry's range of their stored
    -- times bounds the read, so the custom plan holds only the months they are in.
    SELECT min(i.stored), max(i.stored) INTO v_low, v_high FROM statement_ids i
    WHERE i.tenant_id = p_tenant AND i.statement_id = ANY(v_reached);
    IF v_low IS NULL THEN
        RETURN;
    END IF;
    SELECT array_agg(t.statement_id) INTO v_matches
    FROM statement_ids i
    JOIN statements t ON t.tenant_id = p_tenant AND t.stored = i.stored
     AND t.statement_id = i.statement_id
    WHERE i.tenant_id = p_tenant AND i.statement_id = ANY(v_reached)
      AND t.stored >= v_low AND t.stored <= v_high
      AND (p_agent IS NULL OR t.actor_ifi = p_agent
           OR (p_related_agents AND t.related_agents @> ARRAY[p_agent])
           OR (NOT p_related_agents AND t.agents @> ARRAY[p_agent]))
      AND (p_verb IS NULL OR t.verb_id = p_verb)
      AND (p_activity IS NULL
           OR (p_related_activities AND t.related_activities @> ARRAY[p_activity])
           OR (NOT p_related_activities AND t.activity_id = p_activity))
      AND (p_registration IS NULL OR t.registration = p_registration);
    IF v_matches IS NULL THEN
        RETURN;
    END IF;

    SELECT array_agg(DISTINCT u.referrer) INTO v_found
    FROM unnest(v_referrers, v_reached) AS u(referrer, reached)
    JOIN unnest(v_matches) AS m(id) ON m.id = u.reached;
    SELECT min(r.stored), max(r.stored) INTO v_low, v_high FROM statement_refs r
    WHERE r.tenant_id = p_tenant AND r.statement_id = ANY(v_found);
    RETURN QUERY
    SELECT s.statement_id, s.stored, s.payload, s.attachment_sha2
    FROM statement_refs r
    JOIN statements s ON s.tenant_id = p_tenant AND s.stored = r.stored
     AND s.statement_id = r.statement_id
    WHERE r.tenant_id = p_tenant AND r.statement_id = ANY(v_found)
      AND s.stored >= v_low AND s.stored <= v_high
      AND NOT s.voided AND (p_authority IS NULL OR s.authority_ifi = p_authority);
END $$;
"""


def _replacing(sql: str) -> str:
    return sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


class Migration(migrations.Migration):
    dependencies = [("statements", "0010_statement_by_id_custom_plans")]

    operations = [
        migrations.RunSQL(TABLE, reverse_sql="DROP TABLE statement_refs;"),
        migrations.RunSQL(INSERT_SMALL, reverse_sql=_replacing(_small.SQL)),
        migrations.RunSQL(REFERENCING, reverse_sql=_replacing(_reads.REFERENCING)),
        # Only the previous function read it.
        migrations.RunSQL(
            "DROP INDEX statements_ref_idx;",
            reverse_sql=(
                "CREATE INDEX statements_ref_idx ON statements (tenant_id, statement_ref) "
                "WHERE statement_ref IS NOT NULL;"
            ),
        ),
    ]
