"""`bench_insights` at a small size: it builds the aggregates of the generated world, refreshes
them after new orders, times each declared report page as a superuser and as a rep, and writes
its section of docs/performance.md."""

from io import StringIO

import pytest
from django.core.management import call_command

from insights import urls
from insights.management.commands.bench_insights import bench_pages
from insights.models import SalesDay

pytestmark = pytest.mark.django_db


def test_a_small_run_times_the_rebuild_the_refresh_and_every_declared_page(
    monkeypatch, tmp_path,
):
    monkeypatch.setattr(urls, "BENCH_PAGES", [("admin:index", {}, {"q": "x"})], raising=False)
    output = tmp_path / "performance.md"
    output.write_text("# Performance\n\n## Reports\n\nold figures\n\n## Later\n\nkept\n")
    out = StringIO()

    call_command("bench_insights", "--small", "--repeat", "1", "--orders", "20",
                 "--output", str(output), stdout=out)

    text = out.getvalue()
    assert "300 buyers" in text and "5,000 order lines" in text
    assert "| segment recompute (full) |" in text
    rebuild_row = next(line for line in text.splitlines() if line.startswith("| full rebuild |"))
    assert "sales rows" in rebuild_row and "buyer-days" in rebuild_row
    assert "| incremental refresh |" in text
    assert "| `/admin/?q=x` | superuser |" in text and "| `/admin/?q=x` | rep |" in text
    written = output.read_text()
    assert "old figures" not in written and "## Later\n\nkept" in written
    assert "| full rebuild |" in written
    assert not SalesDay.objects.exists()  # rolled back


def test_without_a_declared_list_every_pattern_without_arguments_is_a_page(monkeypatch):
    monkeypatch.delattr(urls, "BENCH_PAGES", raising=False)

    assert bench_pages() == [
        (p.name, {}, {}) for p in urls.urlpatterns if not p.pattern.regex.groups
    ]
