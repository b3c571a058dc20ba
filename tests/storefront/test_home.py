"""The front page: panels by role, blocks by segment, a landing page for visitors, and a query
count that does not grow with the number of orders or blocks."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from merchandising.models import BlockImpression, BlockKind
from ordering.models import Order, OrderLine, PaymentMethod
from pricing.models import Quote, QuoteStatus
from segments.versioning import bump_rules_version
from tests.factories import UserFactory
from tests.factories.merchandising import make_block
from tests.ordering.builders import make_order
from tests.ordering.conftest import build_world

HOME = "/"


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def home_of(client, world):
    def page(persona: str) -> str:
        client.force_login(world.user(persona))
        response = client.get(HOME)
        assert response.status_code == 200
        return response.content.decode()

    return page


def _consumer_order(world, patient) -> Order:
    order = Order.objects.create(
        number=f"R-{Order.objects.count() + 1:06d}", workflow="retail", state="submitted",
        placed_by=patient, currency="GBP", total_net=Decimal("50.00"),
        total_vat=Decimal("10.00"), total_gross=Decimal("60.00"),
        payment_method=PaymentMethod.CARD,
    )
    OrderLine.objects.create(
        order=order, product=world.frame, quantity=1, unit_price=Decimal("50.00"),
        vat_rate=Decimal("0.20"), price_source="retail", line_net=Decimal("50.00"),
        line_vat=Decimal("10.00"), line_gross=Decimal("60.00"),
    )
    return order


def test_an_approver_sees_how_many_orders_wait_for_them_and_a_requisitioner_does_not(
    world, home_of
):
    make_order(world, "pending_approval", placed_by="requisitioner", total="400.00")
    make_order(world, "pending_approval", placed_by="requisitioner", total="300.00")
    make_order(world, "pending_approval", placed_by="requisitioner", total="9000.00")

    approver = home_of("approver")
    assert 'data-panel="approvals"' in approver
    assert 'data-count="2"' in approver
    assert reverse("approvals") in approver
    assert 'data-panel="approvals"' not in home_of("requisitioner")


def test_a_budget_holder_sees_what_is_left_of_the_budgets_and_an_approver_does_not(
    world, home_of
):
    world.budget.committed = Decimal("1500.00")
    world.budget.save()

    page = home_of("budget_holder")
    assert 'data-cost-centre="W7210"' in page
    assert "£18,500.00" in page
    assert 'data-panel="budgets"' not in home_of("approver")


def test_a_distributor_sees_the_orders_routed_to_it_waiting_for_an_answer(world, home_of):
    make_order(world, "routed", fulfiller=world.distributor, steps=())
    make_order(world, "accepted_by_distributor", fulfiller=world.distributor, steps=())

    page = home_of("distributor")
    assert 'data-panel="routed"' in page
    assert 'data-count="1"' in page
    assert 'data-panel="routed"' not in home_of("buyer")


def test_a_consumer_sees_their_own_orders_with_order_again(world, home_of):
    patient = world.user("patient")
    mine = _consumer_order(world, patient)
    theirs = _consumer_order(world, UserFactory())
    trust_order = make_order(world, "submitted")

    page = home_of("patient")
    assert f'data-order="{mine.number}"' in page
    assert reverse("order_reorder", args=[mine.number]) in page
    assert theirs.number not in page
    assert trust_order.number not in page
    assert 'data-panel="approvals"' not in page and 'data-panel="budgets"' not in page


def test_recent_orders_offer_order_again_only_to_who_may_order(world, home_of):
    order = make_order(world, "submitted", placed_by="requisitioner")

    assert reverse("order_reorder", args=[order.number]) in home_of("requisitioner")
    approver = home_of("approver")
    assert f'data-order="{order.number}"' in approver
    assert reverse("order_reorder", args=[order.number]) not in approver


def test_backorders_arriving_show_their_expected_date(world, home_of):
    expected = timezone.localdate() + datetime.timedelta(days=9)
    make_order(world, "partly_backordered", placed_by="requisitioner", allocated=5,
               backordered=3, expected_delivery_date=expected)

    page = home_of("requisitioner")
    assert 'data-panel="backorders"' in page
    assert f"expected {expected:%-d %b %Y}" in page


def test_answered_quotes_and_the_account_manager_show_to_members_only(world, home_of):
    manager = UserFactory(full_name="Alex Manager", email="alex.manager@demo.test",
                          is_staff=True)
    world.trust.account_manager = manager
    world.trust.save()
    Quote.objects.create(organisation=world.trust, number="Q-1", status=QuoteStatus.ANSWERED,
                         expires_on=timezone.localdate() + datetime.timedelta(days=10))

    page = home_of("buyer")
    assert "Alex Manager" in page and "mailto:alex.manager@demo.test" in page
    assert 'data-panel="quotes"' in page
    patient = home_of("patient")
    assert "Alex Manager" not in patient and 'data-panel="quotes"' not in patient


def test_blocks_shown_are_noted_once_per_buyer_and_day(client, world):
    first, second = make_block(title="One"), make_block(title="Two")
    client.force_login(world.user("buyer"))

    client.get(HOME)
    client.get(HOME)

    rows = BlockImpression.objects.filter(user=world.user("buyer"))
    assert sorted(rows.values_list("block_id", flat=True)) == [first.pk, second.pk]
    assert {row.organisation_id for row in rows} == {world.trust.pk}


def test_a_repeat_view_the_same_day_writes_no_impression_again(
    client, world, django_capture_on_commit_callbacks
):
    make_block(title="One")
    client.force_login(world.user("buyer"))
    with django_capture_on_commit_callbacks(execute=True):
        client.get(HOME)

    with CaptureQueriesContext(connection) as queries:
        client.get(HOME)

    assert not [q for q in queries.captured_queries if "blockimpression" in q["sql"]]
    assert BlockImpression.objects.count() == 1


def _count(client, *, cold=False) -> int:
    client.get(HOME)  # warms the resolver and the block composition
    if cold:
        bump_rules_version()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["approver", "budget_holder", "distributor", "patient"])
def test_the_home_page_costs_the_same_queries_for_1_or_10_orders_and_1_or_8_blocks(
    client, world, persona
):
    client.force_login(world.user(persona))
    counts = []
    for orders, blocks in ((1, 1), (10, 8)):
        while Order.objects.count() < orders:
            make_order(world, "pending_approval", placed_by="requisitioner", total="100.00")
            make_order(world, "routed", fulfiller=world.distributor, steps=())
            _consumer_order(world, world.user("patient"))
        while _blocks() < blocks:
            kind = BlockKind.FEATURED_PRODUCTS if _blocks() % 2 else BlockKind.MESSAGE
            make_block(kind=kind, products=[world.dressing, world.frame] if kind != "message"
                       else [])
        counts.append(_count(client))

    assert counts[0] == counts[1] <= 10, counts


@pytest.mark.parametrize("persona", ["approver", "patient"])
def test_a_cold_home_page_also_costs_the_same_queries_for_1_or_8_featured_blocks(
    client, world, persona
):
    """Right after a rules change nothing is cached: the buyer's context and the blocks are
    composed again, still in a number of queries that does not grow with the blocks."""
    client.force_login(world.user(persona))
    counts = []
    for blocks in (1, 8):
        while _blocks() < blocks:
            make_block(kind=BlockKind.FEATURED_PRODUCTS, products=[world.dressing, world.frame])
        counts.append(_count(client, cold=True))

    assert counts[0] == counts[1], counts


def _blocks() -> int:
    from merchandising.models import ContentBlock

    return ContentBlock.objects.count()
