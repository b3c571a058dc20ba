"""Every action attempted by every role in every state: only the rows of the transition table
succeed, and a refused attempt changes nothing."""

import pytest

from ordering.errors import OrderError
from ordering.models import Order, OrderEvent, OrderState
from ordering.rules import ACTIONS
from ordering.services.transitions import order_transition

from .builders import make_order

ACTORS = ("requisitioner", "buyer", "approver", "budget_holder", "org_admin", "distributor",
          "system")
# Written from the issue, not from ordering/rules.py: who may do what, in which state.
OWNERS = {"requisitioner", "org_admin"}
APPROVERS = {"approver", "budget_holder"}
EXPECTED = {
    ("pending_approval", "approve_step"): APPROVERS,
    ("pending_approval", "approve"): APPROVERS,
    ("pending_approval", "reject"): APPROVERS,
    ("pending_approval", "cancel"): OWNERS,
    ("approved", "submit"): {"system"},
    ("approved", "route"): {"system"},
    ("submitted", "allocate"): {"system"},
    ("submitted", "backorder"): {"system"},
    ("submitted", "cancel"): OWNERS,
    ("partly_backordered", "allocate"): {"system"},
    ("partly_backordered", "cancel"): OWNERS,
    ("routed", "accept"): {"distributor"},
    ("routed", "decline"): {"distributor"},
    ("routed", "cancel"): OWNERS,
    ("accepted_by_distributor", "ship"): {"distributor"},
    ("allocated", "ship"): {"system"},
    ("allocated", "cancel"): OWNERS,
    ("shipped", "deliver"): {"system", "distributor"},
    ("submitted", "acknowledge"): {"system"},
    ("allocated", "acknowledge"): {"system"},
    ("partly_backordered", "acknowledge"): {"system"},
    ("accepted_by_distributor", "acknowledge"): {"distributor"},
    ("awaiting_payment", "submit"): {"system"},
    ("awaiting_payment", "route"): {"system"},
    ("awaiting_payment", "payment_fail"): {"system"},
}
NEXT = {
    "approve_step": "pending_approval", "approve": "approved", "reject": "rejected",
    "cancel": "cancelled", "submit": "submitted", "route": "routed", "allocate": "allocated",
    "backorder": "partly_backordered", "accept": "accepted_by_distributor",
    "decline": "declined_by_distributor", "ship": "shipped", "deliver": "delivered",
    "payment_fail": "payment_failed",
}
STAYS = {"approve_step", "acknowledge"}


def _actor(world, key):
    return None if key == "system" else world.buyer(key)


@pytest.mark.parametrize("state", OrderState.values)
def test_only_the_table_allows_an_action(world, state):
    order = make_order(world, state, fulfiller=world.distributor)
    for action in ACTIONS:
        allowed = EXPECTED.get((state, action), set())
        for key in ACTORS:
            events_before = OrderEvent.objects.count()

            if key in allowed:
                order_transition(order=order, action=action, actor_buyer=_actor(world, key))
                order.refresh_from_db()
                after = state if action in STAYS else NEXT[action]
                assert order.state == after, (key, state, action)
                event = OrderEvent.objects.latest("id")
                assert (event.from_state, event.to_state, event.action) == (state, after, action)
                assert event.actor_id == (None if key == "system" else world.user(key).pk)
                order = make_order(world, state, fulfiller=world.distributor)
            else:
                with pytest.raises(OrderError) as refused:
                    order_transition(order=order, action=action, actor_buyer=_actor(world, key))
                assert refused.value.code in {"not_allowed", "forbidden"}, (key, state, action)
                assert Order.objects.get(pk=order.pk).state == state
                assert OrderEvent.objects.count() == events_before


def test_the_placer_never_approves_their_own_order_even_as_an_approver(world):
    order = make_order(world, "pending_approval", placed_by="approver")

    with pytest.raises(OrderError) as refused:
        order_transition(order=order, action="approve", actor_buyer=world.buyer("approver"))

    assert refused.value.code == "forbidden"
    assert Order.objects.get(pk=order.pk).state == "pending_approval"


def test_another_organisations_approver_cannot_approve(world):
    from decimal import Decimal

    from tests.factories import MembershipFactory

    outsider = MembershipFactory(is_buyer=False, is_approver=True,
                                 approval_limit=Decimal("99999.00"))
    order = make_order(world, "pending_approval")

    with pytest.raises(OrderError):
        order_transition(order=order, action="approve",
                         actor_buyer=world.buyer("approver").__class__(
                             user=outsider.user, user_id=outsider.user_id,
                             organisation_id=outsider.organisation_id,
                             permissions=frozenset({"approve_order"}),
                         ))

    assert Order.objects.get(pk=order.pk).state == "pending_approval"
