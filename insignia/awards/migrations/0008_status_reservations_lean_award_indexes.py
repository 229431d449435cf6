"""Status lists carry their reservation bits; awards lose the indexes a bulk insert pays for in vain.

* ``StatusList.reserved``: which entries are reserved, so reserving one is a read and a write of the list row
  instead of a query over the awards (empty for existing lists: rebuilt from their awards on first use).
* Award foreign keys that lead a composite index (organisation, badge, earner, revocation/suspension list)
  lose their own single-column index; ``replaces`` keeps one only where it is set (a partial index).
* On PostgreSQL, the ``LIKE`` pattern indexes (``…_like``) Django adds beside ``public_id``, ``credential_id``
  and ``recipient_hash`` are dropped: nothing searches these by prefix, and their plain indexes stay.

Written by hand: Django would apply the ``db_index`` changes on SQLite by copying the whole awards table once
per field (six copies of a table that may hold millions of rows); dropping the indexes by name is instant.
The names are read from the database (introspection), not assumed.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

#: Award columns whose single-column index goes.
_UNINDEXED = ("organisation_id", "badge_id", "earner_id", "replaces_id", "revocation_list_id", "suspension_list_id")
#: Award columns whose PostgreSQL ``LIKE`` pattern index goes.
_NO_PATTERN = ("public_id", "credential_id", "recipient_hash")


def _redundant_indexes(schema_editor: Any, table: str) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    names = []
    for name, info in constraints.items():
        if not info["index"] or info["unique"] or info["primary_key"] or len(info["columns"]) != 1:
            continue
        column = info["columns"][0]
        single = column in _UNINDEXED and name != "award_replaces"
        pattern = column in _NO_PATTERN and name.endswith("_like")
        if single or pattern:
            names.append(name)
    return sorted(names)


def drop_indexes(apps: Any, schema_editor: Any) -> None:
    table = apps.get_model("awards", "Award")._meta.db_table
    for name in _redundant_indexes(schema_editor, table):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_indexes(apps: Any, schema_editor: Any) -> None:
    """The indexes as Django's schema editor names and makes them for ``db_index=True`` fields."""
    model = apps.get_model("awards", "Award")
    table = model._meta.db_table
    quote = schema_editor.quote_name
    for column in _UNINDEXED:
        name = schema_editor._create_index_name(table, [column])
        schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})")
    if schema_editor.connection.vendor == "postgresql":
        for column in _NO_PATTERN:
            name = schema_editor._create_index_name(table, [column], suffix="_like")
            schema_editor.execute(
                f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)} varchar_pattern_ops)")


def _fk(**options: Any) -> models.ForeignKey:
    return models.ForeignKey(db_index=False, **options)


class Migration(migrations.Migration):

    dependencies = [
        ("awards", "0007_credential_lz4_compression"),
        ("badges", "0002_badgeclass_published_at"),
        ("core", "0001_initial"),
        ("issuers", "0002_issuer_did_method"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="statuslist",
            name="reserved",
            field=models.BinaryField(default=bytes),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="award", name="badge",
                    field=_fk(on_delete=django.db.models.deletion.PROTECT, related_name="awards",
                              to="badges.badgeclass"),
                ),
                migrations.AlterField(
                    model_name="award", name="earner",
                    field=_fk(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                              related_name="earned_awards", to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name="award", name="organisation",
                    field=_fk(on_delete=django.db.models.deletion.CASCADE, related_name="awards",
                              to="core.organisation"),
                ),
                migrations.AlterField(
                    model_name="award", name="replaces",
                    field=_fk(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                              related_name="replaced_by", to="awards.award"),
                ),
                migrations.AlterField(
                    model_name="award", name="revocation_list",
                    field=_fk(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                              to="awards.statuslist"),
                ),
                migrations.AlterField(
                    model_name="award", name="suspension_list",
                    field=_fk(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                              to="awards.statuslist"),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, restore_indexes)],
        ),
        migrations.AddIndex(
            model_name="award",
            index=models.Index(condition=models.Q(("replaces__isnull", False)), fields=["replaces"],
                               name="award_replaces"),
        ),
    ]
