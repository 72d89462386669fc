"""What statements tell about Activities and Agents (``statements.xapi.definitions``).

``activity_definitions``: each Activity's canonical definition, merged from the
definitions statements carry (the Activities resource, Communication §2.5).
``known_agents``: the names each Agent identifier was seen with and, for an mbox, its
SHA-1, so the Agents resource (§2.4) can answer for either identifier.

Both are keyed by tenant first (ARCHITECTURE.md §3), small (one row per Activity or
Agent), and written by the statements write path in its own transaction, so they never
hold what was not stored.
"""

from django.db import migrations

TABLES = """
CREATE TABLE activity_definitions (
    tenant_id    bigint      NOT NULL,
    activity_id  text        NOT NULL,
    definition   jsonb       NOT NULL,
    updated      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, activity_id)
);

CREATE TABLE known_agents (
    tenant_id     bigint      NOT NULL,
    ifi           text        NOT NULL,   -- statements.xapi.ifi's canonical string
    names         text[]      NOT NULL DEFAULT '{}',
    mbox          text,                   -- for an mbox identifier, the mbox as sent
    mbox_sha1sum  text,                   -- ... and its SHA-1
    updated       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, ifi)
);
CREATE INDEX known_agents_sha1_idx ON known_agents (tenant_id, mbox_sha1sum)
    WHERE mbox_sha1sum IS NOT NULL;

-- statements.xapi.definitions.definition_merge, in SQL: the new definition wins per
-- property; name, description and extensions merge per key.
CREATE FUNCTION progress_definition_merge(old jsonb, new jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT old || new
        || CASE WHEN old ? 'name' AND new ? 'name'
                THEN jsonb_build_object('name', (old -> 'name') || (new -> 'name'))
                ELSE '{}'::jsonb END
        || CASE WHEN old ? 'description' AND new ? 'description'
                THEN jsonb_build_object('description',
                                        (old -> 'description') || (new -> 'description'))
                ELSE '{}'::jsonb END
        || CASE WHEN old ? 'extensions' AND new ? 'extensions'
                THEN jsonb_build_object('extensions',
                                        (old -> 'extensions') || (new -> 'extensions'))
                ELSE '{}'::jsonb END
$$;
"""

REVERSE = """
DROP FUNCTION progress_definition_merge(jsonb, jsonb);
DROP TABLE known_agents;
DROP TABLE activity_definitions;
"""


class Migration(migrations.Migration):
    dependencies = [("statements", "0005_agents_index")]

    operations = [migrations.RunSQL(TABLES, reverse_sql=REVERSE)]
