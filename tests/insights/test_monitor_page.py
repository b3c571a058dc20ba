"""The pricing monitor's page in the admin: its sentences from the data, a fixed number of queries
whatever the weeks shown, a rep's figures limited to their book, and exports equal to the tables."""

import csv
import datetime
import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights.analysis.did import Panel, analyse
from insights.analysis.monitor import monitor_figures
from insights.models import BuyerDay, MonitorAccount, PricingMonitor
from tests.factories import UserFactory
from tests.factories.insights_monitor import computed_segment, promotion

from .conftest import build_monitor

pytestmark = pytest.mark.django_db


def _url(monitor, **query):
    url = reverse("admin:insights_pricingmonitor_change", args=[monitor.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_monitor_recovers_a_planted_revenue_effect_from_the_aggregates(client, superuser):
    monitor = build_monitor(effect=0.15, seed=3)
    client.force_login(superuser)

    page = client.get(_url(monitor))

    revenue = monitor_figures(monitor, None).result.estimates["revenue"]
    assert revenue.relative_low < 0.15 < revenue.relative_high
    assert revenue.relative_low > 0
    text = page.content.decode()
    assert re.search(r"Revenue per account in At risk rose 1\d% \(95% CI \d+–\d+%\) against the "
                     r"control group since \d+ \w+", text)
    assert "Orders per account in At risk showed no clear change" in text
    assert "Before the start the two groups moved alike" in text


def test_the_monitor_finds_no_effect_in_noise(client, superuser):
    monitor = build_monitor(effect=0.0, seed=5)
    client.force_login(superuser)

    page = client.get(_url(monitor))

    revenue = monitor_figures(monitor, None).result.estimates["revenue"]
    assert revenue.relative_low < 0 < revenue.relative_high
    assert "Revenue per account in At risk showed no clear change" in page.content.decode()


def test_the_grouped_queries_agree_with_the_daily_rows_summed_in_python():
    """The SQL that sums BuyerDay per account, period and week against an oracle: the same
    analysis fed with every daily row."""
    monitor = build_monitor(treated=7, control=9, effect=0.2, weeks_before=6, weeks_after=5)
    figures = monitor_figures(monitor, None)
    accounts = {a.organisation_id: a for a in MonitorAccount.objects.filter(monitor=monitor)}
    order = sorted(accounts)
    rows = BuyerDay.objects.filter(organisation__in=order, day__gte=figures.first_day,
                                   day__lt=monitor.starts_on + datetime.timedelta(weeks=5))
    account, week, values = [], [], []
    for row in rows:
        account.append(order.index(row.organisation_id))
        week.append((row.day - figures.first_day).days // 7)
        values.append([float(v) for v in (row.revenue, row.orders, row.units,
                                          row.costed_revenue - row.cost, row.list_value,
                                          row.listed_revenue)])
    oracle = analyse(Panel.from_rows(
        treated=[accounts[o].group == "treated" for o in order],
        weight=[accounts[o].weight for o in order], account=account, week=week, values=values,
        weeks_before=6, weeks_after=5,
    ))

    for key in ("revenue", "orders", "margin", "discount", "frequency"):
        assert figures.result.estimates[key].value == pytest.approx(oracle.estimates[key].value,
                                                                    abs=1e-6)
        assert figures.result.weekly[key] == pytest.approx(oracle.weekly[key], nan_ok=True)
    assert (figures.result.estimates["revenue"].relative_low
            == pytest.approx(oracle.estimates["revenue"].relative_low))


def _page_queries(client, monitor) -> int:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(_url(monitor))
    assert page.status_code == 200
    return len(queries)


def test_the_page_takes_the_same_queries_for_8_or_30_weeks(client, superuser):
    short = build_monitor(weeks_after=8, treated=6, control=6)
    long = build_monitor(weeks_after=30, treated=12, control=12)
    client.force_login(superuser)
    client.get(reverse("admin:index"))

    counts = (_page_queries(client, short), _page_queries(client, long))

    assert counts[0] == counts[1], counts
    assert counts[0] <= 12, counts


def test_a_second_visit_reads_the_figures_from_the_cache(client, superuser):
    monitor = build_monitor(treated=6, control=6)
    client.force_login(superuser)
    client.get(reverse("admin:index"))

    first, second = _page_queries(client, monitor), _page_queries(client, monitor)

    assert second == first - 3  # the accounts compared, their sums per period, the weekly sums


def test_a_rep_sees_only_the_figures_and_names_of_their_book(client, manager):
    monitor = build_monitor(treated=10, control=10, manager=manager, managed=3)
    client.force_login(manager)

    page = client.get(_url(monitor))

    text = page.content.decode()
    result = page.context["page"].figures.result
    assert (result.treated_accounts, result.control_accounts) == (3, 3)
    assert "These figures cover only the accounts in your book: 3 treated and 3 control" in text
    assert "Book clinic 0" in text
    assert "Treated clinic" not in text
    assert "Control clinic" not in text
    strata = next(t for t in page.context["page"].tables if t.name == "strata")
    assert [(r["treated"], r["control"]) for r in strata.rows] == [(3, 3)]


def test_a_superuser_sees_every_account(client, superuser):
    monitor = build_monitor(treated=10, control=10)
    client.force_login(superuser)

    page = client.get(_url(monitor))

    result = page.context["page"].figures.result
    assert (result.treated_accounts, result.control_accounts) == (10, 10)
    assert "cover only the accounts in your book" not in page.content.decode()


def _html_rows(text: str, table: str) -> list[list[str]]:
    section = text[text.index(f'id="table-{table}"'):]
    body = section[section.index("<tbody>"):section.index("</tbody>")]
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


@pytest.mark.parametrize("table", ["estimates", "revenue_weekly", "frequency_weekly", "strata",
                                   "accounts"])
def test_a_csv_export_equals_its_table(client, superuser, table):
    monitor = build_monitor(treated=8, control=8, effect=0.1)
    client.force_login(superuser)
    page = client.get(_url(monitor))
    shown = next(t for t in page.context["page"].tables if t.name == table)

    exported = client.get(_url(monitor, export=table, format="csv"))

    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8"))))
    assert rows[0] == [c.label for c in shown.columns]
    assert len(rows) - 1 == len(shown.rows) == len(_html_rows(page.content.decode(), table))
    for line, row in zip(rows[1:], shown.rows, strict=True):
        for column, value in zip(shown.columns, line, strict=True):
            expected = row.get(column.key)
            if expected is None:
                assert value == ""
            elif column.numeric:
                assert float(value) == pytest.approx(float(expected), abs=0.006)
            elif column.kind == "date":
                assert value == expected.isoformat()
            else:
                assert value == str(expected)


def test_an_xlsx_export_holds_the_same_table(client, superuser):
    monitor = build_monitor(treated=8, control=8)
    client.force_login(superuser)

    exported = client.get(_url(monitor, export="revenue_weekly", format="xlsx"))

    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    rows = list(sheet.values)
    assert rows[0][:2] == ("Week starting", "Weeks from the start")
    assert len(rows) == 1 + 16


def test_an_unknown_export_is_not_found(client, superuser):
    monitor = build_monitor(treated=4, control=4)
    client.force_login(superuser)

    assert client.get(_url(monitor, export="orders", format="csv")).status_code == 404
    assert client.get(_url(monitor, export="strata", format="pdf")).status_code == 404


def test_the_accounts_export_holds_every_treated_account_not_one_page(client, superuser):
    monitor = build_monitor(treated=60, control=10, weeks_before=4, weeks_after=1)
    client.force_login(superuser)

    page = client.get(_url(monitor))
    exported = client.get(_url(monitor, export="accounts", format="csv"))

    assert len(_html_rows(page.content.decode(), "accounts")) == 50
    assert len(exported.content.decode().strip().splitlines()) == 1 + 60
    assert "Page 1 of 2" in page.content.decode()


def test_a_monitor_without_a_whole_week_since_the_start_says_so(client, superuser):
    monitor = build_monitor(treated=4, control=4, weeks_after=0)
    client.force_login(superuser)

    text = client.get(_url(monitor)).content.decode()

    assert "No whole week has passed since the start" in text
    assert "Revenue per account in At risk: too little to compare" in text


ALLOWED, LOGIN, FORBIDDEN = "allowed", "sent to the admin login", "forbidden"


def _who(name, manager, superuser):
    return {
        "anonymous": None,
        "plain user": UserFactory(email="clinic.buyer@demo.test"),
        "staff without book or permission": UserFactory(email="south@demo.test", is_staff=True),
        "manager with a book": manager,
        "superuser": superuser,
    }[name]


@pytest.mark.parametrize(
    ("who", "reads", "adds"),
    [
        ("anonymous", LOGIN, LOGIN),
        ("plain user", LOGIN, LOGIN),
        ("staff without book or permission", FORBIDDEN, FORBIDDEN),
        ("manager with a book", ALLOWED, FORBIDDEN),
        ("superuser", ALLOWED, ALLOWED),
    ],
)
def test_who_may_read_and_create_monitors(client, manager, superuser, who, reads, adds):
    monitor = build_monitor(treated=4, control=4, manager=manager, managed=1)
    segment = computed_segment(name="Lapsing", code="lapsing")
    user = _who(who, manager, superuser)
    if user is not None:
        client.force_login(user)
    add_url = reverse("admin:insights_pricingmonitor_add")

    page = client.get(_url(monitor))
    adding = client.post(add_url, {
        "name": "Lapsing promotion", "segment": segment.pk, "change": "Lapsing promotion",
        "starts_on": monitor.starts_on.isoformat(), "weeks_before": 8,
    })

    created = PricingMonitor.objects.filter(name="Lapsing promotion").exists()
    for answer, expected in ((page, reads), (adding, adds)):
        if expected == ALLOWED:
            assert answer.status_code in (200, 302)
        elif expected == FORBIDDEN:
            assert answer.status_code == 403
        else:
            assert answer.status_code == 302
            assert answer.url.startswith(reverse("admin:login"))
    assert created == (adds == ALLOWED)


def test_creating_a_monitor_in_the_admin_freezes_it_and_opens_its_page(client, superuser):
    segment = computed_segment()
    spring = promotion(valid_from=build_monitor(treated=3, control=3).starts_on)
    client.force_login(superuser)

    answer = client.post(reverse("admin:insights_pricingmonitor_add"), {
        "name": "Spring promotion", "price_list": spring.pk, "segment": segment.pk,
        "weeks_before": 8,
    })

    monitor = PricingMonitor.objects.get(name="Spring promotion", price_list=spring)
    assert answer.status_code == 302
    assert answer.url == _url(monitor)
    assert monitor.starts_on == spring.valid_from
    assert monitor.created_by == superuser
    assert monitor.frozen_at is not None


def test_a_bad_monitor_is_shown_again_with_field_errors(client, superuser):
    segment = computed_segment()
    client.force_login(superuser)

    answer = client.post(reverse("admin:insights_pricingmonitor_add"), {
        "name": "No start", "segment": segment.pk, "weeks_before": 2,
    })

    form = answer.context["adminform"].form
    assert answer.status_code == 200
    assert "Give the day the change started." in form.errors["starts_on"]
    assert not PricingMonitor.objects.exists()
    assert not MonitorAccount.objects.exists()


def test_a_monitor_whose_price_list_has_no_first_day_asks_for_the_start(client, superuser):
    segment = computed_segment()
    client.force_login(superuser)

    answer = client.post(reverse("admin:insights_pricingmonitor_add"), {
        "name": "Open promo", "segment": segment.pk, "price_list": promotion().pk,
        "weeks_before": 8,
    })

    assert "this price list has no first day" in answer.context["adminform"].form.errors[
        "starts_on"][0]


def test_after_a_refresh_the_page_reads_figures_the_refresh_worked_out(client, superuser):
    from insights.tasks import refresh_aggregates

    monitor = build_monitor(treated=6, control=6)
    client.force_login(superuser)
    client.get(reverse("admin:index"))
    uncached = _page_queries(client, monitor)
    refresh_aggregates()  # a new refresh time: the figures are worked out again, for it

    assert _page_queries(client, monitor) == uncached - 3
