"""List endpoints run a fixed number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import issue_key, key_client, price
from tests.catalog.factories import CatalogFactory, ProductFactory


def queries_for(client, path: str) -> tuple[int, int]:
    client.get(path)  # warm the resolver's and rules version's cache, as a running site has them
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


@pytest.mark.django_db
def test_product_list_queries_do_not_grow_with_the_page(world):
    products = [ProductFactory(category=world.category) for _ in range(50)]
    CatalogFactory(code="api-more", products=products, organisations=[world.trust])
    for product in products:
        price(world.list_prices, product, "4.20")
    client = key_client(issue_key(world.trust, world.trust_buyer))

    small, shown_small = queries_for(client, "/api/v1/products/?page_size=10")
    large, shown_large = queries_for(client, "/api/v1/products/?page_size=50")

    assert (shown_small, shown_large) == (10, 50)
    assert small == large


@pytest.mark.django_db
def test_quote_list_queries_do_not_grow_with_the_page(world):
    import datetime

    from django.utils import timezone

    from pricing.models import Quote, QuoteLine, QuoteStatus

    for n in range(30):
        quote = Quote.objects.create(
            organisation=world.trust, number=f"Q-{n:03d}", status=QuoteStatus.ACCEPTED,
            expires_on=timezone.localdate() + datetime.timedelta(days=9),
        )
        QuoteLine.objects.create(quote=quote, product=world.shared, quantity=5, unit_price="7")
    client = key_client(issue_key(world.trust, world.trust_buyer))

    small, _ = queries_for(client, "/api/v1/quotes/?state=accepted&page_size=5")
    large, _ = queries_for(client, "/api/v1/quotes/?state=accepted&page_size=30")

    assert small == large
