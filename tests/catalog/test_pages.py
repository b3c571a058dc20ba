"""Catalogue pages: what B2B and retail buyers are shown, hostile input, query budget, caching."""

import re

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, reverse

from catalog import services
from catalog.models import RegulatoryStatus

from .conftest import price_everything
from .factories import CategoryFactory, ProductFactory, StockFactory

pytestmark = pytest.mark.django_db


def skus_on(response) -> list[str]:
    return re.findall(r'data-sku="([^"]+)"', response.content.decode())


def test_a_b2b_buyer_gets_a_table_with_sku_gtin_pack_and_ex_vat_prices(world, client_for):
    StockFactory(product=world.products["foam"], on_hand=5)

    response = client_for("clinic").get("/catalogue/c/foam-dressings/")
    html = response.content.decode()

    foam = world.products["foam"]
    assert response.status_code == 200
    assert 'class="product-table"' in html and "product-card" not in html
    assert foam.sku in html and foam.gtin in html
    assert "10 × each" in html
    assert "£10.00" in html and "ex VAT" in html and "inc VAT" not in html
    assert "In stock" in html and "Out of stock" in html


def test_rows_get_a_quantity_box_only_when_ordering_provides_an_add_to_cart_url(world, client_for):
    try:
        reverse("cart_add")
        has_cart = True
    except NoReverseMatch:
        has_cart = False

    html = client_for("nhs").get("/catalogue/c/wound-care/").content.decode()

    assert ('name="quantity"' in html) is has_cart


@override_settings(ROOT_URLCONF="tests.catalog.urls_with_cart")
def test_b2b_rows_post_product_and_quantity_to_the_add_to_cart_url(world, client_for):
    b2b = client_for("nhs").get("/catalogue/c/wound-care/").content.decode()
    retail = client_for("patient").get("/catalogue/c/wound-care/").content.decode()

    foam = world.products["foam"]
    assert b2b.count('action="/test-cart/add/"') == 5
    assert f'name="product" value="{foam.pk}"' in b2b
    assert 'name="quantity"' in b2b
    assert 'name="quantity"' not in retail


def test_a_retail_buyer_gets_cards_with_pictures_and_vat_inclusive_prices(world, client_for):
    response = client_for("patient").get("/catalogue/c/mobility/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "product-card" in html and "product-table" not in html
    assert "/static/catalog/illustrations/mobility.svg" in html
    assert "£17.99" in html and "inc VAT" in html  # 14.99 + 20 % VAT
    assert world.products["stick"].gtin not in html
    assert "VAT relief available" in html


def test_the_product_page_shows_the_regulatory_facts(world, client_for):
    blade = world.products["blade"]

    html = client_for("nhs").get(f"/catalogue/p/{blade.slug}/").content.decode()

    for fact in (blade.gtin, "Class IIa", blade.gmdn_code, blade.gmdn_term, "On the market",
                 "Professional use only", "Contains natural rubber latex"):
        assert fact in html


def test_personalised_pages_are_private(world, client_for):
    client = client_for("nhs")
    urls = ["/catalogue/", "/catalogue/c/wound-care/", "/catalogue/search/?q=foam",
            f"/catalogue/p/{world.products['foam'].slug}/"]

    for url in urls:
        cache_control = client.get(url)["Cache-Control"]
        assert "private" in cache_control and "public" not in cache_control


@pytest.mark.parametrize(
    "query",
    [
        "class=ZZ&manufacturer=nobody&sterile=perhaps&in_stock=yes&colour=red",
        "page=abc", "page=-4", "page=0", "page=99999", "page=1e9", "class=IIb&page=2.5",
    ],
)
def test_unknown_facets_and_page_numbers_give_a_clean_page(world, client_for, query):
    response = client_for("clinic").get(f"/catalogue/c/wound-care/?{query}")

    assert response.status_code == 200
    assert set(skus_on(response)) <= {p.sku for p in world.products.values()}
    assert skus_on(response)


def test_a_page_past_the_end_shows_the_last_page(world, client_for):
    category = world.categories["plasters"]
    ProductFactory.create_batch(30, category=category)

    response = client_for("clinic").get("/catalogue/c/plasters/?page=99999")

    assert response.status_code == 200
    assert "Page 2 of 2" in response.content.decode()
    assert len(skus_on(response)) == 33 - 24


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("trust2", "/catalogue/c/custom-packs/"),
        ("patient", "/catalogue/c/infusion/"),
        ("guest", "/catalogue/c/blades/"),
        ("clinic", "/catalogue/c/no-such-category/"),
        ("clinic", "/catalogue/p/no-such-product/"),
    ],
)
def test_a_category_or_product_the_buyer_may_not_see_is_not_found(world, client_for, persona,
                                                                     url):
    assert client_for(persona).get(url).status_code == 404


