"""Where the goods go decides the territory, on every way in: a consumer's delivery address, an
institutional line's site and an API line's site, each in an area other than the buyer's own.
An oracle written from DESIGN.md's rule (restricted there: refused; under a distributor's
exclusive right there: routed to it; else direct) says what must happen for each address; a
refusal leaves nothing behind (no order, line, event, outbox row or reservation; the cart kept)."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Organisation
from ordering.errors import OrderError
from ordering.models import CartLine, Order, OrderEvent, OrderLine, Stock
from ordering.models.outbox import OutboxEvent
from ordering.services.carts import cart_add
from ordering.services.checkout import (
    DeliveryAddress,
    InstitutionalDetails,
    checkout_institutional,
    checkout_retail,
    checkout_review,
)
from pricing.engine import prices_for
from segments.resolver import buyer_for_delivery
from tests.api.conftest import issue_key, key_client
from tests.factories import SiteFactory
from tests.ordering.conftest import build_world

from .conftest import distributor, grant, region, restrict

pytestmark = pytest.mark.django_db

GOOD_CARD = "4242 4242 4242 4242"

# Delivery postcodes away from the buyers' own area (London), and what the rule says of the
# dressing (exclusive to Northern Holder in Yorkshire, to Southern Holder in the south east) and
# of the gloves (not sold in Scotland) delivered there.
ORACLE = {
    "LS9 6TA": {"dressing": ("routed", "Northern Holder"), "gloves": ("direct", None)},
    "YO1 7HH": {"dressing": ("routed", "Northern Holder"), "gloves": ("direct", None)},
    "PO3 5LZ": {"dressing": ("routed", "Southern Holder"), "gloves": ("direct", None)},
    "EH10 4BF": {"dressing": ("direct", None), "gloves": ("refused", None)},
    "G2 1AA": {"dressing": ("direct", None), "gloves": ("refused", None)},
    "CF14 4XW": {"dressing": ("direct", None), "gloves": ("direct", None)},
    "M20 2LS": {"dressing": ("direct", None), "gloves": ("direct", None)},
}
CASES = [(postcode, product) for postcode, lines in ORACLE.items() for product in lines]


@pytest.fixture
def world(db):
    world = build_world()
    northern = distributor("Northern Holder")
    southern = distributor("Southern Holder", postcode="SO14 3TL")
    grant(northern, region("north-east-and-yorkshire"), product=world.dressing)
    grant(southern, region("south-east"), product=world.dressing)
    restrict(region("scotland"), product=world.gloves)
    return world


def _product(world, name):
    return getattr(world, name)


def _footprint(user):
    return {
        "rows": [m.objects.count() for m in (Order, OrderLine, OrderEvent, OutboxEvent)],
        "reserved": sorted(Stock.objects.values_list("product_id", "reserved")),
        "cart": sorted(CartLine.objects.filter(cart__user=user)
                       .values_list("product_id", "quantity")),
    }


def _assert_outcome(expected, orders, holder_names):
    status, holder = expected
    if status == "routed":
        assert [holder_names.get(o.fulfiller_id) for o in orders] == [holder]
    else:
        assert [o.fulfiller_id for o in orders] == [None]


def _holders():
    return dict(Organisation.objects.filter(name__endswith="Holder").values_list("pk", "name"))


@pytest.mark.parametrize(("postcode", "product"), CASES)
def test_a_consumers_line_follows_the_territory_of_the_delivery_address(world, postcode, product):
    patient = world.buyer("patient")  # lives in London, where every line is sold directly
    cart_add(buyer=patient, product_id=_product(world, product).pk, quantity=5)
    review = checkout_review(buyer=patient, delivery_postcode=postcode)
    before = _footprint(world.user("patient"))

    try:
        order = checkout_retail(
            buyer=patient, address=DeliveryAddress("Pat Patient", "1 Away Road", postcode),
            card_number=GOOD_CARD, expected_token=review.price_token,
        )
    except OrderError as error:
        refused = error
    else:
        refused = None

    expected = ORACLE[postcode][product]
    if expected[0] == "refused":
        assert refused is not None and refused.code == "cart_problem"
        assert "not sold for delivery to" in refused.message
        assert _footprint(world.user("patient")) == before
    else:
        assert refused is None
        _assert_outcome(expected, [order], _holders())
        assert order.delivery_postcode == postcode


@pytest.mark.parametrize(("postcode", "product"), CASES)
def test_an_institutional_line_follows_the_territory_of_its_site(world, postcode, product):
    away = SiteFactory(organisation=world.trust, name="Outreach clinic", postcode=postcode)
    buyer = world.buyer("buyer")  # default site: a London ward
    line = cart_add(buyer=buyer, product_id=_product(world, product).pk, quantity=5)
    line_sites = {line.pk: away.pk}
    review = checkout_review(buyer=buyer, line_sites=line_sites)
    before = _footprint(world.user("buyer"))
    details = InstitutionalDetails(
        po_number=f"PO-{postcode}-{product}", cost_centre_id=world.cost_centre.pk,
        requested_delivery_date=timezone.localdate() + datetime.timedelta(days=7),
        line_sites=line_sites,
    )

    try:
        orders = checkout_institutional(buyer=buyer, details=details,
                                        expected_token=review.price_token)
    except OrderError as error:
        refused = error
    else:
        refused = None

    expected = ORACLE[postcode][product]
    if expected[0] == "refused":
        assert refused is not None and refused.code == "cart_problem"
        assert _footprint(world.user("buyer")) == before
    else:
        assert refused is None
        _assert_outcome(expected, orders, _holders())
        assert list(OrderLine.objects.values_list("site_id", flat=True)) == [away.pk]


@pytest.mark.parametrize(("postcode", "product"), CASES)
def test_an_api_line_follows_the_territory_of_its_site(world, postcode, product):
    away = SiteFactory(organisation=world.trust, name="Outreach clinic", postcode=postcode)
    user, organisation = world.people["buyer"]
    client = key_client(issue_key(organisation, user, name="ERP"))
    body = {
        "lines": [{"sku": _product(world, product).sku, "quantity": 5, "site": away.pk}],
        "po_number": f"PO-API-{postcode}", "cost_centre": world.cost_centre.code,
        "requested_delivery_date": str(timezone.localdate() + datetime.timedelta(days=7)),
    }
    before = _footprint(user)

    response = client.post("/api/v1/orders/", body, format="json",
                           HTTP_IDEMPOTENCY_KEY=f"delivery-{postcode}-{product}")

    expected = ORACLE[postcode][product]
    if expected[0] == "refused":
        assert response.status_code == 422, response.json()
        assert "not sold for delivery to" in str(response.json())
        assert _footprint(user) == before
    else:
        assert response.status_code == 201, response.json()
        _assert_outcome(expected, list(Order.objects.order_by("id")), _holders())
        assert list(OrderLine.objects.values_list("site_id", flat=True)) == [away.pk]


def test_an_api_line_restricted_at_the_default_site_but_sold_at_its_own_site_is_ordered(world):
    SiteFactory(organisation=world.trust, name="Aberdeen outreach", postcode="AB10 1AB")
    user, organisation = world.people["buyer"]
    client = key_client(issue_key(organisation, user, name="ERP"))
    assert world.buyer("buyer").postcode_area == "AB"  # the key's default site, in Scotland
    body = {
        "lines": [{"sku": world.gloves.sku, "quantity": 5, "site": world.ward_b.pk}],
        "po_number": "PO-API-LONDON", "cost_centre": world.cost_centre.code,
        "requested_delivery_date": str(timezone.localdate() + datetime.timedelta(days=7)),
    }

    response = client.post("/api/v1/orders/", body, format="json",
                           HTTP_IDEMPOTENCY_KEY="delivery-default-site")

    assert response.status_code == 201, response.json()
    assert list(OrderLine.objects.values_list("site_id", flat=True)) == [world.ward_b.pk]


def test_the_engine_prices_no_product_restricted_where_the_goods_go(world):
    patient = world.buyer("patient")
    in_scotland = buyer_for_delivery(patient, "EH10 4BF")

    at_home = prices_for(patient, [world.gloves.pk, world.dressing.pk])
    delivered = prices_for(in_scotland, [world.gloves.pk, world.dressing.pk])

    assert set(at_home) == {world.gloves.pk, world.dressing.pk}
    assert set(delivered) == {world.dressing.pk}
    assert (in_scotland.postcode_area, in_scotland.territory) == ("EH", "scotland")
    assert in_scotland.cache_key != patient.cache_key
    assert (in_scotland.user_id, in_scotland.segments) == (patient.user_id, patient.segments)
