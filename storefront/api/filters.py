"""Query filters of the API that the database can always take: a date-time whose UTC offset is
beyond ±15:59 is refused with a 400 naming the filter, never sent to PostgreSQL; one whose UTC
instant falls outside years 1–9999 stands for the first or last representable instant, which
selects the same orders and which SQLite (storing naive UTC) can hold."""

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

# PostgreSQL refuses a time zone displacement of 16 hours or more.
MAX_UTC_OFFSET = datetime.timedelta(hours=16)


class StorableDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        offset = parsed.utcoffset() if parsed is not None else None
        if offset is not None and abs(offset) >= MAX_UTC_OFFSET:
            raise ValidationError(
                "Enter a date-time with a UTC offset between -15:59 and +15:59.", code="invalid"
            )
        if offset is None:
            return parsed
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError:
            edge = datetime.datetime.min if parsed.year == 1 else datetime.datetime.max
            return edge.replace(tzinfo=datetime.UTC)


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time (or date) filter whose value the database can store."""

    field_class = StorableDateTimeField