def test_another_catalogues_product_is_not_found_by_url(world, client_for):
    pack = world.products["riverside_pack"]

    assert client_for("nhs").get(f"/catalogue/p/{pack.slug}/").status_code == 200
    assert client_for("trust2").get(f"/catalogue/p/{pack.slug}/").status_code == 404


@pytest.mark.parametrize(
    "q", ["", "   ", "%", "_", "' OR 1=1 --", "a" * 500, "ünïcödé", "<script>"]
)
def test_hostile_search_input_gives_a_clean_page(world, client_for, q):
    response = client_for("patient").get("/catalogue/search/", {"q": q})

    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_search_finds_a_product_by_sku_and_by_gtin(world, client_for):
    blade = world.products["blade"]
    client = client_for("clinic")

    assert skus_on(client.get("/catalogue/search/", {"q": blade.sku})) == [blade.sku]
    assert skus_on(client.get("/catalogue/search/", {"q": blade.gtin})) == [blade.sku]


def test_facets_filter_and_count_with_the_other_choices_applied(world, client_for):
    StockFactory(product=world.products["foam"], on_hand=3)
    client = client_for("clinic")

    sterile = client.get("/catalogue/c/wound-care/?sterile=yes")
    class_three = client.get("/catalogue/c/wound-care/?class=III")
    in_stock = client.get("/catalogue/c/wound-care/?in_stock=1")

    assert set(skus_on(sterile)) == {world.products["foam"].sku, world.products["silver"].sku}
    assert skus_on(class_three) == [world.products["silver"].sku]
    assert skus_on(in_stock) == [world.products["foam"].sku]
    html = class_three.content.decode()
    assert re.search(r'value="I"[^>]*> Class I <span class="count">\(3\)', html)
    assert re.search(r'value="IIb"[^>]*> Class IIb <span class="count">\(1\)', html)
    assert re.search(r'value="yes"[^>]*> Sterile <span class="count">\(1\)', html)


def test_a_recalled_product_leaves_sale_on_the_next_request_despite_caching(world, client_for):
    foam = world.products["foam"]
    client = client_for("patient")
    assert foam.sku in skus_on(client.get("/catalogue/c/wound-care/"))
    assert client.get(f"/catalogue/p/{foam.slug}/").status_code == 200

    services.product_set_regulatory_status(
        product=foam, status=RegulatoryStatus.RECALLED, reason="FSN-2026-07"
    )

    assert foam.sku not in skus_on(client.get("/catalogue/c/wound-care/"))
    assert foam.sku not in skus_on(client.get("/catalogue/search/", {"q": "foam"}))
    assert client.get(f"/catalogue/p/{foam.slug}/").status_code == 404


def test_a_catalogue_change_shows_in_the_cached_tree_on_the_next_request(world, client_for):
    client = client_for("patient")
    assert "Infusion" not in client.get("/catalogue/").content.decode()

    retail = world.catalogs["retail"]
    retail.products.add(ProductFactory(category=world.categories["iv-cannulas"], sku="IN-2000"))

    assert "Infusion" in client.get("/catalogue/").content.decode()


@pytest.mark.parametrize("persona", ["clinic", "patient"])
def test_a_category_page_costs_the_same_queries_for_10_50_and_100_products(
    db, client_for, world, django_assert_max_num_queries, persona
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(persona)
    counts = []
    for size in (10, 50, 100):
        category = CategoryFactory(name=f"Gauze swabs {size}", slug=f"gauze-{size}",
                                   parent=world.categories["foam-dressings"])
        products = ProductFactory.create_batch(size, category=category)
        for product in products[::3]:
            StockFactory(product=product)
        price_everything(products)
        url = f"/catalogue/c/gauze-{size}/"
        client.get(url)  # warms the resolver, tree and facet caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert len(skus_on(response)) == min(size, 24)
        counts.append(len(queries))

    assert counts[0] == counts[1] == counts[2] <= 8, counts
