"""The dashboard pages in the admin: who may open them, what a rep sees (their accounts only, in
the pages, the moves and the exports), exports equal to the tables shown, bad dates answered at
their field, and a number of queries that does not grow with segments, weeks or rows."""

import datetime

import pytest
from django.urls import reverse

from insights.forms import PeriodForm
from insights.selectors.dashboard import Period
from tests.factories import OrganisationFactory, SegmentFactory, UserFactory
from tests.factories.insights import buyer_day, segment_size

from .pages import as_shown, csv_rows, table_rows
from .world import PERIOD, reporter

DIMENSIONS = ("segment", "organisation", "rep", "price_list", "category", "area", "region")


def _urls(world):
    s = world.segments
    return [reverse("insights:segments"), reverse("insights:sales"),
            reverse("insights:movement", args=[s["loyal"].pk, s["at_risk"].pk])]


@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 302), ("customer", 302), ("staff without the reports permission", 403),
    ("staff with it", 200), ("superuser", 200),
])
def test_who_may_open_the_reports(client, world, who, status):
    users = {"customer": UserFactory(), "staff without the reports permission":
             UserFactory(is_staff=True), "staff with it": world.tom,
             "superuser": world.superuser}
    if who in users:
        client.force_login(users[who])

    answers = [client.get(url, PERIOD) for url in _urls(world)]

    assert [a.status_code for a in answers] == [status] * 3
    if status == 302:
        assert all(a.url.startswith(reverse("admin:login")) for a in answers)
    if status != 200:
        assert not any(b"Riverside" in a.content for a in answers)


def test_the_admin_links_to_the_reports_for_those_who_may_open_them(client, world):
    client.force_login(world.superuser)
    assert reverse("insights:segments") in client.get(reverse("admin:index")).content.decode()
    client.force_login(UserFactory(is_staff=True))
    assert reverse("insights:segments") not in client.get(reverse("admin:index")).content.decode()


def test_the_sales_page_shows_the_figures_beside_the_previous_period(client, world):
    client.force_login(world.superuser)

    page = client.get(reverse("insights:sales"), {**PERIOD, "dimension": "segment"})

    assert page.status_code == 200
    totals = table_rows(page.content.decode(), "totals")
    assert totals[0][:7] == ["All sales", "£4,740.00", "£2,300.00", "106.1%", "8", "3", "166.7%"]
    rows = table_rows(page.content.decode(), "breakdown")
    assert [r[:3] for r in rows] == [["Report NHS trusts", "£4,500.00", "£2,300.00"],
                                     ["Loyal", "£1,700.00", "£800.00"],
                                     ["(in no segment)", "£40.00", "£0.00"]]
    assert "segments overlap" in page.content.decode()


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_a_rep_sees_only_their_accounts_figures(client, world, dimension):
    client.force_login(world.priya)
    query = {**PERIOD, "dimension": dimension}

    page = client.get(reverse("insights:sales"), query).content.decode()
    exports = [client.get(reverse("insights:sales"), {**query, "export": name}).content.decode()
               for name in ("totals", "weeks", "top", "breakdown")]

    assert table_rows(page, "totals")[0][:3] == ["All sales", "£1,700.00", "£800.00"]
    for text in (page, *exports):
        assert "Northgate" not in text
        assert "3,000" not in text and "3000" not in text
        assert "Retail consumers" not in text and "Pat Walker" not in text


def test_a_rep_sees_only_their_accounts_in_segments_and_moves(client, world):
    client.force_login(world.priya)
    s = world.segments

    page = client.get(reverse("insights:segments"), PERIOD).content.decode()
    moves = table_rows(page, "movement")
    export = client.get(reverse("insights:segments"), {**PERIOD, "export": "movement"})
    listed = client.get(reverse("insights:movement", args=[s["at_risk"].pk, s["loyal"].pk]),
                        PERIOD).content.decode()

    assert moves == [["Loyal", "At risk", "2"]]
    assert "size_weeks" not in page
    assert csv_rows(export)[1] == [["Loyal", "At risk", "2"]]
    assert "Northgate" not in listed and "Nobody made this move" in listed


def test_a_move_lists_the_accounts_named_and_linked(client, world):
    client.force_login(world.superuser)
    s = world.segments
    url = reverse("insights:movement", args=[s["loyal"].pk, s["at_risk"].pk])

    page = client.get(url, PERIOD).content.decode()
    segments_page = client.get(reverse("insights:segments"), PERIOD).content.decode()

    assert [r[0] for r in table_rows(page, "accounts")] == [
        "Harbour Physiotherapy Clinic", "Riverside University Hospitals NHS FT"]
    assert reverse("admin:accounts_organisation_change", args=[world.harbour.pk]) in page
    assert f'{url}?start=2026-11-01&amp;end=2026-11-14' in segments_page


@pytest.mark.parametrize(("url_name", "query", "table"), [
    ("insights:sales", {"dimension": "organisation"}, "breakdown"),
    ("insights:sales", {"dimension": "category"}, "breakdown"),
    ("insights:sales", {"dimension": "rep"}, "weeks"),
    ("insights:segments", {}, "sizes"),
    ("insights:segments", {}, "size_weeks"),
    ("insights:segments", {}, "movement"),
])
def test_a_csv_equals_its_table(client, world, url_name, query, table):
    client.force_login(world.superuser)
    url = reverse(url_name)

    page = client.get(url, {**PERIOD, **query})
    export = client.get(url, {**PERIOD, **query, "export": table, "format": "csv"})

    shown = next(t for t in page.context["tables"] if t.name == table)
    headers, rows = csv_rows(export)
    assert export["Content-Type"].startswith("text/csv")
    assert headers == [c.label for c in shown.columns]
    assert [[as_shown(v, c.kind) for v, c in zip(row, shown.columns, strict=True)]
            for row in rows] == table_rows(page.content.decode(), table)
    assert rows


