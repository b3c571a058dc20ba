"""Reads of ordering, always scoped to the buyer: their carts, the orders they may see, the
approval queue, routed orders of a distributor and their requisition lists."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.permissions import Perm
from accounts.selectors import managed_organisation_ids
from catalog.models import ProductKind, Recall
from catalog.selectors import offered_but_off_sale, visible_products
from pricing.engine import prices_for
from pricing.models import Contract
from segments.resolver import BuyerContext
from segments.service_levels import service_level_for

from .models import (
    ApprovalStep,
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    RequisitionList,
    RequisitionListLine,
    Shipment,
    ShipmentLot,
    StepStatus,
    WebhookDelivery,
    WebhookEndpoint,
)


def _line_prefetch() -> Prefetch:
    return Prefetch(
        "lines", queryset=OrderLine.objects.select_related("product", "site").order_by("id")
    )


def orders_for(buyer: BuyerContext) -> QuerySet[Order]:
    """Orders this buyer may see: a consumer their own; in an organisation, requisitioners and
    buyers their own, approvers, budget holders and org admins all of the organisation's. An
    integration key's own are those placed through it."""
    if buyer.user_id is None:
        return Order.objects.none()
    if buyer.organisation_id is None:
        return Order.objects.filter(organisation__isnull=True, placed_by_id=buyer.user_id)
    orders = Order.objects.filter(organisation_id=buyer.organisation_id)
    if buyer.can(Perm.VIEW_ALL_ORDERS):
        return orders
    if buyer.integration:
        return orders.filter(api_key_id=buyer.api_key_id)
    return orders.filter(placed_by_id=buyer.user_id)


def order_list(buyer: BuyerContext) -> QuerySet[Order]:
    return orders_for(buyer).select_related("placed_by", "fulfiller", "cost_centre")


