"""cart_add agrees with the territory oracle on random worlds: a trust may add a line sold to it
directly or through a distributor (a routed order); a distributor only the lines it may buy
directly; every other line is refused and leaves the cart unchanged."""

import pytest
from django.db import transaction
from hypothesis import given

from ordering.errors import OrderError
from ordering.models import CartLine
from ordering.services.carts import cart_add
from pricing.models import PriceListKind
from segments.resolver import resolve
from tests.factories import MembershipFactory
from tests.pricing.conftest import make_list, price

from .test_availability_property import (
    _settings,
    build,
    buyer_organisation,
    expected_all,
    fixed,  # noqa: F401 - the world's fixed shape, a fixture
    worlds,
)

pytestmark = pytest.mark.django_db

ALLOWED = {"trust": {"direct", "via_distributor"}, "distributor": {"direct"}}
buyers_worlds = worlds.filter(lambda world: world["buyer"] != "guest")


@_settings(20)
@given(world=buyers_worlds)
def test_cart_add_refuses_exactly_what_the_oracle_forbids(fixed, world):  # noqa: F811
    with transaction.atomic():
        accepted, _refused = build(world, fixed)
        organisation = buyer_organisation(world, fixed)
        price_list = make_list("cart-enforcement", PriceListKind.LIST)
        for product in fixed["products"].values():
            price(price_list, product, "10.00")
        user = MembershipFactory(organisation=organisation, is_buyer=True).user
        buyer = resolve(user, organisation=organisation)
        expected = expected_all(world, accepted)

        added = {}
        for i, product in fixed["products"].items():
            try:
                cart_add(buyer=buyer, product_id=product.pk, quantity=1)
            except OrderError:
                added[i] = False
            else:
                added[i] = True
        in_cart = set(CartLine.objects.filter(cart__user=user).values_list(
            "product__sku", flat=True))
        transaction.set_rollback(True)

    for i, product in fixed["products"].items():
        status, _holder = expected[i]
        assert added[i] is (status in ALLOWED[world["buyer"]]), (i, expected[i])
        assert (product.sku in in_cart) is added[i]
