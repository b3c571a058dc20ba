"""A recalled product's open lines are never approved, allocated or bought again. Orders waiting
for approval are placed through the pages of a generated world; then each of their products is
recalled, and the organisation's approver (with limit enough) tries to approve through the page,
an allocation run is asked for the product, and the placer tries to cart it again. Each refused
attempt leaves the order and its lines exactly as they were."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import given

from accounts.models import Budget
from catalog.models import RecallKind
from ordering.models import ApprovalRule, CartLine, Order, OrderLine
from ordering.services.allocation import allocation_run
from ordering.services.recalls import recall_raise
from tests.factories import MembershipFactory, UserFactory

from .conftest import examples
from .probing import login
from .test_probes_transitions import _orders_of, _snapshot
from .world import Person, build, worlds

pytestmark = pytest.mark.django_db

ORG_KEYS = ("trust0", "trust1", "clinic")


def _lines(order: Order) -> list[tuple]:
    return list(OrderLine.objects.filter(order=order).order_by("pk").values_list(
        "product_id", "allocated_quantity", "recall_id"))


def _every_order_needs_approval(world, org_key: str) -> Person:
    """An approval rule from £0 and a budget large enough; the approver who may approve it all."""
    organisation = world.organisations[org_key]
    ApprovalRule.objects.create(organisation=organisation, name="Every order",
                                min_total=Decimal("0.00"), approver_role="approver")
    Budget.objects.filter(cost_centre=world.cost_centres[org_key]).update(
        amount=Decimal("1000000.00"))
    membership = MembershipFactory(
        organisation=organisation, is_approver=True, approval_limit=Decimal("100000.00"),
        user__email=f"{org_key}.recall-approver.{world.spec.tag}@guarantees.test",
    )
    return Person(f"{org_key}.recall-approver", membership.user, org_key, ("approver",))


def _recall(product, staff, tag: str) -> None:
    recall_raise(product=product, kind=RecallKind.RECALL, reason="Seal may be breached",
                 reference=f"FSN-{tag}-{product.pk}", effective_date=datetime.date.today(),
                 raised_by=staff)


@examples(ci=2, thorough=20)
@given(spec=worlds())
def test_a_recalled_line_is_never_approved_allocated_or_carted_again(spec, client, tally):
    problems = []
    with transaction.atomic():
        world = build(spec)
        staff = UserFactory(email=f"recalls.{spec.tag}@guarantees.test", is_staff=True,
                            is_superuser=True)
        approvers = {k: _every_order_needs_approval(world, k) for k in ORG_KEYS}
        placers = {k: world.person(f"{k}.buyer") for k in ORG_KEYS}
        orders = [o for k in ORG_KEYS for o in _orders_of(world, client, placers[k], tally)
                  if o.state == "pending_approval"]
        recalled = set()
        for order in orders:
            for line in order.lines.select_related("product"):
                if line.product_id not in recalled:
                    _recall(line.product, staff, spec.tag)
                    recalled.add(line.product_id)
        for order in orders:
            org_key = next(k for k in ORG_KEYS
                           if world.organisations[k].pk == order.organisation_id)
            before = (_snapshot(order), _lines(order))
            problems += tally.probe("transition", [
                f"{order.number}: a held line still holds {units} units"
                for _product, units, recall in before[1] if units or recall is None])
            login(client, approvers[org_key])
            client.post(reverse("order_action", args=[order.number, "approve"]),
                        {"comment": "probe"})
            for product_id in {p for p, _units, _recall in before[1]}:
                allocation_run(product_id=product_id)
            after = (_snapshot(order), _lines(order))
            problems += tally.probe("transition", [] if after == before else [
                f"{order.number} of {org_key} moved although its lines are recalled: "
                f"{before} to {after}"])
            placer = placers[org_key]
            login(client, placer)
            for product_id in {p for p, _units, _recall in before[1]}:
                client.post(reverse("cart_add"), {"product": product_id, "quantity": 1})
                carted = CartLine.objects.filter(cart__user=placer.user,
                                                 product_id=product_id).exists()
                problems += tally.probe("invisible", [] if not carted else [
                    f"{placer.key} carted recalled product {product_id}"])
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)
