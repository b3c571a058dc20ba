"""Query filters of the API that PostgreSQL can always take: a date-time whose UTC offset is
beyond ±15:59 is refused with a 400 naming the filter, never sent to the database."""

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
        return parsed


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time (or date) filter whose value the database can store."""

    field_class = StorableDateTimeField
