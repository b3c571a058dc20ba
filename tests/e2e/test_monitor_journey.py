"""A pricing monitor in a real browser: staff sign in to the admin, open the monitor and read its
sentences; both charts are drawn from their tables, with no console error."""

from tests.e2e.conftest import ARTIFACTS, JOURNEY_MARKS
from tests.factories import UserFactory
from tests.factories.accounts import DEMO_PASSWORD
from tests.insights.conftest import build_monitor

pytestmark = JOURNEY_MARKS


def test_staff_read_a_monitor_with_its_charts(page, live_server):
    UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True)
    monitor = build_monitor(treated=12, control=12, effect=0.15, seed=3)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "admin@demo.test")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/insights/pricingmonitor/{monitor.pk}/change/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => window.Chart && Chart.getChart(c))"
    )
    page.screenshot(path=str(ARTIFACTS / "monitor-1-page.png"), full_page=True)

    summary = page.inner_text("#monitor-summary")
    assert "Revenue per account in At risk rose" in summary
    charts = page.locator("canvas[data-chart]")
    assert charts.count() == 2
    for index in range(2):
        drawn = charts.nth(index).evaluate(
            "c => Chart.getChart(c).data.datasets.map(d => d.data.length)"
        )
        assert drawn == [16, 16]
    assert page.locator("#table-revenue_weekly tbody tr").count() == 16
    assert errors == []
