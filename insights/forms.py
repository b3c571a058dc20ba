"""The period (and, on the sales page, the dimension) a dashboard page shows: a preset or two
dates, checked so that a bad date is an error at its field and never a server error."""

import datetime

from django import forms
from django.utils import timezone

from accounts.forms import IsoDateInput

from .selectors.dashboard import DIMENSIONS, Period

LONGEST_PERIOD_DAYS = 3 * 366
PRESETS = {
    "last_30_days": "Last 30 days",
    "this_month": "This month",
    "this_quarter": "This quarter",
    "last_12_months": "Last 12 months",
}
DEFAULT_PRESET = "last_30_days"


def preset_period(code: str, today: datetime.date) -> Period:
    """The days a preset names, ending today."""
    if code == "this_month":
        return Period(today.replace(day=1), today)
    if code == "this_quarter":
        return Period(datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today)
    if code == "last_12_months":
        return Period(today - datetime.timedelta(days=364), today)
    return Period(today - datetime.timedelta(days=29), today)


class PeriodForm(forms.Form):
    preset = forms.ChoiceField(choices=list(PRESETS.items()), required=False, label="Period",
                               help_text="Used unless both dates are given.")
    start = forms.DateField(required=False, widget=IsoDateInput, label="From")
    end = forms.DateField(required=False, widget=IsoDateInput, label="To")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if self.errors or (start is None and end is None):
            return data
        if start is None:
            self.add_error("start", "Give the first day of the period.")
        elif end is None:
            self.add_error("end", "Give the last day of the period.")
        elif end < start:
            self.add_error("end", "The period ends on or after the day it starts.")
        elif (end - start).days + 1 > LONGEST_PERIOD_DAYS:
            self.add_error("start", f"Choose at most {LONGEST_PERIOD_DAYS} days.")
        return data

    def period(self, today: datetime.date | None = None) -> Period:
        """The period asked for: two dates beat a preset; nothing asked means the last 30 days.
        Call after `is_valid()`."""
        today = today or timezone.localdate()
        data = self.cleaned_data
        if data.get("start") and data.get("end"):
            return Period(data["start"], data["end"])
        return preset_period(data.get("preset") or DEFAULT_PRESET, today)


class SalesForm(PeriodForm):
    dimension = forms.ChoiceField(
        choices=[(d.code, d.label) for d in DIMENSIONS.values()], required=False, label="By",
    )

    def dimension_code(self) -> str:
        return self.cleaned_data.get("dimension") or "segment"
