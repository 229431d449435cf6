"""PostgreSQL announces committed changes to what public pages show (``NOTIFY insignia_changed``).

Server processes keep the rows their cached public pages are keyed on and forget them when told (see
``insignia.core.changes``). Every statement that updates, deletes or truncates awards, status lists, badges,
issuers or organisations, or adds, changes or removes a signing key, notifies once; PostgreSQL delivers it when
the transaction commits and folds the notifications of one transaction for one table into one. Statement-level
triggers, so a bulk update costs one notification, not one per row; inserting awards (bulk issuing) notifies
nothing, as a new award is in no memo. Nothing changes on SQLite.
"""

from typing import Any

from django.db import migrations

FUNCTION = "insignia_notify_changed"
#: (app label, model, the statements that notify).
WATCHED = (
    ("awards", "Award", "UPDATE OR DELETE OR TRUNCATE"),
    ("awards", "StatusList", "UPDATE OR DELETE OR TRUNCATE"),
    ("badges", "BadgeClass", "UPDATE OR DELETE OR TRUNCATE"),
    ("issuers", "Issuer", "UPDATE OR DELETE OR TRUNCATE"),
    ("issuers", "SigningKey", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
    ("core", "Organisation", "UPDATE OR DELETE OR TRUNCATE"),
)


def _tables(apps: Any, schema_editor: Any) -> list[tuple[str, str]]:
    quote = schema_editor.connection.ops.quote_name
    return [(quote(apps.get_model(app, model)._meta.db_table), events) for app, model, events in WATCHED]


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('insignia_changed', TG_TABLE_NAME); RETURN NULL; END $$"
    )
    for table, events in _tables(apps, schema_editor):
        schema_editor.execute(
            f"CREATE TRIGGER insignia_changed AFTER {events} ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def remove(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _ in _tables(apps, schema_editor):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS insignia_changed ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("awards", "0008_status_reservations_lean_award_indexes"),
        ("badges", "0002_badgeclass_published_at"),
        ("core", "0001_initial"),
        ("issuers", "0002_issuer_did_method"),
    ]
    operations = [migrations.RunPython(install, remove, elidable=False)]
