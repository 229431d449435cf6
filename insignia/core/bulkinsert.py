"""Inserting many rows of one model fast: the bulk issuing path's writes (awards, audit events, emails).

Django's ``bulk_create`` composes one statement per few hundred rows and, on PostgreSQL, reads every id back
with ``RETURNING``; for tens of thousands of rows that costs more than signing them. ``insert_rows`` (model
instances) and ``insert_values`` (plain ``{attname: value}`` rows, for records nobody needs as objects
afterwards: making a model instance costs more than storing it) send the values each field would send
through ``COPY`` (PostgreSQL) or one ``executemany`` (SQLite).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.db.models import Model
from django.utils import timezone

#: Field classes whose database value is the attribute itself (``get_db_prep_save`` only checks its type):
#: exact classes, so a subclass with its own conversion goes the long way.
_AS_IS = frozenset({models.CharField, models.TextField, models.EmailField, models.SlugField, models.URLField,
                    models.IntegerField, models.PositiveIntegerField, models.BigIntegerField,
                    models.PositiveSmallIntegerField, models.SmallIntegerField, models.BooleanField,
                    models.ForeignKey, models.OneToOneField})


def _preparer(field: models.Field) -> Callable[[Mapping[str, Any]], Any]:
    """The value ``field`` sends to the database for a row ``{attname: value}``, as ``get_db_prep_save`` gives it.

    The general path costs a few microseconds per field and row through Django's layers; for plain text,
    numbers, booleans, foreign keys (the raw id) and timezone-aware datetimes the value is known without them.
    Anything else (JSON, naive datetimes, custom fields) takes the general path.
    """
    attname = field.attname

    def general(row: Mapping[str, Any]) -> Any:
        return field.get_db_prep_save(row[attname], connection)

    if type(field) in _AS_IS:
        def as_is(row: Mapping[str, Any]) -> Any:
            value = row[attname]
            return value if value is None or isinstance(value, str | int) else general(row)
        return as_is
    if type(field) is models.DateTimeField:
        adapt = connection.ops.adapt_datetimefield_value
        # SQLite stores ``str()`` of the time made naive in the connection's zone: for a time already in that
        # zone (UTC, as ``timezone.now()`` gives it) that is the text of the time without its zone.
        same_zone = connection.timezone if connection.vendor == "sqlite" else None

        def moment(row: Mapping[str, Any]) -> Any:
            value = row[attname]
            if value is None:
                return None
            if isinstance(value, datetime) and value.tzinfo is not None:
                if value.tzinfo is same_zone and same_zone is not None:
                    return str(value.replace(tzinfo=None))
                return adapt(value)
            return general(row)
        return moment
    return general


def _fields(model: type[Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _write(model: type[Model], fields: list[models.Field], rows: Iterable[Mapping[str, Any]],
           prepared: Mapping[str, Sequence[Any]] | None = None) -> None:
    """``prepared``: for some fields (by attname), the database value of each row, in order, already made."""
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    prepare = [_preparer(f) for f in fields]
    values: Iterable[tuple[Any, ...]] = (tuple(prep(row) for prep in prepare) for row in rows)
    if prepared:
        given = [(position, iter(prepared[f.attname])) for position, f in enumerate(fields) if f.attname in prepared]
        prepare = [prep for f, prep in zip(fields, prepare, strict=True) if f.attname not in prepared]

        def merged(row: Mapping[str, Any]) -> tuple[Any, ...]:
            out = [prep(row) for prep in prepare]
            for position, source in given:
                out.insert(position, next(source))
            return tuple(out)
        values = (merged(row) for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and hasattr(cursor.cursor, "copy"):
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                               list(values))


def insert_values(model: type[Model], rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert rows given as ``{attname: value}`` (``organisation_id``, not ``organisation``), no ids read back.

    A field left out takes its default; an ``auto_now``/``auto_now_add`` datetime left out takes the time of
    the call, as ``save()`` would give it.
    """
    fields = _fields(model)
    now = timezone.now()
    missing: dict[str, Callable[[], Any]] = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            missing[field.attname] = lambda: now
        else:
            missing[field.attname] = field.get_default

    def complete(row: Mapping[str, Any]) -> Mapping[str, Any]:
        if len(row) == len(fields):
            return row
        return {**{name: default() for name, default in missing.items() if name not in row}, **row}

    _write(model, fields, (complete(row) for row in rows))


def insert_rows(model: type[Model], objs: Sequence[Model], *, read_ids: bool = False,
                prepared: Mapping[str, Sequence[Any]] | None = None) -> None:
    """Insert the model instances ``objs`` in one go; ``read_ids``: then set their pks.

    ``prepared`` gives, for some fields (by attname), each object's database value already made (e.g. the JSON
    text of a document a signing worker serialised), instead of preparing it from the attribute.

    Each field's ``pre_save`` runs first where it does anything (``auto_now`` times are set on the objects, as
    ``save()`` sets them); a model with a field needing its own SQL placeholder goes through ``bulk_create``.
    The pks come without reading the rows back: on PostgreSQL they are drawn from the table's sequence first
    (one query) and inserted with the rows; on SQLite one insert gives consecutive rowids, checked against the
    first row's (if another writer's rows came in between, they are read back by ``public_id``).
    """
    fields = _fields(model)
    if any(hasattr(f, "get_placeholder") for f in fields):
        model._default_manager.bulk_create(objs, batch_size=500)  # ``prepared`` values are the attributes' anyway
        return
    on_save = [f for f in fields if type(f).pre_save is not models.Field.pre_save]
    for obj in objs:
        for field in on_save:
            obj.__dict__[field.attname] = field.pre_save(obj, True)
    if read_ids and objs and connection.vendor == "postgresql":
        pk = model._meta.pk
        for obj, value in zip(objs, _draw_ids(model, len(objs)), strict=True):
            obj.pk = value
        _write(model, [pk, *fields], (obj.__dict__ for obj in objs), prepared)
        _mark_saved(objs)
        return
    _write(model, fields, (obj.__dict__ for obj in objs), prepared)
    if not read_ids or not objs:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
    first = model._default_manager.filter(public_id=objs[0].public_id).values_list("pk", flat=True).first()  # type: ignore[attr-defined]
    if first is not None and last - first + 1 == len(objs):
        for offset, obj in enumerate(objs):
            obj.pk = first + offset
    else:
        ids: dict[str, int] = {}
        public_ids = [obj.public_id for obj in objs]  # type: ignore[attr-defined]
        for start in range(0, len(public_ids), 500):
            ids.update(model._default_manager.filter(public_id__in=public_ids[start:start + 500])
                       .values_list("public_id", "pk"))
        for obj in objs:
            obj.pk = ids[obj.public_id]  # type: ignore[attr-defined]
    _mark_saved(objs)


def _draw_ids(model: type[Model], count: int) -> list[int]:
    """``count`` fresh primary keys from the PostgreSQL sequence behind ``model``'s pk (one query)."""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [ops.quote_name(model._meta.db_table), model._meta.pk.column, count])
        return [row[0] for row in cursor.fetchall()]


def _mark_saved(objs: Sequence[Model]) -> None:
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
