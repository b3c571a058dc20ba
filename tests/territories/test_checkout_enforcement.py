"""Checkout agrees with the territory oracle on random worlds, even for a cart filled before the
rights and restrictions changed: a line sold to the buyer directly goes on a direct order, a line
sold only through a distributor (to a trust) goes on a routed order to exactly that distributor,
and a cart holding any line not sold to the buyer is refused with nothing written — no order, no
stock reserved, the cart kept. Rights and restrictions that start or end today count today."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import event, example, given
from hypothesis import strategies as st

from accounts.services import organisation_save
from ordering.errors import OrderError
from ordering.models import ApprovalStep, CartLine, Order, OrderEvent, OrderLine, Stock
from ordering.models.outbox import OutboxEvent
from ordering.services.carts import cart_add, cart_for
from ordering.services.checkout import (
    InstitutionalDetails,
    checkout_distributor,
    checkout_institutional,
    checkout_review,
)
from pricing.models import PriceListKind
from segments.resolver import resolve
from territories.lookup import region_for_area
from territories.models import TerritoryRight
from tests.factories import CostCentreFactory, MembershipFactory
from tests.pricing.conftest import make_list, price

from .conftest import days, grant
from .test_availability_property import (
    TERRITORY_AREAS,
    THOROUGH,
    _settings,
    build,
    buyer_organisation,
    expected_all,
    fixed,  # noqa: F401 - the world's fixed shape, a fixture
    worlds,
)

pytestmark = pytest.mark.django_db

EXAMPLES = 100 if THOROUGH else 15
ALLOWED = {"trust": {"direct", "via_distributor"}, "distributor": {"direct"}}
ON_HAND = 5


@st.composite
def buyers_worlds(draw):
    """A world of the property tests bought in by a trust or a distributor. Half the time the
    buyer delivers where one of the rights is held (an exclusive one for a trust, when there is
    one) and a distributor buyer is its holder, so routed lines and a distributor's own direct
    lines come up often."""
    world = {**draw(worlds), "buyer": draw(st.sampled_from(["trust", "distributor"]))}
    exclusive = [r for r in world["rights"] if r["exclusive"]]
    focus = exclusive if world["buyer"] == "trust" and exclusive else world["rights"]
    if focus and draw(st.booleans()):
        right = draw(st.sampled_from(focus))
        world["holder"] = right["holder"]
        world["area"] = draw(st.sampled_from(sorted(TERRITORY_AREAS[right["territory"]])))
    return world


def _right(holder, territory, line, exclusive, period):
    return {
        "holder": holder,
        "territory": territory,
        "line": line,
        "exclusive": exclusive,
        "period": period,
    }


def _restriction(territory, line, period):
    return {"territory": territory, "line": line, "period": period}


# A trust in SE on the day rights and restrictions change: product 0 is still routed to holder 1
# (its exclusive right ends today), product 1 is sold directly (holder 1's right ended yesterday,
# holder 2's and a restriction start tomorrow), product 2 is not sold (restricted until the end of
# today) and product 3 is routed to holder 2 (its right starts today).
TRUST_ON_THE_DAY = {
    "rights": [
        _right(1, "london", ("product", 0), True, (-30, 0)),
        _right(1, "london", ("product", 1), True, (-30, -1)),
        _right(2, "terr-x", ("product", 1), True, (1, None)),
        _right(2, "terr-x", ("product", 3), True, (0, None)),
    ],
    "restrictions": [
        _restriction("london", ("category", "A1"), (1, None)),
        _restriction("london", ("product", 2), (-30, 0)),
    ],
    "buyer": "trust",
    "holder": 0,
    "area": "SE",
}
# A distributor in LS whose own right lasts just today (products 0-2), whose right to product 3
# starts tomorrow, and a restriction of product 2 in force only today.
DISTRIBUTOR_ON_THE_DAY = {
    "rights": [
        _right(0, "north-east-and-yorkshire", ("category", "A"), False, (0, 0)),
        _right(0, "terr-x", ("product", 3), True, (1, None)),
    ],
    "restrictions": [_restriction("terr-x", ("product", 2), (0, 0))],
    "buyer": "distributor",
    "holder": 0,
    "area": "LS",
}


def _buyer_ready(world, fixed):  # noqa: F811
    """The buyer's organisation with a member who may place orders, a cost centre, credit on
    account, and one list price and stock for every product."""
    organisation = buyer_organisation(world, fixed)
    organisation.credit_limit = Decimal("100000.00")
    organisation_save(organisation=organisation)
    price_list = make_list("checkout-enforcement", PriceListKind.LIST)
    for product in fixed["products"].values():
        price(price_list, product, "10.00")
        Stock.objects.create(product=product, on_hand=ON_HAND)
    user = MembershipFactory(organisation=organisation, is_buyer=True).user
    return organisation, user, CostCentreFactory(organisation=organisation)


def _fill_cart(world, fixed, organisation, user):  # noqa: F811
    """One unit of every product, put in the cart before the world's rights and restrictions
    exist. A trust adds them through cart_add (all sold to it directly then). A distributor adds
    them under a right of its own that is withdrawn afterwards; with no delivery area it never
    could, and its cart holds the rows a stale cart would."""
    buyer = resolve(user, organisation=organisation)
    temporary = []
    if world["buyer"] == "distributor" and world["area"]:
        temporary = [
            grant(organisation, region_for_area(world["area"]), category=category, exclusive=False)
            for category in (fixed["categories"]["A"], fixed["categories"]["B"])
        ]
    for product in fixed["products"].values():
        if world["buyer"] == "distributor" and not world["area"]:
            CartLine.objects.create(cart=cart_for(buyer=buyer), product=product, quantity=1)
        else:
            cart_add(buyer=buyer, product_id=product.pk, quantity=1)
    TerritoryRight.objects.filter(pk__in=[r.pk for r in temporary]).delete()


def _checkout(world, buyer, cost_centre, po_number):
    """Review the cart and place it as the buyer's workflow does; the OrderError code or ""."""
    details = InstitutionalDetails(
        po_number=po_number,
        cost_centre_id=cost_centre.pk,
        requested_delivery_date=days(7),
    )
    place = checkout_distributor if world["buyer"] == "distributor" else checkout_institutional
    try:
        review = checkout_review(buyer=buyer)
        place(buyer=buyer, details=details, expected_token=review.price_token)
    except OrderError as error:
        return error.code
    return ""


