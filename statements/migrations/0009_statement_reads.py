"""Statement reads whose plans do not grow with the number of monthly partitions.

A query on ``statements`` sent as text is planned on every request, and the planner's work
grows with the partitions it must consider: with 13 monthly partitions attached (six months
kept, three made ahead, the rest waiting for the archive), planning a read by id cost
PostgreSQL about 3 ms and a filtered page 12-17 ms, against under 1.5 ms to run either. The
reads below are PL/pgSQL functions, whose statements are prepared once per connection (no
named prepared statements cross the pooler, ARCHITECTURE.md §4).

``statement_by_id(tenant, id, voided, authority)``: the registry gives the statement's
``stored`` time, and the row is then read with that time known, so the plan is made for the
one partition that holds it (PostgreSQL keeps custom plans here: a generic plan over every
partition is estimated dearer). ``authority`` null means any authority. The answer is the
same rows as the join of ``statement_ids`` and ``statements`` it replaces.

``statements_referencing_matches(...)``: the statements (the columns a page returns) of a
tenant whose object is a StatementRef and whose chain of references reaches a statement matching the content filters
(Communication §2.1.3, "Filter Conditions for StatementRefs"), between the page's bounds.
One generic plan (``plan_cache_mode = force_generic_plan``): the chain is followed through
the registry, so each step's partition is pruned at run time, and the filters are
parameters, null when absent. The statements it reads are few (voiding statements and
comments on statements); the ``stored`` bounds prune months at executor start.

``jit = off`` for the database. PostgreSQL compiles a query to machine code once its
estimated cost passes ``jit_above_cost``, and the estimate of a plan over many partitions
passes it though the plan reads a few rows: the generic plan above was estimated at 208,850
and spent 630 ms compiling on every call for a query that ran in under a millisecond. This
database serves short queries only, for which compiling never pays, so it is off for every
session (the setting takes effect on new connections). Set as the database's owner; a
migration run by another role leaves it unchanged with a warning (docs/operations.md).
"""

from django.db import migrations

BY_ID = """
CREATE FUNCTION statement_by_id(p_tenant bigint, p_id uuid, p_voided boolean, p_authority text)
RETURNS TABLE (statement_id uuid, stored timestamptz, payload text, attachment_sha2 text[])
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    v_stored timestamptz;
BEGIN
    SELECT i.stored INTO v_stored FROM statement_ids i
    WHERE i.tenant_id = p_tenant AND i.statement_id = p_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT s.statement_id, s.stored, s.payload, s.attachment_sha2 FROM statements s
    WHERE s.tenant_id = p_tenant AND s.stored = v_stored AND s.statement_id = p_id
      AND s.voided = p_voided AND (p_authority IS NULL OR s.authority_ifi = p_authority);
END $$;
"""

REFERENCING = """
CREATE FUNCTION statements_referencing_matches(
    p_tenant bigint,
    p_agent text, p_related_agents boolean,
    p_verb text,
    p_activity text, p_related_activities boolean,
    p_registration uuid,
    p_from timestamptz, p_below timestamptz, p_since timestamptz, p_until timestamptz,
    p_authority text, p_max_depth integer
) RETURNS TABLE (statement_id uuid, stored timestamptz, payload text, attachment_sha2 text[])
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan SET jit = off AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.statement_id, s.stored, s.payload, s.attachment_sha2 FROM statements s
    WHERE s.tenant_id = p_tenant AND s.statement_ref IS NOT NULL AND NOT s.voided
      AND s.stored >= p_from AND s.stored < p_below
      AND s.stored > p_since AND s.stored <= p_until
      AND (p_authority IS NULL OR s.authority_ifi = p_authority)
      AND EXISTS (
        WITH RECURSIVE chain(id, depth) AS (
            SELECT s.statement_ref, 1
            UNION ALL
            SELECT t.statement_ref, c.depth + 1 FROM chain c
            JOIN statement_ids i ON i.tenant_id = p_tenant AND i.statement_id = c.id
            JOIN statements t ON t.tenant_id = i.tenant_id AND t.stored = i.stored
             AND t.statement_id = i.statement_id
            WHERE t.statement_ref IS NOT NULL AND c.depth < p_max_depth
        )
        SELECT 1 FROM chain c
        JOIN statement_ids i ON i.tenant_id = p_tenant AND i.statement_id = c.id
        JOIN statements t ON t.tenant_id = i.tenant_id AND t.stored = i.stored
         AND t.statement_id = i.statement_id
        WHERE (p_agent IS NULL OR t.actor_ifi = p_agent
               OR (p_related_agents AND t.related_agents @> ARRAY[p_agent])
               OR (NOT p_related_agents AND t.agents @> ARRAY[p_agent]))
          AND (p_verb IS NULL OR t.verb_id = p_verb)
          AND (p_activity IS NULL
               OR (p_related_activities AND t.related_activities @> ARRAY[p_activity])
               OR (NOT p_related_activities AND t.activity_id = p_activity))
          AND (p_registration IS NULL OR t.registration = p_registration)
      );
END $$;
"""


JIT_OFF = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_database d JOIN pg_roles r ON r.rolname = current_user
               WHERE d.datname = current_database() AND (d.datdba = r.oid OR r.rolsuper)) THEN
        EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
    ELSE
        RAISE WARNING 'jit stays on: only the owner of database % can turn it off',
            current_database();
    END IF;
END $$;
"""

JIT_RESET = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_database d JOIN pg_roles r ON r.rolname = current_user
               WHERE d.datname = current_database() AND (d.datdba = r.oid OR r.rolsuper)) THEN
        EXECUTE format('ALTER DATABASE %I RESET jit', current_database());
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("statements", "0008_statements_insert_small")]

    operations = [
        migrations.RunSQL(JIT_OFF, reverse_sql=JIT_RESET),
        migrations.RunSQL(
            BY_ID, reverse_sql="DROP FUNCTION statement_by_id(bigint, uuid, boolean, text);"
        ),
        migrations.RunSQL(
            REFERENCING,
            reverse_sql=(
                "DROP FUNCTION statements_referencing_matches(bigint, text, boolean, text, "
                "text, boolean, uuid, timestamptz, timestamptz, timestamptz, timestamptz, "
                "text, integer);"
            ),
        ),
    ]
