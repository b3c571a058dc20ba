"""The order state machine in one table (state, action, who may, next state), and who an actor
is for one order. `ordering.services.transitions.order_transition` is its only user that writes."""

from dataclasses import dataclass

from accounts.permissions import Perm

from .models import OrderState as S


class Actor:
    """The parts a person (or the system) can play for one order."""

    SYSTEM = "system"
    PLACER = "placer"
    APPROVER = "approver"
    BUDGET_HOLDER = "budget_holder"
    ORG_ADMIN = "org_admin"
    FULFILLER = "fulfiller"


class Action:
    APPROVE_STEP = "approve_step"
    APPROVE = "approve"
    REJECT = "reject"
    SUBMIT = "submit"
    ROUTE = "route"
    ACCEPT = "accept"
    DECLINE = "decline"
    ALLOCATE = "allocate"
    BACKORDER = "backorder"
    SHIP = "ship"
    DELIVER = "deliver"
    CANCEL = "cancel"
    ACKNOWLEDGE = "acknowledge"
    PAYMENT_FAIL = "payment_fail"


@dataclass(frozen=True)
class Transition:
    state: str
    action: str
    allowed: frozenset[str]
    next_state: str


def _t(state, action, allowed, next_state) -> Transition:
    return Transition(state, action, frozenset(allowed), next_state)


APPROVERS = (Actor.APPROVER, Actor.BUDGET_HOLDER)
OWNERS = (Actor.PLACER, Actor.ORG_ADMIN)

TRANSITIONS: tuple[Transition, ...] = (
    # A card order waits for its payment with its stock reserved; once paid it is released as an
    # order on account is (submitted, or routed to its distributor); a declined, failed or
    # timed-out payment ends it, its stock given back.
    _t(S.AWAITING_PAYMENT, Action.SUBMIT, [Actor.SYSTEM], S.SUBMITTED),
    _t(S.AWAITING_PAYMENT, Action.ROUTE, [Actor.SYSTEM], S.ROUTED),
    _t(S.AWAITING_PAYMENT, Action.PAYMENT_FAIL, [Actor.SYSTEM], S.PAYMENT_FAILED),
    _t(S.PENDING_APPROVAL, Action.APPROVE_STEP, APPROVERS, S.PENDING_APPROVAL),
    _t(S.PENDING_APPROVAL, Action.APPROVE, APPROVERS, S.APPROVED),
    _t(S.PENDING_APPROVAL, Action.REJECT, APPROVERS, S.REJECTED),
    _t(S.PENDING_APPROVAL, Action.CANCEL, OWNERS, S.CANCELLED),
    _t(S.APPROVED, Action.SUBMIT, [Actor.SYSTEM], S.SUBMITTED),
    _t(S.APPROVED, Action.ROUTE, [Actor.SYSTEM], S.ROUTED),
    _t(S.SUBMITTED, Action.ALLOCATE, [Actor.SYSTEM], S.ALLOCATED),
    _t(S.SUBMITTED, Action.BACKORDER, [Actor.SYSTEM], S.PARTLY_BACKORDERED),
    _t(S.SUBMITTED, Action.CANCEL, OWNERS, S.CANCELLED),
    _t(S.PARTLY_BACKORDERED, Action.ALLOCATE, [Actor.SYSTEM], S.ALLOCATED),
    _t(S.PARTLY_BACKORDERED, Action.CANCEL, OWNERS, S.CANCELLED),
    _t(S.ROUTED, Action.ACCEPT, [Actor.FULFILLER], S.ACCEPTED_BY_DISTRIBUTOR),
    _t(S.ROUTED, Action.DECLINE, [Actor.FULFILLER], S.DECLINED_BY_DISTRIBUTOR),
    _t(S.ROUTED, Action.CANCEL, OWNERS, S.CANCELLED),
    _t(S.ACCEPTED_BY_DISTRIBUTOR, Action.SHIP, [Actor.FULFILLER], S.SHIPPED),
    # Until the goods leave, the placer or an org admin may cancel; stock and budget go back.
    _t(S.ALLOCATED, Action.CANCEL, OWNERS, S.CANCELLED),
    _t(S.ALLOCATED, Action.SHIP, [Actor.SYSTEM], S.SHIPPED),
    _t(S.SHIPPED, Action.DELIVER, [Actor.SYSTEM, Actor.FULFILLER], S.DELIVERED),
    # The fulfilling ERP confirms it holds the order (and gives its own reference); no move.
    _t(S.SUBMITTED, Action.ACKNOWLEDGE, [Actor.SYSTEM], S.SUBMITTED),
    _t(S.ALLOCATED, Action.ACKNOWLEDGE, [Actor.SYSTEM], S.ALLOCATED),
    _t(S.PARTLY_BACKORDERED, Action.ACKNOWLEDGE, [Actor.SYSTEM], S.PARTLY_BACKORDERED),
    _t(S.ACCEPTED_BY_DISTRIBUTOR, Action.ACKNOWLEDGE, [Actor.FULFILLER],
       S.ACCEPTED_BY_DISTRIBUTOR),
)
# Actions a person takes on the order page; the others are the system's or an ERP's.
PAGE_ACTIONS = frozenset({Action.APPROVE, Action.REJECT, Action.CANCEL, Action.ACCEPT,
                          Action.DECLINE})

