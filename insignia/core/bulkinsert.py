"""Inserting many rows of one model fast: the bulk issuing path's writes (awards, audit events, emails).

Django's ``bulk_create`` composes one statement per few hundred rows and, on PostgreSQL, reads every id back
with ``RETURNING``; for tens of thousands of rows that costs more than signing them. ``insert_rows`` sends
the same prepared values through ``COPY`` (PostgreSQL) or one ``executemany`` (SQLite).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.db.models import Model

#: Field classes whose database value is the attribute itself (``get_db_prep_save`` only checks its type):
#: exact classes, so a subclass with its own conversion goes the long way.
_AS_IS = frozenset({models.CharField, models.TextField, models.EmailField, models.SlugField, models.URLField,
                    models.IntegerField, models.PositiveIntegerField, models.BigIntegerField,
                    models.PositiveSmallIntegerField, models.SmallIntegerField, models.BooleanField,
                    models.ForeignKey, models.OneToOneField})


def _preparer(field: models.Field) -> Callable[[Model], Any]:
    """The value ``field`` sends to the database for an object, as ``get_db_prep_save(pre_save(...))`` gives it.

    The general path costs a few microseconds per field and row through Django's layers; for plain text,
    numbers, booleans, foreign keys (the raw id) and timezone-aware datetimes the value is known without them.
    Anything else (JSON, defaults computed on save, naive datetimes, custom fields) takes the general path.
    """
    attname = field.attname

    def general(obj: Model) -> Any:
        return field.get_db_prep_save(field.pre_save(obj, True), connection)

    if type(field) in _AS_IS:
        def as_is(obj: Model) -> Any:
            value = obj.__dict__[attname]
            return value if value is None or isinstance(value, str | int) else general(obj)
        return as_is
    if type(field) is models.DateTimeField and not (field.auto_now or field.auto_now_add):
        adapt = connection.ops.adapt_datetimefield_value

        def moment(obj: Model) -> Any:
            value = obj.__dict__[attname]
            if value is None:
                return None
            if isinstance(value, datetime) and value.tzinfo is not None:
                return adapt(value)
            return general(obj)
        return moment
    return general


def insert_rows(model: type[Model], objs: Sequence[Model], *, read_ids: bool = False) -> None:
    """Insert ``objs`` in one go; ``read_ids``: then set their pks.

    Values are prepared by each field as ``bulk_create`` does (``pre_save``, ``get_db_prep_save``), without
    composing one statement per few dozen rows. On PostgreSQL the rows go through ``COPY … FROM STDIN``
    (psycopg 3 adapts each value as it would for an INSERT), on SQLite through one prepared INSERT run for all
    (``executemany``): each halves the cost of storing an award. Ids are read back by ``public_id``. A model
    with a field needing its own placeholder goes through ``bulk_create``.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if any(hasattr(f, "get_placeholder") for f in fields):
        model._default_manager.bulk_create(objs, batch_size=500)
        return
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    prepare = [_preparer(f) for f in fields]
    rows = (tuple(prep(obj) for prep in prepare) for obj in objs)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and hasattr(cursor.cursor, "copy"):
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                               list(rows))
    if not read_ids:
        return
    ids: dict[str, int] = {}
    public_ids = [obj.public_id for obj in objs]  # type: ignore[attr-defined]
    for start in range(0, len(public_ids), 500):
        ids.update(model._default_manager.filter(public_id__in=public_ids[start:start + 500])
                   .values_list("public_id", "pk"))
    for obj in objs:
        obj.pk = ids[obj.public_id]  # type: ignore[attr-defined]
        obj._state.adding = False
        obj._state.db = connection.alias
