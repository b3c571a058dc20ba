"""A cost centre's budget is checked and committed on every institutional order, whatever the
organisation's approval rules: within budget the amount is committed at placement; over budget
the order waits for a budget holder, or is refused where the organisation has none. Cancelling or
rejecting gives the amount back; concurrent orders never commit more than the budget."""

import datetime
import functools
import html
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Budget, Membership
from ordering.errors import OrderError
from ordering.models import ApprovalRule, ApprovalStep, CartLine, Order, Stock
from ordering.services.approvals import order_approve, order_cancel, order_reject
from ordering.services.carts import cart_add
from ordering.services.checkout import InstitutionalDetails, checkout_institutional, checkout_review
from tests.concurrency import race
from tests.factories import MembershipFactory

from .conftest import build_world


def _no_approval_rules(world):
    ApprovalRule.objects.filter(organisation=world.trust).delete()


def _no_budget_holder(world):
    Membership.objects.filter(organisation=world.trust).update(is_budget_holder=False)


def _order(world, *, who="buyer", quantity=10, po_number="PO-2001"):
    """An order of `quantity` foam dressings at £12.50 ex VAT against cost centre W7210."""
    buyer = world.buyer(who)
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=quantity)
    details = InstitutionalDetails(
        po_number=po_number, cost_centre_id=world.cost_centre.pk,
        requested_delivery_date=datetime.date.today() + datetime.timedelta(days=5),
    )
    return checkout_institutional(buyer=buyer, details=details,
                                  expected_token=checkout_review(buyer=buyer).price_token)


def _committed(world) -> Decimal:
    return Budget.objects.get(pk=world.budget.pk).committed


@pytest.fixture
def northgate(db):
    """A trust with no approval rules and a £100 budget on its cost centre."""
    world = build_world(budget_amount="100.00")
    _no_approval_rules(world)
    return world


def test_an_order_within_budget_commits_its_amount_without_approval_rules(db):
    world = build_world(budget_amount="1000.00")
    _no_approval_rules(world)

    [order] = _order(world)

    assert order.state == "allocated" and order.budget_id == world.budget.pk
    assert _committed(world) == Decimal("125.00")


def test_over_budget_with_no_budget_holder_is_refused_and_nothing_is_written(northgate):
    _no_budget_holder(northgate)
    Budget.objects.filter(pk=northgate.budget.pk).update(committed=Decimal("40.00"))

    with pytest.raises(OrderError) as refused:
        _order(northgate)

    assert refused.value.code == "over_budget"
    assert "W7210" in refused.value.message and "£60.00" in refused.value.message
    assert "£125.00" in refused.value.message
    assert not Order.objects.exists()
    assert _committed(northgate) == Decimal("40.00")
    assert Stock.objects.get(product=northgate.dressing).reserved == 0
    assert CartLine.objects.get().quantity == 10


def test_over_budget_with_a_budget_holder_waits_for_their_approval(northgate):
    [order] = _order(northgate)
    waiting = (order.state, _committed(northgate))

    order_approve(order=order, actor_buyer=northgate.buyer("budget_holder"), comment="Virement")

    assert waiting == ("pending_approval", Decimal("0.00"))
    assert list(ApprovalStep.objects.filter(order=order).values_list("approver_role", flat=True)) \
        == ["budget_holder"]
    order.refresh_from_db()
    assert order.state == "allocated" and order.budget_id == northgate.budget.pk
    assert _committed(northgate) == Decimal("125.00")


def test_the_placer_cannot_be_the_budget_holder_of_their_own_overspend(northgate):
    _no_budget_holder(northgate)
    Membership.objects.filter(user=northgate.user("buyer")).update(is_budget_holder=True)

    with pytest.raises(OrderError) as refused:
        _order(northgate)

    assert refused.value.code == "over_budget"
    assert not Order.objects.exists()


def test_cancelling_an_order_committed_without_approval_gives_the_amount_back(db):
    world = build_world(budget_amount="1000.00")
    _no_approval_rules(world)
    [order] = _order(world)
    Order.objects.filter(pk=order.pk).update(state="submitted")
    committed = _committed(world)

    order_cancel(order=order, actor_buyer=world.buyer("buyer"))

    assert committed == Decimal("125.00")
    assert _committed(world) == Decimal("0.00")


def test_rejecting_an_order_committed_at_placement_gives_the_amount_back(world):
    [order] = _order(world, who="requisitioner")
    committed = _committed(world)

    order_reject(order=order, actor_buyer=world.buyer("approver"), comment="Not this month")

    assert committed == Decimal("125.00")
    assert Order.objects.get(pk=order.pk).state == "rejected"
    assert _committed(world) == Decimal("0.00")


def test_approving_an_order_committed_at_placement_does_not_commit_it_twice(world):
    [order] = _order(world, who="requisitioner")

    order_approve(order=order, actor_buyer=world.buyer("approver"))

    assert Order.objects.get(pk=order.pk).state == "allocated"
    assert _committed(world) == Decimal("125.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_never_commit_more_than_the_budget(requires_postgres):
    world = build_world(budget_amount="1000.00", stock=400)
    _no_approval_rules(world)
    _no_budget_holder(world)
    buyers = [
        MembershipFactory(organisation=world.trust, is_buyer=True,
                          user__email=f"ward{n}@ordering.test").user
        for n in range(12)
    ]
    for n, user in enumerate(buyers):
        world.people[f"ward{n}"] = (user, world.trust)
    outcomes, errors = race([
        functools.partial(lambda n: _order(world, who=f"ward{n}", po_number=f"PO-R{n}")[0].state,
                          n)
        for n in range(len(buyers))
    ])

    assert errors == []
    assert outcomes.count("allocated") == 8 and outcomes.count("over_budget") == 4
    assert _committed(world) == Decimal("1000.00")
    assert Order.objects.count() == 8


def test_the_checkout_page_shows_the_over_budget_refusal(northgate):
    _no_budget_holder(northgate)
    buyer = northgate.buyer("buyer")
    cart_add(buyer=buyer, product_id=northgate.dressing.pk, quantity=10)
    client = Client()
    client.force_login(northgate.user("buyer"))
    when = datetime.date.today() + datetime.timedelta(days=5)

    response = client.post(reverse("checkout_institutional"), {
        "po_number": "PO-PAGE", "cost_centre": northgate.cost_centre.pk,
        "requested_delivery_date": when.isoformat(),
        "token": checkout_review(buyer=buyer).price_token, "place": "1",
    })

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "over the budget of cost centre W7210" in page and "£100.00 is left" in page
    assert not Order.objects.exists() and _committed(northgate) == Decimal("0.00")
