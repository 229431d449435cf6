"""Bulk rows lose the single-column index on ``job``: ``unique_bulk_row`` (job, row_number) covers it.

Each of a job's rows is inserted once and updated once, and every index is paid for both times. Written by
hand, as awards 0008: the index is dropped by the name the database reports, not by copying the table (which
Django's SQLite schema editor would do for a ``db_index`` change).
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def _job_indexes(schema_editor: Any, table: str) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return sorted(name for name, info in constraints.items()
                  if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == ["job_id"])


def drop_index(apps: Any, schema_editor: Any) -> None:
    table = apps.get_model("bulk", "BulkIssueRow")._meta.db_table
    for name in _job_indexes(schema_editor, table):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_index(apps: Any, schema_editor: Any) -> None:
    table = apps.get_model("bulk", "BulkIssueRow")._meta.db_table
    quote = schema_editor.quote_name
    name = schema_editor._create_index_name(table, ["job_id"])
    schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote('job_id')})")


class Migration(migrations.Migration):

    dependencies = [
        ("bulk", "0002_job_emails_sent_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="bulkissuerow",
                    name="job",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="rows", to="bulk.bulkissuejob"),
                ),
            ],
            database_operations=[migrations.RunPython(drop_index, restore_index)],
        ),
    ]
