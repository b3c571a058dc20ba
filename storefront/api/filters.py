"""Query filters of the API that the database can always take: a date-time whose UTC offset is
beyond ±15:59 is refused with a 400 naming the filter, never sent to PostgreSQL; one whose UTC
instant falls outside years 1–9999 stands for the first or last representable instant, which
selects the same orders and which SQLite (storing naive UTC) can hold."""

import datetime

import django_filters
from django import forms
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


def _many(data, name) -> list[str] | None:
    """Every value of a query parameter, repeated (`?a=x&a=y`) or comma-joined (`?a=x,y`)."""
    raw = data.getlist(name) if hasattr(data, "getlist") else (
        [data[name]] if name in data else [])
    if not raw:
        return None
    return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]


class ManyTextInput(forms.TextInput):
    def value_from_datadict(self, data, files, name):
        return _many(data, name)


class ManyChoiceWidget(forms.SelectMultiple):
    def value_from_datadict(self, data, files, name):
        return _many(data, name) or []


class TextInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """Text values given repeated or comma-separated, each checked as text (no NUL characters)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", ManyTextInput)
        super().__init__(*args, **kwargs)


class ManyChoiceFilter(django_filters.MultipleChoiceFilter):
    """Choices given repeated (`?state=a&state=b`) or comma-separated (`?state=a,b`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", ManyChoiceWidget)
        super().__init__(*args, **kwargs)
