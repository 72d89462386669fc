"""A GIN index on ``statements.agents``.

The ``agent`` filter matches a statement's Actor through the ``actor_ifi`` b-tree, walked in
``stored`` order, and every other place the Agent can appear (the Object, Group members)
through ``agents``, which holds only those other places and is usually empty; this index
answers that second branch. Without fast update: the arrays are short, so indexing them at
once costs inserts little, while a pending list would be read linearly by every query until
vacuum merges it (milliseconds per monthly partition).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("statements", "0004_progress_raise")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX statements_agents_idx ON statements USING gin (agents) "
            "WITH (fastupdate = off);",
            reverse_sql="DROP INDEX statements_agents_idx;",
        ),
    ]
