"""Date-times as the standards write them.

OB 3.0 and VC 2.0 use XML Schema ``dateTimeStamp`` ("DateTimeZ"): a date and time that
MUST carry a time zone. We always *emit* UTC with a ``Z`` and whole seconds
(``2024-05-01T12:00:00Z``): one spelling per instant keeps signed documents stable and
comparable. On input we accept any offset and fractional seconds, but never a naive time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from insignia.credentials.errors import ValidationError

#: xsd:dateTimeStamp (time zone required). Lower-case ``t``/``z`` are not XML Schema, so refused.
DATETIMEZ_RE = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?"
    r"(Z|[+-](0\d|1[0-4]):[0-5]\d)$"
)

#: OB 2.0 (ISO 8601, as its validator reads it): also allows ``+hhmm`` offsets.
OB2_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$"
)

DATE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


def require_aware(moment: datetime, *, what: str = "the date-time") -> datetime:
    """Refuse a naive datetime: guessing its zone would silently shift validity windows."""
    if not isinstance(moment, datetime):
        raise ValidationError(f"{what} must be a datetime, not {type(moment).__name__}.", code="datetime_invalid")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            f"{what} has no time zone. Pass an aware datetime (e.g. datetime.now(UTC)).",
            code="datetime_naive",
        )
    return moment


def format_datetime(moment: datetime, *, what: str = "the date-time") -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC; refuses naive datetimes. Sub-second precision is dropped."""
    require_aware(moment, what=what)
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_date(day: date) -> str:
    """``YYYY-MM-DD`` (xsd:date), for fields such as ``dateOfBirth``."""
    if isinstance(day, datetime):
        day = day.date()
    return day.isoformat()


def is_datetimez(value: object) -> bool:
    """True if ``value`` is a DateTimeZ string (a date-time with a time zone)."""
    return isinstance(value, str) and DATETIMEZ_RE.match(value) is not None and parse_datetimez(value) is not None


def parse_datetimez(value: object) -> datetime | None:
    """The aware datetime a DateTimeZ string stands for, or None when it is not one."""
    if not isinstance(value, str) or not DATETIMEZ_RE.match(value):
        return None
    text = value.replace("Z", "+00:00")
    # Python wants at most 6 fractional digits and no leap second.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace(":60", ":59")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_ob2_datetime(value: object) -> datetime | None:
    """An OB 2.0 ``issuedOn``/``expires`` value with a time zone, or None."""
    if not isinstance(value, str) or not OB2_DATETIME_RE.match(value):
        return None
    text = value.replace("Z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


__all__ = [
    "DATETIMEZ_RE",
    "format_date",
    "format_datetime",
    "is_datetimez",
    "parse_datetimez",
    "parse_ob2_datetime",
    "require_aware",
]