def _outcome(refused, fixed, user):  # noqa: F811
    """What the checkout left in the database, as plain data: each order line as (product index,
    fulfilling distributor's index or None for a direct order, order state)."""
    index = {p.pk: i for i, p in fixed["products"].items()}
    holders = {d.pk: i for i, d in enumerate(fixed["distributors"])}
    holders[None] = None
    lines = OrderLine.objects.values_list("product_id", "order__fulfiller_id", "order__state")
    in_cart = CartLine.objects.filter(cart__user=user).values_list("product_id", flat=True)
    return {
        "refused": refused,
        "lines": sorted(
            [
                (
                    index[product_id],
                    holders.get(fulfiller_id, f"organisation {fulfiller_id}"),
                    state,
                )
                for product_id, fulfiller_id, state in lines
            ],
            key=str,
        ),
        "rows": {
            m.__name__: m.objects.count()
            for m in (Order, OrderLine, OrderEvent, ApprovalStep, OutboxEvent)
        },
        "reserved": {
            index[product_id]: reserved
            for product_id, reserved in Stock.objects.values_list("product_id", "reserved")
        },
        "cart": sorted(index[product_id] for product_id in in_cart),
    }


def _violations(world, expected, in_cart, outcome) -> list[str]:
    """Every way the outcome breaks the oracle for a checkout of the products `in_cart`."""
    allowed = ALLOWED[world["buyer"]]
    forbidden = [i for i in in_cart if expected[i][0] not in allowed]
    if forbidden:
        wrong = []
        if not outcome["refused"]:
            wrong.append(f"placed although {forbidden} may not be bought: {outcome['lines']}")
        if any(outcome["rows"].values()) or any(outcome["reserved"].values()):
            wrong.append(f"left rows {outcome['rows']} and reserved {outcome['reserved']}")
        if outcome["cart"] != in_cart:
            wrong.append(f"the cart changed to {outcome['cart']}")
        return wrong
    if outcome["refused"]:
        return [f"refused ({outcome['refused']}) although every line may be bought"]
    wrong = []
    lines = {i: (holder, state) for i, holder, state in outcome["lines"]}
    if len(outcome["lines"]) != len(in_cart) or set(lines) != set(in_cart):
        wrong.append(f"ordered lines {outcome['lines']} for a cart of {in_cart}")
    for i in in_cart:
        status, holder = expected[i]
        got_holder, state = lines.get(i, ("missing", ""))
        if status == "direct" and (got_holder is not None or state == "routed"):
            wrong.append(f"product {i} is sold directly but went to {got_holder} ({state})")
        if status == "via_distributor" and (got_holder != holder or state != "routed"):
            wrong.append(
                f"product {i} is sold only through {holder} but went to {got_holder} ({state})"
            )
        if outcome["reserved"].get(i, 0) != (1 if status == "direct" else 0):
            wrong.append(f"product {i} ({status}) reserved {outcome['reserved'].get(i)} units")
    if outcome["cart"]:
        wrong.append(f"placed but the cart still holds {outcome['cart']}")
    return wrong


@_settings(EXAMPLES)
@given(world=buyers_worlds())
@example(world=TRUST_ON_THE_DAY)
@example(world=DISTRIBUTOR_ON_THE_DAY)
def test_checkout_sells_only_what_the_oracle_allows_and_routes_the_rest(fixed, world):  # noqa: F811
    violations = {}
    with transaction.atomic():
        organisation, user, cost_centre = _buyer_ready(world, fixed)
        _fill_cart(world, fixed, organisation, user)
        accepted, _refused = build(world, fixed)
        buyer = resolve(user, organisation=organisation)
        expected = expected_all(world, accepted)
        everything = sorted(fixed["products"])
        for status, _holder in expected.values():
            event(f"{world['buyer']}: a {status} line")

        for i, product in fixed["products"].items():  # each product alone
            with transaction.atomic():
                CartLine.objects.filter(cart__user=user).exclude(product=product).delete()
                refused = _checkout(world, buyer, cost_centre, f"PO-{i}")
                outcome = _outcome(refused, fixed, user)
                transaction.set_rollback(True)
            violations[f"product {i} alone"] = _violations(world, expected, [i], outcome)

        refused = _checkout(world, buyer, cost_centre, "PO-ALL")  # the whole cart at once
        violations["whole cart"] = _violations(
            world, expected, everything, _outcome(refused, fixed, user)
        )
        transaction.set_rollback(True)

    assert {k: v for k, v in violations.items() if v} == {}, expected
