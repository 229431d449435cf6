"""Indexes for a million awards, and per-organisation daily engagement totals.

What each index serves (reviewed like code):

* ``award_org_issued`` (organisation, issued_on DESC, id DESC) replaces (organisation, issued_on DESC): the award
  list's order is exactly this, so a page is a short index range, and the id-only scan that finds a deep page is
  index-only. It also serves the dashboard's "awarded this month" count and its recent awards.
* ``award_org_status_issued`` (organisation, status, issued_on DESC, id DESC) replaces (organisation, status):
  the list filtered by status (revoked, suspended) in page order, and the dashboard's revoked count.
* ``engagement_day`` (day): rolling one closed day of ``EngagementCount`` up into ``EngagementDaily``.
* ``EngagementDaily``'s unique (organisation, day, kind): organisation totals over a date range read a few
  rows per day instead of summing every award's rows (``insignia.awards.rollup``).
* PostgreSQL only: trigram GIN indexes on ``UPPER(recipient_identity)`` and ``UPPER(recipient_name)`` (the exact
  expressions of Django's ``icontains``), so the list's recipient search finds rare matches without reading
  every award. They need the ``pg_trgm`` extension (trusted since PostgreSQL 13: a database owner may create
  it); where it cannot be created, the migration goes on without them and search reads the organisation's rows.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

TRIGRAM_INDEXES = (
    ("award_identity_trgm", 'UPPER("recipient_identity"::text)'),
    ("award_name_trgm", 'UPPER("recipient_name"::text)'),
)


def add_trigram_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            cursor.execute("SAVEPOINT insignia_trgm")
            try:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception:  # not allowed here: search works without the indexes, only slower
                cursor.execute("ROLLBACK TO SAVEPOINT insignia_trgm")
                return
            cursor.execute("RELEASE SAVEPOINT insignia_trgm")
        for name, expression in TRIGRAM_INDEXES:
            cursor.execute(f'CREATE INDEX IF NOT EXISTS {name} ON "awards_award" USING gin ({expression} gin_trgm_ops)')


def drop_trigram_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _ in TRIGRAM_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("awards", "0005_award_expiry_announced_at"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="award", name="awards_awar_organis_39614d_idx"),
        migrations.RemoveIndex(model_name="award", name="awards_awar_organis_037eee_idx"),
        migrations.AddIndex(
            model_name="award",
            index=models.Index(fields=["organisation", "-issued_on", "-id"], name="award_org_issued"),
        ),
        migrations.AddIndex(
            model_name="award",
            index=models.Index(fields=["organisation", "status", "-issued_on", "-id"], name="award_org_status_issued"),
        ),
        migrations.AddIndex(
            model_name="engagementcount",
            index=models.Index(fields=["day"], name="engagement_day"),
        ),
        migrations.CreateModel(
            name="EngagementDaily",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("kind", models.CharField(choices=[("view", "Page views"), ("share", "Share clicks"),
                                                   ("verify", "Verifications"), ("download", "Downloads"),
                                                   ("embed", "Embed views")], max_length=16)),
                ("count", models.PositiveBigIntegerField(default=0)),
                ("organisation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                   to="core.organisation")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("organisation", "day", "kind"),
                                                        name="one_daily_total_per_kind")],
            },
        ),
        migrations.CreateModel(
            name="EngagementRolledDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(unique=True)),
                ("rolled_at", models.DateTimeField()),
                ("closed", models.BooleanField(default=False)),
            ],
        ),
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
