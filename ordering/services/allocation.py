"""Stock arrivals and their allocation to backordered lines by a policy, each allocation with
its reason. Orders whose every line is then filled move to "allocated"."""

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import Organisation
from segments.service_levels import service_levels_of_consumers, service_levels_of_organisations

from ..allocation import Backorder, allocation_plan
from ..errors import OrderError
from ..models import Allocation, Order, OrderLine, OrderState, PaymentMethod, Stock
from ..notifications import notify
from ..rules import Action
from .checkout import OPEN_STATES
from .stock import stock_under_recall
from .transitions import apply_transition

BACKORDER_STATES = (OrderState.SUBMITTED, OrderState.PARTLY_BACKORDERED)
# SQLite allows 32,766 parameters per statement; PostgreSQL's IN lists stay quick at this size.
IDS_PER_UPDATE = 5000


def default_policy() -> str:
    return getattr(settings, "ORDERING_ALLOCATION_POLICY", "requested_date")


@transaction.atomic
def stock_receive(*, product_id: int, quantity: int) -> Stock:
    """Book arriving units onto the product's stock (created when it has none)."""
    if quantity < 1:
        raise OrderError("bad_quantity", "Receive at least one unit.")
    stock, _ = Stock.objects.select_for_update().get_or_create(product_id=product_id)
    Stock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + quantity)
    stock.refresh_from_db()
    return stock


def _over_credit(organisation_ids) -> set[int]:
    exposure = dict(
        Order.objects.filter(
            organisation_id__in=organisation_ids, state__in=OPEN_STATES,
            payment_method=PaymentMethod.ACCOUNT,
        ).values_list("organisation_id").annotate(total=Sum("total_gross")).order_by()
    )
    limits = dict(Organisation.objects.filter(pk__in=organisation_ids)
                  .values_list("pk", "credit_limit"))
    return {oid for oid, total in exposure.items() if total > limits.get(oid, Decimal("0"))}


def _service_tiers(lines) -> dict[int, str]:
    """Each line's account's service tier today (two queries), by line id."""
    organisations = service_levels_of_organisations(
        {line.order.organisation_id for line in lines} - {None}
    )
    consumers = service_levels_of_consumers(
        {line.order.placed_by_id for line in lines if line.order.organisation_id is None}
    )
    return {
        line.pk: (organisations.get(line.order.organisation_id)
                  if line.order.organisation_id else consumers.get(line.order.placed_by_id)).tier
        for line in lines
    }


@transaction.atomic
def allocation_run(*, product_id: int, policy: str | None = None) -> list[Allocation]:
    """Give the product's free stock to its backordered lines by `policy` (never to a line held
    by a recall)."""
    policy = policy or default_policy()
    stock = Stock.objects.select_for_update().filter(product_id=product_id).first()
    if stock is None or stock.available <= 0 or stock_under_recall(product_id):
        return []
    lines = list(
        OrderLine.objects.select_for_update(of=("self",))
        .filter(product_id=product_id, backordered_quantity__gt=0,
                order__state__in=BACKORDER_STATES, held_at__isnull=True)
        .select_related("order", "product").order_by("pk")
    )
    if not lines:
        return []
    over = _over_credit({line.order.organisation_id for line in lines} - {None})
    service = _service_tiers(lines)
    backorders = [
        Backorder(
            line_id=line.pk, backordered=line.backordered_quantity, placed_at=line.order.placed_at,
            requested_date=line.order.requested_delivery_date, tier=line.order.customer_tier,
            over_credit_limit=line.order.organisation_id in over,
            service_tier=service.get(line.pk, ""),
        )
        for line in lines
    ]
    grants = allocation_plan(policy, stock.available, backorders,
                             pack_size=lines[0].product.pack_size)
    by_id = {line.pk: line for line in lines}
    changed = []
    for grant in grants:
        line = by_id[grant.line_id]
        line.allocated_quantity += grant.quantity
        line.backordered_quantity -= grant.quantity
        changed.append(line)
    _book_grants(grants)
    given = sum(grant.quantity for grant in grants)
    Stock.objects.filter(pk=stock.pk).update(reserved=F("reserved") + given)
    allocations = Allocation.objects.bulk_create(
        Allocation(line_id=g.line_id, quantity=g.quantity, policy=policy, reason=g.reason[:250])
        for g in grants
    )
    _complete_filled_orders({line.order_id for line in changed})
    return allocations


def _book_grants(grants) -> None:
    """Move the granted units from backordered to allocated on their (locked) lines: one UPDATE
    per distinct grant size, with F() expressions. A `bulk_update` of thousands of lines builds a
    CASE branch per line and field, which costs quadratic time (15 s for 10,000 lines on
    PostgreSQL, see docs/performance.md); grant sizes are few (whole backorders, whole packs)."""
    by_size = defaultdict(list)
    for grant in grants:
        by_size[grant.quantity].append(grant.line_id)
    for quantity, line_ids in sorted(by_size.items()):
        for start in range(0, len(line_ids), IDS_PER_UPDATE):
            OrderLine.objects.filter(pk__in=line_ids[start:start + IDS_PER_UPDATE]).update(
                allocated_quantity=F("allocated_quantity") + quantity,
                backordered_quantity=F("backordered_quantity") - quantity,
            )


def _complete_filled_orders(order_ids) -> None:
    still_short = set(
        OrderLine.objects.filter(order_id__in=order_ids, backordered_quantity__gt=0)
        .values_list("order_id", flat=True)
    )
    # A partly filled order changes its lines, not its state: its `updated_at` says so.
    Order.objects.filter(pk__in=set(order_ids) & still_short).update(updated_at=timezone.now())
    for order in Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk"):
        if order.pk not in still_short:
            apply_transition(order=order, action=Action.ALLOCATE, actor_buyer=None,
                             comment="Backorder filled from arriving stock")
        notify(order.pk, "backorder_allocated")
