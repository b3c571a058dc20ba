"""Complementary products as buyers meet them: on the product page and in the cart, each buyer
sees only what it may see, at its own price (an NHS trust its contract price, a clinic the list
price), from the figures of its own segments; the pages run the same number of queries whatever
the number of recommendations; "accounts like yours" leaves out what the buyer ordered lately."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.template import RequestContext, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from merchandising.models import EVERYONE, PeerFavourite, ProductAffinity, segment_scope
from merchandising.selectors import complementary_for, peers_also_order
from merchandising.services import recompute_affinities
from ordering.services.carts import cart_add
from pricing.models import Contract, PriceList, PriceListItem, PriceListKind
from pricing.services.price_lists import contract_save, price_list_item_save, price_list_save
from segments.resolver import resolve
from tests.catalog.factories import ProductFactory
from tests.catalog.world import build_world, price_everything
from tests.factories.orders import history_order

pytestmark = pytest.mark.django_db


def _pair(product, other, lift, scope=EVERYONE):
    ProductAffinity.objects.create(scope=scope, product=product, other=other, support=5,
                                   scope_orders=50, confidence=0.5, lift=lift,
                                   computed_at=timezone.now())


def _contract(organisation, product, amount: str):
    price_list = price_list_save(price_list=PriceList(
        code="riverside-contract", name="Riverside contract", kind=PriceListKind.CONTRACT))
    price_list_item_save(item=PriceListItem(price_list=price_list, product=product,
                                            unit_price=Decimal(amount), min_quantity=1))
    contract_save(contract=Contract(
        organisation=organisation, reference="NHS-2026-77", lot="1", status="active",
        price_list=price_list, valid_from=datetime.date.today() - datetime.timedelta(days=30),
    ))


@pytest.fixture
def world(db):
    world = build_world()
    p = world.products
    _pair(p["foam"], p["riverside_pack"], 6.0)  # only Riverside's own catalogue holds it
    _pair(p["foam"], p["plasters"], 3.0)
    _pair(p["foam"], p["recalled"], 9.0)  # off sale: nobody is offered it
    _pair(p["foam"], p["cannula"], 4.0, scope=segment_scope("private-clinics"))
    _pair(p["foam"], p["stick"], 2.0, scope=segment_scope("retail-consumers"))
    riverside = world.users["nhs"].memberships.get().organisation
    _contract(riverside, p["plasters"], "3.21")
    return world


def _recommended(body: str) -> list[tuple[str, str]]:
    """(SKU, unit price shown) of each card in the page's recommendations."""
    section = body[body.find('data-recommendations="together"'):]
    section = section[:section.find("</section>")]
    found = re.findall(r'data-sku="([^"]+)".*?data-price="([^"]+)"', section, flags=re.S)
    return [(sku, Decimal(price)) for sku, price in found]


