"""The bulk writer's shortcuts send exactly what Django would send for each field (``insignia.core.bulkinsert``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from insignia.awards.models import Award
from insignia.core.bulkinsert import _preparer
from insignia.core.models import AuditEvent

MOMENTS = [
    datetime(2026, 11, 24, 5, 30, tzinfo=UTC),
    datetime(2026, 11, 24, 5, 30, 1, 123456, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2))),  # another zone: converted
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc),  # noqa: UP017 (the same object as UTC, spelt the old way)
    None,
]


@pytest.mark.django_db
@pytest.mark.parametrize("value", MOMENTS)
def test_datetimes_are_sent_as_django_sends_them(value: datetime | None) -> None:
    for model, name in ((Award, "issued_on"), (Award, "expires_on"), (AuditEvent, "created_at")):
        field = model._meta.get_field(name)
        assert _preparer(field)({field.attname: value}) == field.get_db_prep_save(value, connection)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["text", "", 7, None])
def test_plain_values_are_sent_as_they_are(value: object) -> None:
    field = Award._meta.get_field("recipient_name" if isinstance(value, str) or value is None else "revocation_index")
    assert _preparer(field)({field.attname: value}) == field.get_db_prep_save(value, connection)