def order_for(buyer: BuyerContext, number: str) -> Order:
    """The order behind a detail page, or 404 when it is not one this buyer may see."""
    order = (
        orders_for(buyer)
        .select_related("placed_by", "api_key", "fulfiller", "cost_centre", "site", "contract",
                        "budget")
        .prefetch_related(
            _line_prefetch(),
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
            Prefetch("approvals", queryset=ApprovalStep.objects.select_related(
                "decided_by", "escalated_to")),
            Prefetch("shipments", queryset=Shipment.objects.prefetch_related(
                Prefetch("lots", queryset=ShipmentLot.objects.select_related("product")))),
        )
        .filter(number=number)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return order


def approval_queue(buyer: BuyerContext) -> QuerySet[Order]:
    """Orders of the buyer's organisation waiting for an approval this buyer may give: not their
    own, at a step of their role, and (for approvers) within their limit or escalated to them."""
    if buyer.organisation_id is None:
        return Order.objects.none()
    roles = []
    if buyer.can(Perm.APPROVE_ORDER):
        within = Q(order__total_net__lte=buyer.approval_limit or 0) | Q(
            escalated_to_id=buyer.user_id
        )
        roles.append(Q(approver_role="approver") & within)
    if buyer.can(Perm.APPROVE_OVER_BUDGET):
        roles.append(Q(approver_role="budget_holder"))
    if not roles:
        return Order.objects.none()
    role_q = roles[0] if len(roles) == 1 else roles[0] | roles[1]
    first_pending = ApprovalStep.objects.filter(
        order_id=OuterRef("order_id"), status=StepStatus.PENDING
    ).order_by("position").values("position")[:1]
    waiting = ApprovalStep.objects.filter(
        role_q, order_id=OuterRef("pk"), status=StepStatus.PENDING, position=first_pending
    )
    return (
        Order.objects.filter(
            Exists(waiting), organisation_id=buyer.organisation_id,
            state=OrderState.PENDING_APPROVAL,
        )
        .exclude(placed_by_id=buyer.user_id)
        .select_related("placed_by", "cost_centre")
        .order_by("placed_at", "id")
    )


# What the distributor of a routed order sees of its prices. The buyer's price of a line is the
# distributor's to see only where the contract that priced the line names the distributor as an
# authorised fulfiller (it invoices at the contract price); otherwise the distributor sees its own
# price for the product, stored on the line when the order was placed. Routed surfaces (pages, CSV,
# API, email, webhook payloads, the admin of staff who see the order only through the distributor)
# read the `routed_*` annotations below and never the buyer's fields.

PRICE_BASIS_CONTRACT = "contract"
PRICE_BASIS_DISTRIBUTOR = "distributor"
_UNIT = DecimalField(max_digits=12, decimal_places=4)
_NET = DecimalField(max_digits=14, decimal_places=2)


def buyer_price_shared(line_ref: str = "") -> Exists:
    """True where the contract that priced the line names the order's fulfiller. `line_ref` is the
    path from the queried model to the line ("" when querying lines)."""
    return Exists(Contract.authorised_fulfillers.through.objects.filter(
        contract_id=OuterRef(f"{line_ref}contract_id"),
        organisation_id=OuterRef(f"{line_ref}order__fulfiller_id"),
    ))


def _routed_net(shared) -> Case:
    return Case(When(shared, then=F("line_net")), default=F("fulfiller_line_net"),
                output_field=_NET)


def routed_lines() -> QuerySet[OrderLine]:
    """Lines with the price their order's distributor sees: `routed_unit_price`,
    `routed_line_net`, `routed_price_explanation` and `price_basis` (contract, distributor, or ""
    when the distributor has no price for the product)."""
    shared = buyer_price_shared()
    return OrderLine.objects.annotate(
        routed_unit_price=Case(When(shared, then=F("unit_price")),
                               default=F("fulfiller_unit_price"), output_field=_UNIT),
        routed_line_net=_routed_net(shared),
        routed_price_explanation=Case(
            When(shared, then=F("price_explanation")),
            default=F("fulfiller_price_explanation"), output_field=CharField(),
        ),
        price_basis=Case(
            When(shared, then=Value(PRICE_BASIS_CONTRACT)),
            When(fulfiller_unit_price__isnull=False, then=Value(PRICE_BASIS_DISTRIBUTOR)),
            default=Value(""), output_field=CharField(),
        ),
    )


def routed_total() -> Subquery:
    """Per order, the sum of its lines at the prices its distributor sees (an annotation)."""
    shared = buyer_price_shared()
    lines = (
        OrderLine.objects.filter(order_id=OuterRef("pk")).order_by().values("order_id")
        .annotate(total=Sum(_routed_net(shared))).values("total")
    )
    return Subquery(lines, output_field=_NET)


def with_routed_total(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.annotate(routed_total_net=Coalesce(routed_total(), Decimal("0.00"),
                                                     output_field=_NET))


def routed_line_prefetch() -> Prefetch:
    return Prefetch(
        "lines", queryset=routed_lines().select_related("product", "site")
        .prefetch_related("lots").order_by("id"),
    )


def routed_orders_for(buyer: BuyerContext) -> QuerySet[Order]:
    """Orders routed to the buyer's distributor organisation (its "Routed orders" portal), each
    with `routed_total_net`: its total at the prices the distributor sees."""
    if buyer.organisation_id is None or not buyer.can(Perm.PLACE_ORDER):
        return Order.objects.none()
    return with_routed_total(
        Order.objects.filter(fulfiller_id=buyer.organisation_id)
        .exclude(state__in=[OrderState.PENDING_APPROVAL, OrderState.APPROVED, OrderState.REJECTED,
                            OrderState.AWAITING_PAYMENT, OrderState.PAYMENT_FAILED])
        .select_related("organisation", "placed_by", "site")
    )


def routed_order_for(buyer: BuyerContext, number: str) -> Order:
    order = (
        routed_orders_for(buyer).prefetch_related(routed_line_prefetch())
        .filter(number=number).first()
    )
    if order is None:
        raise Http404("No such routed order.")
    return order


def routed_export_lines(buyer: BuyerContext) -> QuerySet[OrderLine]:
    """Every line of the orders routed to the buyer's distributor, at the prices it sees."""
    return (
        routed_lines().filter(order__in=routed_orders_for(buyer).values("pk"))
        .select_related("order__organisation", "product", "site")
        .order_by("-order__placed_at", "order_id", "id")
    )


def with_routed_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Routed `orders` as their distributor reads them through the API: lines at its prices,
    lots, shipments and log — not the buyer's approvals."""
    return with_routed_total(orders).select_related(
        "placed_by", "organisation", "fulfiller", "cost_centre"
    ).prefetch_related(
        routed_line_prefetch(), "shipments",
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
    )


def routed_order_total(order: Order) -> Decimal:
    """One order's total at the prices its distributor sees (for its email and webhook events)."""
    return with_routed_total(Order.objects.filter(pk=order.pk)).values_list(
        "routed_total_net", flat=True).get()


def lines_by_order(orders) -> dict[int, list]:
    grouped = defaultdict(list)
    for line in OrderLine.objects.filter(order__in=orders).select_related("product"):
        grouped[line.order_id].append(line)
    return grouped


# The API's reads: whole orders in a fixed number of queries, the fulfilment queue of the
# manufacturer's ERP, open backorders, and the recipients of a lot.

FULFILMENT_STATES = (
    OrderState.SUBMITTED, OrderState.ALLOCATED, OrderState.PARTLY_BACKORDERED,
    OrderState.SHIPPED, OrderState.DELIVERED, OrderState.CANCELLED,
)


def with_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    """`orders` with their lines (and lots), shipments, approvals and log, in six queries."""
    return orders.select_related(
        "placed_by", "api_key", "organisation", "fulfiller", "cost_centre"
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.select_related("product", "site", "recall")
            .prefetch_related("lots").order_by("id"),
        ),
        "shipments",
        Prefetch("approvals", queryset=ApprovalStep.objects.order_by("position")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
    )


def with_summary(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("placed_by", "api_key", "organisation", "fulfiller",
                                 "cost_centre")


def fulfilment_orders(staff_user) -> QuerySet[Order]:
    """Direct orders the manufacturer's ERP fulfils: submitted (past any approval) and on — all
    of them on a superuser's authority, an account manager's organisations' on theirs."""
    orders = Order.objects.filter(fulfiller__isnull=True, state__in=FULFILMENT_STATES)
    scope = managed_organisation_ids(staff_user)
    return orders if scope is None else orders.filter(organisation_id__in=scope)


def backorders_for(buyer: BuyerContext) -> QuerySet[OrderLine]:
    """Lines of the buyer's visible, open orders still waiting for stock."""
    return (
        OrderLine.objects.filter(
            order__in=orders_for(buyer).exclude(state=OrderState.CANCELLED),
            backordered_quantity__gt=0,
        )
        .select_related("order", "product")
    )


def lot_recipients(*, sku: str, lot_number: str) -> QuerySet[ShipmentLot]:
    """Every shipment of a lot, with the order, organisation and site it went to (a recall)."""
    return (
        ShipmentLot.objects.filter(product__sku=sku, lot_number=lot_number)
        .select_related("shipment", "order_line__site", "shipment__order__organisation",
                        "shipment__order__site", "product")
        .order_by("shipment__shipped_at", "id")
    )


def may_order(buyer: BuyerContext) -> bool:
    """May this buyer fill a cart to order from: place orders, or raise requisitions for
    approval (a retail consumer orders for themselves)."""
    return buyer.user_id is not None and (
        buyer.can(Perm.PLACE_ORDER) or buyer.can(Perm.RAISE_REQUISITION)
    )


def requisition_lists_for(buyer: BuyerContext) -> QuerySet[RequisitionList]:
    """Requisition lists this buyer may see and use: their own for the active organisation (a
    consumer's: their own without one) and the shared lists of colleagues in the same
    organisation. A consumer's list is never anyone else's to see, shared or not."""
    if buyer.user_id is None:
        return RequisitionList.objects.none()
    if buyer.organisation_id is None:
        return RequisitionList.objects.filter(owner_id=buyer.user_id, organisation__isnull=True)
    return RequisitionList.objects.filter(
        Q(owner_id=buyer.user_id) | Q(shared=True), organisation_id=buyer.organisation_id
    )


def own_requisition_lists(buyer: BuyerContext) -> QuerySet[RequisitionList]:
    """The lists this buyer owns for the active organisation: the ones they may change."""
    return requisition_lists_for(buyer).filter(owner_id=buyer.user_id)


def requisition_list_page(buyer: BuyerContext) -> QuerySet[RequisitionList]:
    """The "Lists" page: every list the buyer may use, with its owner and number of lines."""
    return (
        requisition_lists_for(buyer)
        .select_related("owner")
        .annotate(line_count=Count("lines"))
        .order_by("name", "id")
    )


def requisition_list_for(buyer: BuyerContext, list_id: int) -> RequisitionList:
    """The list behind a list page or form, with its lines, or 404 when it is not one this buyer
    may see (another organisation's, a colleague's unshared list, a consumer's)."""
    found = (
        requisition_lists_for(buyer)
        .select_related("owner")
        .prefetch_related(Prefetch(
            "lines",
            queryset=RequisitionListLine.objects.select_related("product").order_by("id"),
        ))
        .filter(pk=list_id)
        .first()
    )
    if found is None:
        raise Http404("No such list.")
    return found


# An organisation's webhooks, for its admins.

RECENT_DELIVERIES = 20


def organisation_webhook_endpoints(*, buyer) -> QuerySet[WebhookEndpoint]:
    """Endpoints of the buyer's active organisation, live ones first."""
    if buyer.organisation_id is None:
        return WebhookEndpoint.objects.none()
    return (
        WebhookEndpoint.objects.filter(organisation_id=buyer.organisation_id)
        .select_related("created_by")
        .order_by("-is_active", "-created_at")
    )


def recent_webhook_deliveries(*, buyer, endpoint: WebhookEndpoint | None = None,
                              limit: int = RECENT_DELIVERIES) -> list[WebhookDelivery]:
    """The latest deliveries to the buyer's organisation's endpoints (or to one of them)."""
    if buyer.organisation_id is None:
        return []
    deliveries = WebhookDelivery.objects.filter(endpoint__organisation_id=buyer.organisation_id)
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    return list(
        deliveries.select_related("event", "endpoint").order_by("-created_at", "-id")[:limit]
    )


def webhook_deliveries_of(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """Every delivery to one endpoint (found through the buyer's organisation by the caller)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")


# Recalls: who received the recalled lots, and who has the product on open orders.

# Open states whose unshipped lines a recall holds: everything before the goods leave.
RECALL_HOLD_STATES = (
    OrderState.PENDING_APPROVAL, OrderState.APPROVED, OrderState.SUBMITTED, OrderState.ROUTED,
    OrderState.ACCEPTED_BY_DISTRIBUTOR, OrderState.ALLOCATED, OrderState.PARTLY_BACKORDERED,
)
SHIPPED_HEADER = ("Lot", "Expiry", "Quantity", "Organisation", "Delivered to", "Order",
                  "Order state", "Shipped")
OPEN_HEADER = ("Order", "Order state", "Organisation", "Delivered to", "Quantity", "Placed",
               "Hold")


def recalls_by_sku(*, buyer: BuyerContext, skus) -> dict[str, Recall]:
    """Active recalls of every lot of these products, by SKU, for the products this buyer would
    see but for the recall: why they cannot order them. Other SKUs stay unnamed."""
    if not skus:
        return {}
    recalls = list(
        Recall.objects.filter(product__sku__in=list(skus), lifted_at__isnull=True, lot_numbers="")
        .select_related("product").order_by("raised_at")
    )
    offered = offered_but_off_sale(buyer, {recall.product_id for recall in recalls})
    return {recall.product.sku: recall for recall in recalls if recall.product_id in offered}


def _in_scope(queryset, lookup: str, organisation_ids):
    """Rows of these organisations only (None: every row, a consumer's too)."""
    if organisation_ids is None:
        return queryset
    return queryset.filter(**{f"{lookup}__in": organisation_ids})


def recall_shipped_lots(*, recall: Recall, organisation_ids=None) -> list[tuple[str, ...]]:
    """Every shipment of the recalled lots (every lot of the product when none is named): the
    lot, who received it, where, on which order and when — one row per lot per order line."""
    lots = ShipmentLot.objects.filter(product_id=recall.product_id)
    if not recall.every_lot:
        lots = lots.filter(lot_number__in=recall.lots)
    lots = _in_scope(lots, "shipment__order__organisation_id", organisation_ids)
    lots = lots.select_related(
        "shipment__order__organisation", "order_line__site"
    ).order_by("shipment__shipped_at", "lot_number", "id")
    return [
        (lot.lot_number, lot.expiry_date.isoformat() if lot.expiry_date else "", str(lot.quantity),
         str(lot.shipment.order.organisation or "Consumer"),
         lot.order_line.site.name if lot.order_line.site else lot.shipment.order.delivery_postcode,
         lot.shipment.order.number, lot.shipment.order.get_state_display(),
         lot.shipment.shipped_at.date().isoformat())
        for lot in lots
    ]


def recall_open_lines(*, recall: Recall, organisation_ids=None) -> list[tuple[str, ...]]:
    """Open, unshipped lines of the recalled product: the orders holding it now, held or not
    (a recall naming lots holds none)."""
    lines = OrderLine.objects.filter(
        product_id=recall.product_id, order__state__in=RECALL_HOLD_STATES,
        shipped_quantity__lt=F("quantity"),
    )
    lines = _in_scope(lines, "order__organisation_id", organisation_ids)
    lines = lines.select_related("order__organisation", "site", "recall").order_by(
        "order__placed_at", "id"
    )
    return [
        (line.order.number, line.order.get_state_display(),
         str(line.order.organisation or "Consumer"),
         line.site.name if line.site else line.order.delivery_postcode, str(line.quantity),
         line.order.placed_at.date().isoformat(),
         line.held_reason if line.held_at else "Not held")
        for line in lines
    ]


# Offers: who ordered at a promotion's price --------------------------------------------------

def promotion_lines(codes) -> QuerySet[OrderLine]:
    """Lines of live (not cancelled or rejected) orders priced from one of the promotion lists
    `codes`: the use of an offer, as each line recorded its price source at submission."""
    return OrderLine.objects.filter(
        price_source="promotion", price_list_code__in=list(codes),
    ).exclude(order__state__in=[OrderState.CANCELLED, OrderState.REJECTED])


def promotion_usage(codes) -> dict[str, dict]:
    """{code: {orders, buyers, revenue}} for the promotion lists `codes`, in one query."""
    rows = promotion_lines(codes).order_by().values("price_list_code").annotate(
        orders=Count("order_id", distinct=True),
        buyers=Count("order__placed_by_id", distinct=True),
        revenue=Coalesce(Sum("line_net"), Decimal("0.00"), output_field=_NET),
    )
    return {row.pop("price_list_code"): row for row in rows}


def promotion_orders(code: str) -> QuerySet[Order]:
    """The orders that used a promotion, with the net value of their lines at its price."""
    lines = promotion_lines([code]).filter(order_id=OuterRef("pk")).order_by().values("order_id")
    offer_net = lines.annotate(net=Sum("line_net")).values("net")
    return (
        Order.objects.filter(pk__in=promotion_lines([code]).values("order_id"))
        .annotate(offer_net=Subquery(offer_net, output_field=_NET))
        .select_related("placed_by", "organisation").order_by("-placed_at", "-id")
    )

def support_offers_for(*, buyer: BuyerContext, in_cart=()) -> list[tuple]:
    """Paid support plans (catalogue items of kind service) offered in cart and checkout to a
    self-service account: those it may see and has a price for, not already in its cart, as
    (product, resolved price). Nothing for any other tier. Two queries when offered."""
    level = service_level_for(buyer=buyer)
    if level is None or not level.is_self_service:
        return []
    products = list(
        visible_products(buyer).filter(kind=ProductKind.SERVICE).exclude(pk__in=list(in_cart))
        .order_by("name", "pk")[:3]
    )
    prices = prices_for(buyer, products, 1) if products else {}
    return [(product, prices[product.pk]) for product in products if product.pk in prices]