def _page(client, user, product):
    client.force_login(user)
    response = client.get(reverse("product_detail", args=[product.slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_trust_and_a_clinic_see_different_recommendations_at_their_own_prices(client, world):
    p = world.products

    nhs = _recommended(_page(client, world.users["nhs"], p["foam"]))
    clinic = _recommended(_page(client, world.users["clinic"], p["foam"]))

    assert nhs == [(p["riverside_pack"].sku, Decimal("10.00")),
                   (p["plasters"].sku, Decimal("3.21"))]
    assert clinic == [(p["cannula"].sku, Decimal("10.00")),
                      (p["plasters"].sku, Decimal("10.00"))]


def test_a_consumer_sees_only_the_consumer_catalogue_at_retail_prices(client, world):
    p = world.products

    shown = _recommended(_page(client, world.users["patient"], p["foam"]))

    # The retail price 14.99 plus 20% VAT, as a consumer is shown it.
    assert shown == [(p["plasters"].sku, Decimal("17.99")), (p["stick"].sku, Decimal("17.99"))]


def test_the_cart_recommends_what_goes_with_its_lines_and_not_the_lines(client, world):
    p = world.products
    clinic = world.users["clinic"]
    buyer = resolve(clinic)
    cart_add(buyer=buyer, product_id=p["foam"].pk, quantity=1)
    cart_add(buyer=buyer, product_id=p["plasters"].pk, quantity=1)
    client.force_login(clinic)

    body = client.get(reverse("cart")).content.decode()

    assert _recommended(body) == [(p["cannula"].sku, Decimal("10.00"))]


def test_recommendations_never_repeat_the_products_asked_about(world):
    p = world.products
    buyer = resolve(world.users["clinic"])

    found = complementary_for(buyer, product_ids=[p["foam"].pk, p["cannula"].pk])

    assert [r.product for r in found] == [p["plasters"]]
    assert found[0].reason == "Often ordered with it by other buyers"


def test_the_reason_names_the_buyers_it_comes_from(world):
    found = complementary_for(resolve(world.users["clinic"]),
                              product_ids=[world.products["foam"].pk])

    assert [r.reason for r in found] == ["Often ordered with it by buyers like you",
                                         "Often ordered with it by other buyers"]


def _count_queries(client, url) -> tuple[int, str]:
    client.get(url)  # warm: the buyer's context and the catalogue's fragments are cached
    with CaptureQueriesContext(connection) as queries:
        body = client.get(url).content.decode()
    return len(queries), body


def test_product_page_and_cart_queries_do_not_grow_with_the_recommendations(
    client, world, settings
):
    settings.MERCHANDISING_SHOWN = 12
    settings.MERCHANDISING_CACHE_SECONDS = 0  # every request asks the figures and the rules
    p = world.products
    clinic = world.users["clinic"]
    cart_add(buyer=resolve(clinic), product_id=p["foam"].pk, quantity=1)
    client.force_login(clinic)
    extra = [ProductFactory(category=p["foam"].category) for _ in range(8)]
    price_everything(extra)
    counts = {}
    for size, others in ((2, []), (10, extra)):
        for rank, product in enumerate(others):
            _pair(p["foam"], product, 2.5 - rank / 100)
        for name, url in (("product", reverse("product_detail", args=[p["foam"].slug])),
                          ("cart", reverse("cart"))):
            counts[name, size], body = _count_queries(client, url)
            assert len(_recommended(body)) == size

    assert counts["product", 2] == counts["product", 10]
    assert counts["cart", 2] == counts["cart", 10]


def test_accounts_like_yours_leaves_out_what_the_buyer_ordered_lately(world):
    p = world.products
    clinic_user = world.users["clinic"]
    clinic = clinic_user.memberships.get().organisation
    now = timezone.now()
    for product, lift in ((p["cannula"], 3.0), (p["blade"], 2.0), (p["foam"], 1.5)):
        PeerFavourite.objects.create(scope=segment_scope("private-clinics"), product=product,
                                     buyers=5, share=0.5, lift=lift, computed_at=now)
    PeerFavourite.objects.create(scope=segment_scope("nhs-trusts"), product=p["silver"],
                                 buyers=5, share=0.5, lift=4.0, computed_at=now)
    history_order(products=[p["blade"]], user=clinic_user, organisation=clinic, days_ago=20)
    history_order(products=[p["foam"]], user=clinic_user, organisation=clinic, days_ago=200)

    clinic_sees = peers_also_order(resolve(clinic_user))
    nhs_sees = peers_also_order(resolve(world.users["nhs"]))

    assert [r.product for r in clinic_sees] == [p["cannula"], p["foam"]]
    assert [r.product for r in nhs_sees] == [p["silver"]]


def test_a_buyers_list_is_cached_until_the_figures_are_recomputed(world, django_assert_num_queries):
    p = world.products
    buyer = resolve(world.users["clinic"])
    first = complementary_for(buyer, product_ids=[p["foam"].pk])
    with django_assert_num_queries(0):
        assert complementary_for(buyer, product_ids=[p["foam"].pk]) == first

    recompute_affinities()  # no orders: no figures left

    assert complementary_for(buyer, product_ids=[p["foam"].pk]) == []
    assert [r.product for r in first] == [p["cannula"], p["plasters"]]


def test_accounts_like_yours_renders_on_any_page_for_the_viewing_buyer(world, rf):
    p = world.products
    PeerFavourite.objects.create(scope=segment_scope("private-clinics"), product=p["cannula"],
                                 buyers=5, share=0.5, lift=3.0, computed_at=timezone.now())
    page = Template("{% load merchandising %}{% accounts_like_yours %}")
    rendered = {}
    for persona in ("clinic", "nhs"):
        request = rf.get("/")
        request.user, request.buyer = world.users[persona], resolve(world.users[persona])
        rendered[persona] = page.render(RequestContext(request, {}))

    assert 'data-recommendations="peers"' in rendered["clinic"]
    assert f'data-sku="{p["cannula"].sku}"' in rendered["clinic"]
    assert "Popular with buyers like you" in rendered["clinic"]
    assert 'name="product"' in rendered["clinic"]  # the Add button's form
    assert "data-recommendations" not in rendered["nhs"]
