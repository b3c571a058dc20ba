"""Every date field the storefront renders as a browser date picker carries an ISO value, which
is all `<input type="date">` takes: a pre-filled delivery date is shown, kept and submitted, not
lost on the first submit."""

import datetime
import re

from accounts.forms import BudgetForm
from accounts.views_api_keys import ApiKeyForm
from ordering.forms import InstitutionalForm, RoutedAnswerForm
from pricing.admin_quotes import QuoteAnswerForm


def _date_values(html: str) -> list[str]:
    return re.findall(r'<input type="date"[^>]*value="([^"]*)"', html)


def test_the_prefilled_delivery_date_is_rendered_in_iso_form():
    form = InstitutionalForm()
    expected = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()

    assert _date_values(str(form["requested_delivery_date"])) == [expected]


def test_a_date_given_back_after_an_error_stays_iso():
    form = InstitutionalForm(data={"requested_delivery_date": "2026-12-11"})
    form.is_valid()

    assert _date_values(str(form["requested_delivery_date"])) == ["2026-12-11"]
    assert form.cleaned_data["requested_delivery_date"] == datetime.date(2026, 12, 11)


def test_every_date_picker_renders_iso_dates():
    day = datetime.date(2026, 12, 11)
    forms = [
        (RoutedAnswerForm(initial={"expected_delivery_date": day}), "expected_delivery_date"),
        (QuoteAnswerForm(initial={"expires_on": day}, lines=[]), "expires_on"),
        (ApiKeyForm(initial={"expires_on": day}), "expires_on"),
        (BudgetForm(initial={"period_start": day}), "period_start"),
    ]
    for form, name in forms:
        assert _date_values(str(form[name])) == ["2026-12-11"], type(form).__name__
