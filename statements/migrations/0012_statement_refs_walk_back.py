"""The StatementRef filter rule walks back from the matches when a tenant has many
referring statements.

``statements_referencing_matches`` (0011) follows the chain of every referring statement in
the page's range and reads the statements the chains reach: about 12 µs per referring
statement on the 2-core machine, so a tenant with 10,000 of them (comments on statements,
say) paid 120 ms on every ``agent`` page, whose range is all time. For the filters that
select one learner or one registration, whose matching statements are few, the function
now starts from the other end when more than ``p_walk_back_above`` referring statements are
in range: the statements that match, then the referring statements that target one of
them, then those that target those, up to ``p_max_depth`` steps (the same chains, read
from their end; ``statement_refs_target`` serves each step). Other filters (verb,
activity) select many statements and are read in windows of ``stored`` that keep the range
short; they keep walking forward.
"""

import importlib

from django.db import migrations

_previous = importlib.import_module("statements.migrations.0011_statement_refs")

OLD_SIGNATURE = (
    "statements_referencing_matches(bigint, text, boolean, text, text, boolean, uuid, "
    "timestamptz, timestamptz, timestamptz, timestamptz, text, integer)"
)
NEW_SIGNATURE = OLD_SIGNATURE.replace("text, integer)", "text, integer, integer)")

REFERENCING = """
CREATE FUNCTION statements_referencing_matches(
    p_tenant bigint,
    p_agent text, p_related_agents boolean,
    p_verb text,
    p_activity text, p_related_activities boolean,
    p_registration uuid,
    p_from timestamptz, p_below timestamptz, p_since timestamptz, p_until timestamptz,
    p_authority text, p_max_depth integer, p_walk_back_above integer
) RETURNS TABLE (statement_id uuid, stored timestamptz, payload text, attachment_sha2 text[])
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan SET jit = off AS $$
#variable_conflict use_column
DECLARE
    v_referrers uuid[];
    v_reached uuid[];
    v_matches uuid[];
    v_found uuid[];
    v_in_range integer;
    v_step uuid[];
BEGIN
    IF p_agent IS NOT NULL OR p_registration IS NOT NULL THEN
        SELECT count(*) INTO v_in_range FROM (
            SELECT 1 FROM statement_refs r
            WHERE r.tenant_id = p_tenant
              AND r.stored >= p_from AND r.stored < p_below
              AND r.stored > p_since AND r.stored <= p_until
            LIMIT p_walk_back_above + 1) n;
        IF v_in_range > p_walk_back_above THEN
            -- Back from the statements that match to the referring statements whose chain
            -- reaches one of them, one step at a time: each step probes statement_refs_target
            -- once per statement of the last step (a join here would read the tenant's
            -- whole statement_refs into a hash). The depth ends loops.
            SELECT array_agg(t.statement_id) INTO v_step FROM statements t
            WHERE t.tenant_id = p_tenant
              AND (p_agent IS NULL OR t.actor_ifi = p_agent
                   OR (p_related_agents AND t.related_agents @> ARRAY[p_agent])
                   OR (NOT p_related_agents AND t.agents @> ARRAY[p_agent]))
              AND (p_verb IS NULL OR t.verb_id = p_verb)
              AND (p_activity IS NULL
                   OR (p_related_activities AND t.related_activities @> ARRAY[p_activity])
                   OR (NOT p_related_activities AND t.activity_id = p_activity))
              AND (p_registration IS NULL OR t.registration = p_registration);
            FOR v_depth IN 1..p_max_depth LOOP
                EXIT WHEN v_step IS NULL;
                SELECT array_agg(r.statement_id) INTO v_step FROM statement_refs r
                WHERE r.tenant_id = p_tenant AND r.target_id = ANY(v_step);
                v_found := coalesce(v_found, '{}') || v_step;
            END LOOP;
        END IF;
    END IF;

    IF v_in_range IS NULL OR v_in_range <= p_walk_back_above THEN
        -- The referring statements in the page's bounds, each paired with every statement
        -- its chain reaches (depth-capped: clients choose ids, so chains may loop).
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

        -- Which reached statements match the filters, each read by its key through the
        -- registry (see below on ranges of stored).
        SELECT array_agg(t.statement_id) INTO v_matches
        FROM statement_ids i
        JOIN statements t ON t.tenant_id = p_tenant AND t.stored = i.stored
         AND t.statement_id = i.statement_id
        WHERE i.tenant_id = p_tenant AND i.statement_id = ANY(v_reached)
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
    END IF;
    IF v_found IS NULL THEN
        RETURN;
    END IF;

    -- The referring statements found, in the page's bounds, each read by its key. No
    -- range of stored is given for ``s``: PostgreSQL prunes its months per row at run
    -- time, while a literal range let it pick a scan of that range instead of the key
    -- whenever the statistics had not seen the newest rows (9,900 rows read per probe,
    -- 650 ms, measured).
    RETURN QUERY
    SELECT s.statement_id, s.stored, s.payload, s.attachment_sha2
    FROM statement_refs r
    JOIN statements s ON s.tenant_id = p_tenant AND s.stored = r.stored
     AND s.statement_id = r.statement_id
    WHERE r.tenant_id = p_tenant AND r.statement_id = ANY(v_found)
      AND r.stored >= p_from AND r.stored < p_below
      AND r.stored > p_since AND r.stored <= p_until
      AND NOT s.voided AND (p_authority IS NULL OR s.authority_ifi = p_authority);
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("statements", "0011_statement_refs")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX statement_refs_target ON statement_refs (tenant_id, target_id);",
            reverse_sql="DROP INDEX statement_refs_target;",
        ),
        migrations.RunSQL(
            f"DROP FUNCTION {OLD_SIGNATURE};",
            reverse_sql=_previous.REFERENCING.replace(
                "CREATE OR REPLACE FUNCTION", "CREATE FUNCTION", 1
            ),
        ),
        migrations.RunSQL(REFERENCING, reverse_sql=f"DROP FUNCTION {NEW_SIGNATURE};"),
    ]