def test_every_table_exports_as_xlsx(client, world):
    client.force_login(world.superuser)

    answer = client.get(reverse("insights:sales"), {**PERIOD, "export": "breakdown",
                                                    "format": "xlsx"})

    assert answer.status_code == 200
    assert answer.content[:2] == b"PK"


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"start": "2026-13-01", "end": "2026-11-14"}, "start", "Enter a valid date."),
    ({"start": "2026-11-14", "end": "2026-11-01"}, "end", "The period ends on or after"),
    ({"start": "2020-01-01", "end": "2026-11-01"}, "start", "Choose at most"),
    ({"start": "2026-11-01"}, "end", "Give the last day"),
    ({"dimension": "postcode; drop"}, "dimension", "Select a valid choice"),
    ({"preset": "forever"}, "preset", "Select a valid choice"),
])
def test_bad_input_is_an_error_at_its_field(client, world, query, field, message):
    client.force_login(world.superuser)

    page = client.get(reverse("insights:sales"), {**query, "export": "breakdown"})

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert message in page.content.decode()
    assert f'id="id_{field}-errors"' in page.content.decode()


def test_an_unknown_export_or_segment_is_not_found(client, world):
    client.force_login(world.superuser)

    assert client.get(reverse("insights:sales"), {"export": "nope"}).status_code == 404
    assert client.get(reverse("insights:movement", args=[999999, 999998])).status_code == 404


def test_organisations_show_the_top_rows_and_all_on_request(client, world, monkeypatch):
    monkeypatch.setattr("insights.views.TOP_ROWS", 2)
    client.force_login(world.superuser)
    query = {**PERIOD, "dimension": "organisation"}

    top = client.get(reverse("insights:sales"), query).content.decode()
    everything = client.get(reverse("insights:sales"), {**query, "all": "1"}).content.decode()
    export = client.get(reverse("insights:sales"), {**query, "export": "breakdown"})

    assert len(table_rows(top, "breakdown")) == 2 and "Show all rows" in top
    assert len(table_rows(everything, "breakdown")) == 4
    assert len(csv_rows(export)[1]) == 4


def _grow(world, size: int) -> None:
    """`size` more segments with a count every day and `size` more organisations buying."""
    for n in range(size):
        segment = SegmentFactory(code=f"grown-{size}-{n}", name=f"Grown {n}")
        for day in range(0, 360, 7):
            segment_size(segment, datetime.date(2025, 11, 20) + datetime.timedelta(days=day), n)
        organisation = OrganisationFactory(name=f"Grown organisation {size}-{n}",
                                           account_manager=world.priya)
        buyer_day(datetime.date(2026, 11, 2 + n % 10), organisation=organisation,
                  segments=(segment,), orders=1, units=1, revenue=10)


# Sign-in, the reader's permissions and scope, the admin's own context and the buyer resolver
# take about half of each budget; the rest is the page's fixed set of reads.
QUERY_BUDGET = {"insights:segments": 18, "insights:sales": 14}


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize(("url_name", "query"), [
    ("insights:segments", {}),
    ("insights:segments", {"start": "2025-11-15", "end": "2026-11-14"}),
    *(("insights:sales", {"dimension": d}) for d in DIMENSIONS),
    ("insights:sales", {"dimension": "segment", "start": "2025-11-15", "end": "2026-11-14"}),
])
@pytest.mark.parametrize("reader", ["superuser", "priya"])
def test_queries_do_not_grow_with_segments_weeks_or_rows(
    client, world, django_assert_max_num_queries, size, url_name, query, reader
):
    _grow(world, size)
    client.force_login(getattr(world, reader))

    with django_assert_max_num_queries(QUERY_BUDGET[url_name]):
        page = client.get(reverse(url_name), {**PERIOD, **query})

    assert page.status_code == 200


def test_a_reporter_without_accounts_sees_no_figures(client, world):
    client.force_login(reporter(email="new.rep@demo.test"))

    page = client.get(reverse("insights:sales"), {**PERIOD, "dimension": "organisation"})

    assert table_rows(page.content.decode(), "totals")[0][:3] == ["All sales", "£0.00", "£0.00"]
    assert "Riverside" not in page.content.decode()


@pytest.mark.parametrize(("preset", "start"), [
    ("", datetime.date(2026, 10, 16)), ("last_30_days", datetime.date(2026, 10, 16)),
    ("this_month", datetime.date(2026, 11, 1)), ("this_quarter", datetime.date(2026, 10, 1)),
    ("last_12_months", datetime.date(2025, 11, 15)),
])
def test_a_preset_names_the_days_up_to_today(preset, start):
    form = PeriodForm({"preset": preset})
    assert form.is_valid()

    period = form.period(today=datetime.date(2026, 11, 14))

    assert (period.start, period.end) == (start, datetime.date(2026, 11, 14))


def test_two_dates_beat_the_preset():
    form = PeriodForm({"preset": "this_quarter", **PERIOD})
    assert form.is_valid()

    assert form.period(today=datetime.date(2026, 12, 1)) == Period(
        datetime.date(2026, 11, 1), datetime.date(2026, 11, 14))
