"""The catalogue benchmark runs end to end at a tiny size (so it cannot rot), and the pages it
measures keep to the query budget: warm pages and pages whose prices and availability are asked
of the rules cost the same few queries at every page and page size."""

import io

import pytest
from django.core.management import call_command

from catalog.management.catalogue_bench import PREFIX, SKU_PREFIX
from catalog.management.commands.bench_catalogue import QUERY_BUDGET, Command
from catalog.models import Catalog, Product
from catalog.views import PAGE_SIZE

pytestmark = pytest.mark.django_db


def test_the_catalogue_benchmark_runs_and_its_pages_keep_to_the_query_budget():
    command = Command()
    out = io.StringIO()

    call_command(
        command, "--products", "200", "--price-rows", "2000", "--organisations", "60",
        "--runs", "2", stdout=out,
    )

    results = {result.key: result for result in command.results}
    assert set(results) == {"nhs", "clinic", "distributor", "consumer"}
    for result in results.values():
        assert result.in_category > 0, result.label
        for counts in (result.warm_queries, result.priced_queries):
            assert len(set(counts.values())) == 1, (result.label, counts)
            assert max(counts.values()) <= QUERY_BUDGET, (result.label, counts)
        assert result.cold_queries >= result.priced_queries[f"{PAGE_SIZE} rows"]
        assert len(result.warm_ms) == len(result.priced_ms) == len(result.cold_ms) == 2
    # A retail consumer sees fewer products than the NHS trust (no professional-only devices).
    assert results["consumer"].in_category < results["nhs"].in_category
    assert f"queries: warm and priced pages within {QUERY_BUDGET}" in out.getvalue()
    # Without --keep nothing of the generated world is left behind.
    assert not Product.objects.filter(sku__startswith=SKU_PREFIX).exists()
    assert not Catalog.objects.filter(code__startswith=PREFIX).exists()
