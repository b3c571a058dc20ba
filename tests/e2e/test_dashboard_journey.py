"""The segment dashboard in a real browser: a superuser opens the segments and sales pages from
the admin, every chart is drawn by Chart.js from our own static files (a canvas with a size and
a chart instance behind it) above its table, with no console error under the CSP."""

from tests.e2e.conftest import ARTIFACTS, JOURNEY_MARKS
from tests.factories.accounts import DEMO_PASSWORD
from tests.insights.world import build_world

pytestmark = JOURNEY_MARKS

PERIOD = "start=2026-11-01&end=2026-11-14"
DRAWN = """canvas => {
  const chart = window.Chart && window.Chart.getChart(canvas);
  return {width: canvas.width, height: canvas.height, chart: Boolean(chart),
          points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0};
}"""


def _charts(page) -> list[dict]:
    return [canvas.evaluate(DRAWN) for canvas in page.locator("canvas[data-chart]").all()]


def test_a_superuser_reads_the_dashboard_charts(page, live_server):
    world = build_world()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", world.superuser.email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    page.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/admin/insights/segments/?{PERIOD}")
    page.wait_for_load_state("networkidle")
    segment_charts = _charts(page)
    moves = page.locator("#table-movement tbody tr").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-1-segments.png"), full_page=True)
    page.locator("#table-movement tbody a").first.click()
    page.wait_for_load_state()
    moved = page.locator("#table-accounts tbody").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-2-moved.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/insights/sales/?{PERIOD}&dimension=rep")
    page.wait_for_load_state("networkidle")
    sales_charts = _charts(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-3-sales.png"), full_page=True)
    page.select_option("#id_dimension", "category")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    category_charts = _charts(page)
    categories = page.locator("#table-breakdown tbody").inner_text()

    assert len(segment_charts) == 1 and len(sales_charts) == 2 and len(category_charts) == 2
    for drawn in (*segment_charts, *sales_charts, *category_charts):
        assert drawn["chart"] and drawn["width"] > 0 and drawn["height"] > 0, drawn
        assert drawn["points"] > 0, drawn
    assert "Loyal" in moves and "At risk" in moves
    assert "Harbour Physiotherapy Clinic" in moved and "Riverside" in moved
    assert "Wound care" in categories and "Mobility" in categories
    assert errors == []
