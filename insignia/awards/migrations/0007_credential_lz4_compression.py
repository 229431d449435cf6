"""Compress stored credentials with LZ4 on PostgreSQL 14+ (where the server was built with it).

A signed OB 3.0 credential is ~3 KB of JSON, over PostgreSQL's 2 KB TOAST threshold, so every stored award
compresses it; the default (pglz) is several times slower than LZ4 and was a fifth of the database server's
work in bulk issuing. Only new values are compressed with LZ4 (existing rows stay readable as they are).
Nothing changes on SQLite or on a server without LZ4.
"""

from django.db import migrations


def use_lz4(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
                       "AND 'lz4' = ANY(enumvals)")
        if cursor.fetchone() is None:
            return  # built without LZ4
        cursor.execute("ALTER TABLE awards_award ALTER COLUMN credential SET COMPRESSION lz4")


def use_default(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql" and connection.pg_version >= 140000:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE awards_award ALTER COLUMN credential SET COMPRESSION DEFAULT")


class Migration(migrations.Migration):
    dependencies = [("awards", "0006_scale_indexes_engagement_rollup")]
    operations = [migrations.RunPython(use_lz4, use_default, elidable=False)]
