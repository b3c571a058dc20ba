"""availability_for: directly, only through the named distributor, or not at all — by the buyer's
delivery area and today's date, for a whole page of products in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from territories.models import TerritoryRight
from territories.rules import (
    CONFIRMED_AT_CHECKOUT,
    availability_for,
    purchasable_directly,
    territory_visibility_q,
)
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.factories import OrganisationFactory

from .conftest import buyer_in, days, distributor, grant, region, restrict

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    continence = CategoryFactory(name="Continence", slug="continence")
    catheters = CategoryFactory(name="Catheters", slug="catheters", parent=continence)
    rapid_tests = CategoryFactory(name="Rapid tests", slug="rapid-tests")
    products = {
        "catheter": ProductFactory(category=catheters),
        "brief": ProductFactory(category=continence),
        "frame": ProductFactory(),
        "test": ProductFactory(category=rapid_tests),
    }
    pennine = distributor("Pennine Medical Supplies")
    solent = distributor("Solent Healthcare Distribution", postcode="SO16 0YB")
    grant(pennine, region("north-east-and-yorkshire"), category=continence)
    grant(pennine, region("north-west"), category=continence)
    grant(solent, region("london"), product=products["frame"])
    grant(solent, region("south-east"), product=products["brief"], exclusive=False)
    restrict(region("scotland"), category=rapid_tests, reason="Not registered for sale in Scotland")
    return products, pennine, solent


def test_a_trust_in_leeds_buys_continence_through_pennine_and_the_rest_directly(world):
    products, pennine, _solent = world
    trust = OrganisationFactory(postcode="LS9 6TA")

    answers = availability_for(buyer_in("LS", organisation=trust), products.values())

    catheter = answers[products["catheter"].pk]
    assert catheter.status == "via_distributor"
    assert (catheter.distributor_id, catheter.distributor_name) == (
        pennine.pk, "Pennine Medical Supplies")
    assert catheter.distributor_contact.phone == "01772 555 010"
    assert "North East and Yorkshire" in catheter.reason
    assert answers[products["brief"].pk].status == "via_distributor"
    assert answers[products["frame"].pk].status == "direct"
    assert answers[products["test"].pk].status == "direct"


def test_a_london_buyer_meets_the_frame_through_solent_only(world):
    products, _pennine, solent = world

    answers = availability_for(buyer_in("SE"), products.values())

    assert answers[products["frame"].pk].distributor_id == solent.pk
    assert {pid for pid, a in answers.items() if a.status == "direct"} == {
        products["catheter"].pk, products["brief"].pk, products["test"].pk}


def test_a_non_exclusive_right_routes_nobody(world):
    products, _pennine, _solent = world

    answers = availability_for(buyer_in("BN"), [products["brief"]])

    assert answers[products["brief"].pk].status == "direct"


def test_a_restricted_line_is_unavailable_with_its_reason(world):
    products, _pennine, _solent = world

    answers = availability_for(buyer_in("G"), products.values())

    assert answers[products["test"].pk].status == "unavailable"
    assert answers[products["test"].pk].reason == "Not registered for sale in Scotland"
    assert answers[products["catheter"].pk].status == "direct"


def test_a_restriction_outranks_a_distributor_right(world):
    products, _pennine, _solent = world
    restrict(region("north-west"), product=products["catheter"], reason="Withdrawn in the north")

    answer = availability_for(buyer_in("M"), [products["catheter"]])[products["catheter"].pk]

    assert (answer.status, answer.reason) == ("unavailable", "Withdrawn in the north")


def test_a_guest_buys_directly_and_is_told_the_area_is_confirmed_at_checkout(world):
    products, _pennine, _solent = world

    answers = availability_for(buyer_in(""), products.values())

    assert {a.status for a in answers.values()} == {"direct"}
    assert {a.reason for a in answers.values()} == {CONFIRMED_AT_CHECKOUT}


def test_a_distributor_buys_its_own_lines_directly_and_nothing_else(world):
    products, pennine, _solent = world

    answers = availability_for(
        buyer_in("PR", organisation=pennine, distributor_buyer=True), products.values()
    )

    assert answers[products["catheter"].pk].status == "direct"
    assert answers[products["brief"].pk].status == "direct"
    assert answers[products["frame"].pk].status == "unavailable"
    assert answers[products["frame"].pk].reason == (
        "Not covered by your distribution rights in North West.")


def test_a_distributor_outside_its_territory_buys_nothing(world):
    products, pennine, _solent = world

    answers = availability_for(
        buyer_in("SO", organisation=pennine, distributor_buyer=True), products.values()
    )

    assert {a.status for a in answers.values()} == {"unavailable"}


def test_a_non_exclusive_holder_is_refused_a_line_another_holds_exclusively(world):
    products, _pennine, solent = world
    kent = region("south-east")
    grant(solent, kent, product=products["catheter"], exclusive=False)
    mercia = distributor("Mercia Medical Distribution")
    TerritoryRight.objects.create(  # imported in bulk, before validation existed
        distributor=mercia, territory=kent, product=products["catheter"], exclusive=True,
        valid_from=days(-5),
    )

    answer = availability_for(
        buyer_in("SO", organisation=solent, distributor_buyer=True), [products["catheter"]]
    )[products["catheter"].pk]

    assert answer.status == "unavailable"
    assert "Mercia Medical Distribution holds the exclusive right" in answer.reason


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "routed"),
    [
        (-10, 0, True),      # expires today: still honoured today
        (-10, -1, False),    # expired yesterday
        (0, None, True),     # starts today
        (1, None, False),    # starts tomorrow
        (-400, None, True),  # open-ended
    ],
)
def test_rights_are_honoured_on_the_day(valid_from, valid_to, routed):
    product = ProductFactory()
    holder = distributor("Pennine")
    grant(holder, region("london"), product=product, valid_from=days(valid_from),
          valid_to=None if valid_to is None else days(valid_to))

    answer = availability_for(buyer_in("E"), [product])[product.pk]

    assert answer.status == ("via_distributor" if routed else "direct")


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "restricted"),
    [(-10, 0, True), (-10, -1, False), (0, None, True), (1, None, False)],
)
def test_restrictions_are_honoured_on_the_day(valid_from, valid_to, restricted):
    product = ProductFactory()
    restrict(region("wales"), product=product, valid_from=days(valid_from),
             valid_to=None if valid_to is None else days(valid_to))

    answer = availability_for(buyer_in("CF"), [product])[product.pk]

    assert answer.status == ("unavailable" if restricted else "direct")


def test_purchasable_directly_leaves_out_routed_and_restricted_lines(world):
    products, _pennine, _solent = world
    ids = [p.pk for p in products.values()]

    assert purchasable_directly(buyer_in("LS"), ids) == {products["frame"].pk, products["test"].pk}


@pytest.mark.parametrize("distributor_buyer", [False, True])
def test_query_count_does_not_grow_with_the_page(world, distributor_buyer):
    _products, pennine, _solent = world
    categories = list({p.category for p in _products.values()})
    page = [ProductFactory(category=categories[i % len(categories)]) for i in range(100)]
    buyer = buyer_in("LS", organisation=pennine, distributor_buyer=distributor_buyer)

    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            answers = availability_for(buyer, page[:size])
        assert len(answers) == size
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 3, [q["sql"] for q in queries.captured_queries]


def test_visibility_condition_hides_restricted_lines_and_keeps_distributors_to_their_own(world):
    products, pennine, _solent = world
    everything = Product.objects.filter(pk__in=[p.pk for p in products.values()])

    in_glasgow = set(everything.filter(territory_visibility_q(buyer_in("G"))))
    for_pennine = set(everything.filter(territory_visibility_q(
        buyer_in("M", organisation=pennine, distributor_buyer=True))))
    pennine_in_london = set(everything.filter(territory_visibility_q(
        buyer_in("SE", organisation=pennine, distributor_buyer=True))))
    for_a_guest = set(everything.filter(territory_visibility_q(buyer_in(""))))

    assert in_glasgow == set(products.values()) - {products["test"]}
    assert for_pennine == {products["catheter"], products["brief"]}
    assert pennine_in_london == set()
    assert for_a_guest == set(products.values())
