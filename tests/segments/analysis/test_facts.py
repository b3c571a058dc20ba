"""Purchase-history facts against values worked out by hand for a small world: what counts, the
12- and 6-month edges, routed orders, consumers, and what full and incremental refreshes rewrite."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership
from ordering.models import Order
from segments.analysis.facts import months_before, refresh_facts
from segments.models import BuyerCategoryFacts, BuyerFacts
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.factories.analysis_facts import history_order

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def at(year, month, day, hour=12):
    return datetime.datetime(year, month, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def world():
    """A trust (one of its orders routed to a distributor), a clinic that last ordered long ago,
    the distributor (no orders of its own) and a retail consumer, with orders that must not count
    beside those that do."""
    urology = CategoryFactory(name="Urology", slug="urology")
    dressings = ProductFactory(category=CategoryFactory(name="Dressings", slug="dressings"))
    catheter = ProductFactory(
        category=CategoryFactory(name="Catheters", slug="catheters", parent=urology)
    )
    trust = OrganisationFactory(name="Riverside")
    clinic = OrganisationFactory(name="Harbour Physio", kind="private_clinic")
    distributor = OrganisationFactory(name="Pennine", kind="distributor")
    buyer = MembershipFactory(organisation=trust).user
    MembershipFactory(organisation=distributor)
    consumer = UserFactory(email="patient@demo.test")

    def trust_order(when, lines, **extra):
        return history_order(placed_by=buyer, organisation=trust, placed_at=when, lines=lines,
                             **extra)

    trust_order(at(2025, 3, 1), [(dressings, 10, "100.00")])
    trust_order(at(2025, 6, 15), [(dressings, 5, "50.00")])  # exactly 12 months before: outside
    trust_order(at(2025, 9, 15), [(dressings, 5, "80.00"), (catheter, 3, "120.00")],
                state="shipped")
    trust_order(at(2025, 12, 15), [(catheter, 6, "300.00")], state="approved")  # 6-month edge
    routed = trust_order(at(2026, 3, 15), [(catheter, 2, "150.00"), (catheter, 2, "250.00")],
                         state="routed", fulfiller=distributor)
    trust_order(at(2026, 5, 1), [(dressings, 100, "1000.00")], state="cancelled")
    trust_order(at(2026, 5, 10), [(dressings, 50, "500.00")], state="pending_approval")
    trust_order(at(2026, 4, 1), [(dressings, 70, "700.00")], currency="EUR")
    trust_order(at(2026, 6, 20), [(dressings, 99, "999.00")])  # after `now`
    history_order(placed_by=buyer, organisation=clinic, placed_at=at(2024, 1, 10),
                  lines=[(dressings, 12, "120.00")])
    for when, state, net in (
        (at(2026, 4, 1), "submitted", "20.00"),
        (at(2026, 5, 1), "awaiting_payment", "40.00"),
        (at(2026, 6, 1), "delivered", "30.00"),
    ):
        history_order(placed_by=consumer, placed_at=when, state=state,
                      lines=[(dressings, 1, net)])
    return {
        "trust": trust, "clinic": clinic, "distributor": distributor, "consumer": consumer,
        "buyer": buyer, "routed": routed, "dressings": dressings.category,
        "catheters": catheter.category,
    }


def _facts(**buyer):
    return BuyerFacts.objects.get(**buyer)


def test_months_before_keeps_the_time_and_clamps_the_day():
    assert months_before(NOW, 12) == at(2025, 6, 15)
    assert months_before(at(2026, 3, 31), 1) == at(2026, 2, 28)
    assert months_before(at(2026, 1, 10), 6) == at(2025, 7, 10)


def test_an_organisation_s_facts_count_only_purchases_up_to_now(world):
    refresh_facts(full=True, now=NOW)

    trust = _facts(organisation=world["trust"])
    assert (trust.first_order_at, trust.last_order_at) == (at(2025, 3, 1), at(2026, 3, 15))
    assert (trust.orders_total, trust.orders_12m) == (5, 3)
    assert trust.revenue_12m == Decimal("900.00")
    assert trust.revenue_last_6m == Decimal("400.00")
    assert trust.revenue_prior_6m == Decimal("500.00")
    assert trust.trend == pytest.approx(400 / 500 - 1)
    assert trust.average_order_value == Decimal("300.00")
    # gaps 106, 92, 91 and 90 days: the median is the mean of the middle two
    assert trust.cadence_days == pytest.approx(91.5)
    assert trust.margin_12m is None
    assert trust.computed_at == NOW


def test_a_routed_order_counts_for_the_buyer_not_the_distributor(world):
    refresh_facts(full=True, now=NOW)

    distributor = _facts(organisation=world["distributor"])
    assert (distributor.orders_total, distributor.revenue_12m) == (0, Decimal("0.00"))
    assert distributor.first_order_at is distributor.last_order_at is None
    assert distributor.average_order_value is distributor.cadence_days is distributor.trend is None
    assert not BuyerCategoryFacts.objects.filter(facts=distributor).exists()


def test_average_order_value_falls_back_to_lifetime_without_a_recent_order(world):
    refresh_facts(full=True, now=NOW)

    clinic = _facts(organisation=world["clinic"])
    assert (clinic.orders_total, clinic.orders_12m) == (1, 0)
    assert clinic.average_order_value == Decimal("120.00")
    assert clinic.cadence_days is None and clinic.trend is None


def test_a_consumer_s_facts_come_from_their_own_orders_without_an_organisation(world):
    refresh_facts(full=True, now=NOW)

    consumer = _facts(user=world["consumer"])
    assert (consumer.first_order_at, consumer.last_order_at) == (at(2026, 4, 1), at(2026, 6, 1))
    assert (consumer.orders_total, consumer.orders_12m) == (2, 2)
    assert consumer.revenue_12m == consumer.revenue_last_6m == Decimal("50.00")
    assert consumer.revenue_prior_6m == Decimal("0.00") and consumer.trend is None
    assert consumer.average_order_value == Decimal("25.00")
    assert consumer.cadence_days == pytest.approx(61)
    assert not BuyerFacts.objects.filter(user=world["buyer"]).exists()  # buys for the trust


def test_category_facts_per_buyer_and_product_category(world):
    refresh_facts(full=True, now=NOW)

    rows = {
        row.category_id: row
        for row in BuyerCategoryFacts.objects.filter(facts__organisation=world["trust"])
    }
    assert set(rows) == {world["dressings"].pk, world["catheters"].pk}
    dressings, catheters = rows[world["dressings"].pk], rows[world["catheters"].pk]
    assert (dressings.first_bought_at, dressings.last_bought_at) == (
        at(2025, 3, 1), at(2025, 9, 15)
    )
    assert (dressings.orders_total, dressings.orders_12m, dressings.units_12m) == (3, 1, 5)
    assert dressings.revenue_12m == Decimal("80.00")
    assert (catheters.first_bought_at, catheters.last_bought_at) == (
        at(2025, 9, 15), at(2026, 3, 15)
    )
    assert (catheters.orders_total, catheters.orders_12m, catheters.units_12m) == (3, 3, 13)
    assert catheters.revenue_12m == Decimal("820.00")


def test_full_writes_every_buyer_once_and_a_second_run_changes_nothing(world):
    first = refresh_facts(full=True, now=NOW)
    before = list(BuyerFacts.objects.order_by("pk").values())

    second = refresh_facts(full=True, now=NOW)

    expected_organisations = {world[k].pk for k in ("trust", "clinic", "distributor")}
    assert first.organisation_ids == second.organisation_ids == expected_organisations
    assert first.user_ids == {world["consumer"].pk}
    assert first.buyers == second.buyers == BuyerFacts.objects.count() == 4
    assert list(BuyerFacts.objects.order_by("pk").values()) == before


def test_full_removes_the_rows_of_former_buyers(world):
    refresh_facts(full=True, now=NOW)
    world["clinic"].is_active = False
    world["clinic"].save()
    MembershipFactory(user=world["consumer"], organisation=world["distributor"])
    Membership.objects.filter(user=world["buyer"]).update(is_active=False)

    result = refresh_facts(full=True, now=NOW)

    assert result.organisation_ids == {world["trust"].pk, world["distributor"].pk}
    assert result.user_ids == {world["buyer"].pk}  # no organisation any more: a consumer now
    assert not BuyerFacts.objects.filter(organisation=world["clinic"]).exists()
    assert not BuyerFacts.objects.filter(user=world["consumer"]).exists()
    assert not BuyerCategoryFacts.objects.filter(facts__user=world["consumer"]).exists()
    assert _facts(user=world["buyer"]).orders_total == 0


def test_incremental_rewrites_only_changed_buyers_and_those_without_a_row(world):
    Order.objects.filter(placed_at__gt=NOW).delete()
    refresh_facts(full=True, now=NOW)
    later = NOW + datetime.timedelta(days=1)
    newcomer = UserFactory(email="newcomer@demo.test")
    history_order(placed_by=world["consumer"], placed_at=later - datetime.timedelta(hours=1),
                  lines=[(world["routed"].lines.first().product, 1, "15.00")])
    untouched = {f.pk: f.computed_at for f in BuyerFacts.objects.exclude(user=world["consumer"])}

    result = refresh_facts(full=False, now=later)

    assert result.organisation_ids == set()
    assert result.user_ids == {world["consumer"].pk, newcomer.pk}
    assert {f.pk: f.computed_at for f in BuyerFacts.objects.filter(pk__in=untouched)} == untouched
    consumer = _facts(user=world["consumer"])
    assert (consumer.orders_total, consumer.revenue_12m, consumer.computed_at) == (
        3, Decimal("65.00"), later
    )
    assert _facts(user=newcomer).orders_total == 0


def test_incremental_drops_an_order_cancelled_after_it_was_counted(world):
    Order.objects.filter(placed_at__gt=NOW).delete()
    refresh_facts(full=True, now=NOW)
    routed = world["routed"]
    routed.state = "cancelled"
    routed.save()  # a state change touches updated_at

    result = refresh_facts(full=False, now=NOW + datetime.timedelta(hours=1))

    assert result.organisation_ids == {world["trust"].pk} and result.user_ids == set()
    trust = _facts(organisation=world["trust"])
    assert (trust.orders_total, trust.orders_12m, trust.last_order_at) == (4, 2, at(2025, 12, 15))
    assert (trust.revenue_12m, trust.revenue_last_6m) == (Decimal("500.00"), Decimal("0.00"))
    assert trust.trend == pytest.approx(-1.0)
    assert trust.cadence_days == pytest.approx(92)  # gaps 106, 92, 91: the middle one
    catheters = BuyerCategoryFacts.objects.get(
        facts__organisation=world["trust"], category=world["catheters"]
    )
    assert (catheters.orders_total, catheters.units_12m) == (2, 9)


def test_incremental_with_nothing_changed_rewrites_nobody(world):
    Order.objects.filter(placed_at__gt=NOW).delete()
    refresh_facts(full=True, now=NOW)

    result = refresh_facts(full=False, now=NOW + datetime.timedelta(hours=1))

    assert result.written == 0 and result.buyers == 4


def _statements_of_a_full_refresh() -> int:
    with CaptureQueriesContext(connection) as queries:
        refresh_facts(full=True, now=NOW)
    return len(queries)


def test_the_statements_do_not_grow_with_the_buyers(world):
    product = world["routed"].lines.first().product

    def shoppers(first, last):
        for n in range(first, last):
            consumer = UserFactory(email=f"shopper{n}@demo.test")
            history_order(placed_by=consumer, placed_at=at(2026, 1, 1 + n),
                          lines=[(product, 1, "10.00")])

    shoppers(0, 3)
    few = _statements_of_a_full_refresh()
    shoppers(3, 15)

    assert _statements_of_a_full_refresh() == few
    assert BuyerFacts.objects.count() == 4 + 15


def test_a_category_no_counted_order_holds_any_more_loses_its_row(world):
    refresh_facts(full=True, now=NOW)
    Order.objects.filter(placed_by=world["consumer"]).update(state="cancelled", updated_at=NOW)

    refresh_facts(full=False, now=NOW + datetime.timedelta(hours=1))

    consumer = _facts(user=world["consumer"])
    assert (consumer.orders_total, consumer.last_order_at, consumer.cadence_days) == (0, None, None)
    assert not BuyerCategoryFacts.objects.filter(facts=consumer).exists()
    assert BuyerCategoryFacts.objects.filter(facts__organisation=world["trust"]).count() == 2


def test_the_margin_is_revenue_less_cost_over_the_costed_lines_of_the_12_months():
    product = ProductFactory()
    clinic = OrganisationFactory(name="Costed Clinic", kind="private_clinic")
    buyer = MembershipFactory(organisation=clinic).user
    uncosted = OrganisationFactory(name="Uncosted Clinic", kind="private_clinic")
    other = MembershipFactory(organisation=uncosted).user
    # 12 months: 100 - 4 × 15 = 40 and 60 - 2 × 20 = 20; the uncosted line and the order of
    # 13 months ago add nothing; the cancelled one does not count.
    history_order(placed_by=buyer, organisation=clinic, placed_at=at(2026, 1, 10),
                  lines=[(product, 4, "100.00", "15.00"), (product, 1, "70.00")])
    history_order(placed_by=buyer, organisation=clinic, placed_at=at(2026, 5, 1),
                  lines=[(product, 2, "60.00", "20.00")])
    history_order(placed_by=buyer, organisation=clinic, placed_at=at(2025, 5, 1),
                  lines=[(product, 2, "60.00", "1.00")])
    history_order(placed_by=buyer, organisation=clinic, placed_at=at(2026, 5, 2),
                  lines=[(product, 2, "60.00", "1.00")], state="cancelled")
    history_order(placed_by=other, organisation=uncosted, placed_at=at(2026, 5, 1),
                  lines=[(product, 2, "60.00")])

    refresh_facts(full=True, now=NOW)

    assert _facts(organisation=clinic).margin_12m == Decimal("60.00")
    assert _facts(organisation=uncosted).margin_12m is None


def test_an_incremental_refresh_rewrites_the_margin_of_the_changed_buyers():
    product = ProductFactory()
    clinic = OrganisationFactory(name="Costed Clinic", kind="private_clinic")
    buyer = MembershipFactory(organisation=clinic).user
    order = history_order(placed_by=buyer, organisation=clinic, placed_at=at(2026, 5, 1),
                          lines=[(product, 2, "60.00", "20.00")])
    refresh_facts(full=True, now=NOW)
    Order.objects.filter(pk=order.pk).update(state="cancelled", updated_at=NOW)

    refresh_facts(full=False, now=NOW + datetime.timedelta(minutes=1))

    assert _facts(organisation=clinic).margin_12m is None
