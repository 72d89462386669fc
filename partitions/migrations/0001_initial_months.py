"""Create the current and next month's statement partitions, so a fresh database accepts
statements at once; beat's daily ``partitions_ensure`` keeps months ahead from then on.

It calls the live service on purpose: that code builds a month from the parent table's
current definition, so it is correct at whatever point of the migration history it runs.
Backwards it does nothing: months are dropped with their parent (statements 0001).
"""

from django.db import migrations


def ensure_months(apps, schema_editor):
    from partitions.services import partition_ensure_months

    partition_ensure_months(months_ahead=1, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    initial = True
    dependencies = [("statements", "0001_statements_schema")]

    operations = [migrations.RunPython(ensure_months, migrations.RunPython.noop)]