_BY_STATE_AND_ACTION = {(t.state, t.action): t for t in TRANSITIONS}
ACTIONS = tuple(dict.fromkeys(t.action for t in TRANSITIONS))
# The order after placement: states an order is created in (logged as the "place" action).
INITIAL_STATES = (S.AWAITING_PAYMENT, S.PENDING_APPROVAL, S.SUBMITTED, S.ROUTED)
# States in which the outside world (webhooks, the ERP) has not heard of the order: it was never
# paid. Its payment's confirmation is published as its placement.
UNPUBLISHED_STATES = (S.AWAITING_PAYMENT, S.PAYMENT_FAILED)
PLACE = "place"


def transition_for(state: str, action: str) -> Transition | None:
    return _BY_STATE_AND_ACTION.get((state, action))


def actor_roles(order, buyer) -> frozenset[str]:
    """What `buyer` (None: the system, e.g. a task or the ERP) may act as on `order`, from the
    permissions of their role in their active organisation. The placer is never an approver."""
    if buyer is None:
        return frozenset({Actor.SYSTEM})
    roles = set()
    own_organisation = buyer.organisation_id == order.organisation_id
    placer = own_organisation and (
        order.api_key_id == buyer.api_key_id if buyer.integration
        else buyer.user_id == order.placed_by_id
    )
    if placer and (buyer.can(Perm.PLACE_ORDER) or buyer.can(Perm.RAISE_REQUISITION)):
        roles.add(Actor.PLACER)
    if own_organisation and buyer.organisation_id is not None:
        if buyer.can(Perm.APPROVE_ORDER) and not placer:
            roles.add(Actor.APPROVER)
        if buyer.can(Perm.APPROVE_OVER_BUDGET) and not placer:
            roles.add(Actor.BUDGET_HOLDER)
        if buyer.can(Perm.MANAGE_ORGANISATION):
            roles.add(Actor.ORG_ADMIN)
    if (
        order.fulfiller_id is not None
        and buyer.organisation_id == order.fulfiller_id
        and buyer.can(Perm.PLACE_ORDER)
    ):
        roles.add(Actor.FULFILLER)
    return frozenset(roles)


def allowed_actions(order, buyer) -> tuple[str, ...]:
    """Actions `buyer` may take on `order` now (for the buttons on the order page)."""
    roles = actor_roles(order, buyer)
    return tuple(
        t.action for t in TRANSITIONS
        if t.state == order.state and t.allowed & roles and t.action in PAGE_ACTIONS
    )
