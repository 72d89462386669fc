"""``statement_by_id`` plans every read for the one partition it reads.

PL/pgSQL prepares the function's row read once per connection, and PostgreSQL's plan cache,
after five executions with custom plans, builds a generic plan once to compare their
costs. For this read that generic plan covers every month and bucket (the ``stored`` time is
a parameter), and building it cost each connection about 100-160 ms with 20 months
attached, the slowest read by id of a run. The custom plan always wins (one partition,
pruned while planning), so the comparison is skipped.
"""

from django.db import migrations

SIGNATURE = "statement_by_id(bigint, uuid, boolean, text)"


class Migration(migrations.Migration):
    dependencies = [("statements", "0009_statement_reads")]

    operations = [
        migrations.RunSQL(
            f"ALTER FUNCTION {SIGNATURE} SET plan_cache_mode = force_custom_plan;",
            reverse_sql=f"ALTER FUNCTION {SIGNATURE} RESET plan_cache_mode;",
        ),
    ]
