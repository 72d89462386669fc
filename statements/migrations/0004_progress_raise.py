"""``progress_raise(message)``: raise an error from inside a single SQL statement.

The two-round-trip write of small batches commits in the same round trip as its insert; when
an id turns out to be known already, the statement raises instead, so nothing is committed
and the batch is retried on the transactional path that compares re-sent statements.
"""

from django.db import migrations

SQL = """
CREATE FUNCTION progress_raise(message text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = message;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("statements", "0003_statements_browse")]

    operations = [
        migrations.RunSQL(SQL, reverse_sql="DROP FUNCTION progress_raise(text);"),
    ]
