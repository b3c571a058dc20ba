"""Order endpoints of the REST API, for three callers:

- a buyer's ERP (scope orders:write): place orders with an Idempotency-Key, list and read the
  organisation's orders as the key's role may see them (an integration key its own, placed
  through it), cancel, read backorders;
- a distributor's ERP (orders:write): the orders routed to it — accept, decline, acknowledge, ship
  with lots, deliver;
- the manufacturer's ERP (orders:fulfil, on a staff key): direct orders past approval —
  acknowledge, ship with lots, deliver.

Every call goes through the same selectors and services as the pages; an order the caller may not
see does not exist for them (404)."""

from decimal import Decimal

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import organisation_cost_centres
from catalog.selectors import visible_products
from segments.resolver import Workflow
from storefront.api.authentication import api_key_of
from storefront.api.errors import DomainError, PriceChanged
from storefront.api.filters import DateTimeFilter, ManyChoiceFilter
from storefront.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from storefront.api.pagination import NewestFirstPagination
from storefront.api.permissions import ORDERS_FULFIL, ORDERS_WRITE, staff_actor

from .models import Order, OrderLine, OrderState
from .selectors import (
    backorders_for,
    fulfilment_orders,
    orders_for,
    recalls_by_sku,
    routed_orders_for,
    with_details,
    with_routed_details,
    with_summary,
)
from .serializers import (
    AcceptInput,
    AcknowledgeInput,
    BackorderSerializer,
    CommentInput,
    DeclineInput,
    DeliveryInput,
    OrderCreateInput,
    OrdersCreatedSerializer,
    OrderSerializer,
    OrderSummarySerializer,
    RoutedOrderSerializer,
    RoutedOrderSummarySerializer,
    ShipmentInput,
)
from .services.approvals import order_cancel
from .services.checkout import (
    InstitutionalDetails,
    OrderItem,
    checkout_distributor,
    checkout_institutional,
    checkout_review,
    site_buyers,
)
from .services.routing import routed_order_accept, routed_order_decline
from .services.shipping import (
    ShipmentReport,
    ShippedLot,
    order_acknowledge,
    order_deliver,
    order_ship,
)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class OrderFilter(django_filters.FilterSet):
    state = ManyChoiceFilter(choices=OrderState.choices,
                             help_text="Order states, repeated or comma-separated.")
    placed_after = DateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = DateTimeFilter(field_name="placed_at", lookup_expr="lt")
    po_number = django_filters.CharFilter(max_length=40)
    updated_since = DateTimeFilter(
        field_name="updated_at", lookup_expr="gte",
        help_text="Orders changed at or after this time (state, lines, delivery, lots): pass the "
        "largest `updated_at` of your last sync (orders changed at that very instant come again).",
    )

    class Meta:
        model = Order
        fields = ["state", "placed_after", "placed_before", "po_number", "updated_since"]


class _OrderLists(generics.ListAPIView):
    serializer_class = OrderSummarySerializer
    filterset_class = OrderFilter
    pagination_class = NewestFirstPagination

    def orders(self):
        raise NotImplementedError

    def summaries(self, orders):
        return with_summary(orders)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return self.summaries(self.orders())


class _OrderDetails(generics.RetrieveAPIView):
    serializer_class = OrderSerializer
    filter_backends = ()

    def orders(self):
        raise NotImplementedError

    def details(self, orders):
        return with_details(orders)

    def get_object(self):
        order = self.details(self.orders()).filter(number=self.kwargs["number"]).first()
        if order is None:
            raise Http404("No such order.")
        return order


# A buyer's orders ---------------------------------------------------------------------------------


def _items(buyer, lines: list[dict]) -> list[OrderItem]:
    """The request's lines as products this buyer may see at one of the lines' delivery sites;
    unknown SKUs refused per line. Whether each line may go to its own site is the checkout's
    question (a line restricted there is refused with the reason)."""
    skus = {line["sku"] for line in lines}
    ids = {}
    sites = {line.get("site") or buyer.site_id for line in lines}
    for site_buyer in site_buyers(buyer, sites).values():
        ids.update(visible_products(site_buyer).filter(sku__in=skus - set(ids))
                   .values_list("sku", "pk"))
    recalled = recalls_by_sku(buyer=buyer, skus=skus - set(ids))
    missing = {
        f"lines.{i}.sku": [
            f"{line['sku']} cannot be ordered: {recalled[line['sku']].summary}."
            if line["sku"] in recalled else "No product with this SKU is available to you."
        ]
        for i, line in enumerate(lines) if line["sku"] not in ids
    }
    if missing:
        raise DomainError("unknown_product", "Some lines name products you cannot order.",
                          missing)
    return [OrderItem(i, ids[line["sku"]], line["quantity"]) for i, line in enumerate(lines)]


def _cost_centre_id(buyer, code: str) -> int | None:
    if not code:
        return None
    found = organisation_cost_centres(buyer=buyer).filter(code=code, is_active=True).first()
    if found is None:
        raise DomainError("bad_cost_centre", "No active cost centre with this code.",
                          {"cost_centre": ["Use one of your organisation's cost centre codes."]})
    return found.pk


def _check_lines(review, lines: list[dict]) -> None:
    """Per-line problems (visibility, territory, quantity rules) and prices the caller did not
    expect, reported against the request's line numbers."""
    problems = {
        f"lines.{r.cart_line_id}": [r.checked.problem]
        for r in review.lines if not r.checked.ok
    }
    if problems:
        raise DomainError("line_problem", "Some lines cannot be ordered as they are.", problems)
    changed = {}
    for reviewed in review.lines:
        expected = lines[reviewed.cart_line_id].get("expected_unit_price")
        if expected is not None and Decimal(expected) != reviewed.price.unit_price:
            changed[f"lines.{reviewed.cart_line_id}.expected_unit_price"] = [
                f"The price is now {reviewed.price.unit_price} {reviewed.price.currency}."
            ]
    if changed:
        raise PriceChanged("Prices changed: check them and send the new expected prices.",
                           changed)
    if review.problems:
        raise DomainError("order_problem", review.problems[0])


def place_order(buyer, data: dict) -> list[Order]:
    """Check, price and place the order the way the checkout pages do (cart aside)."""
    if buyer.workflow == Workflow.RETAIL or buyer.organisation_id is None:
        raise DomainError("wrong_workflow", "Orders through the API are placed for an "
                          "organisation; consumers pay by card in the storefront.")
    items = _items(buyer, data["lines"])
    line_sites = {i: line["site"] for i, line in enumerate(data["lines"]) if line.get("site")}
    details = InstitutionalDetails(
        po_number=data["po_number"], cost_centre_id=_cost_centre_id(buyer, data["cost_centre"]),
        requested_delivery_date=data["requested_delivery_date"], contract_id=data["contract"],
        line_sites=line_sites,
    )
    review = checkout_review(buyer=buyer, contract_id=details.contract_id,
                             line_sites=line_sites, items=items)
    _check_lines(review, data["lines"])
    place = checkout_distributor if buyer.workflow == Workflow.DISTRIBUTOR else (
        checkout_institutional
    )
    return place(buyer=buyer, details=details, expected_token=review.price_token, items=items)


@extend_schema_view(
    get=extend_schema(
        tags=["orders"], summary="Orders of the organisation you may see",
        description="The orders this key's member may see, newest first: a requisitioner their "
        "own, approvers and organisation admins the organisation's. Filter by state, dates and "
        "PO number; `updated_since` for an incremental sync.",
    ),
    post=extend_schema(
        tags=["orders"], summary="Place an order", request=OrderCreateInput,
        description="Place an order, checked and priced exactly as the checkout page does: "
        "visibility, territory, quantity rules, your contract prices, the approval chain and "
        "budget. Send `expected_unit_price` to be refused (409 `price_changed`) rather than "
        "charged a price that moved. Lines only a distributor may sell in your territory become "
        "a second order routed to it. Send an `Idempotency-Key` so a retry places nothing twice.",
        responses={201: OrdersCreatedSerializer}, parameters=[IDEMPOTENCY_KEY_PARAMETER],
    ),
)
class OrderListCreate(_OrderLists):
    """List the orders this key may see (a personal key: its member's, as in the browser —
    requisitioners and buyers their own, approvers and admins the organisation's; an integration
    key: those placed through it), newest first; or place an order, checked and priced exactly as
    the checkout page does, recorded as placed through the key."""

    required_scopes = {"GET": ORDERS_WRITE, "POST": ORDERS_WRITE}

    def orders(self):
        return orders_for(self.request.buyer)

    @idempotent
    def post(self, request):
        placed = place_order(request.buyer, _valid(OrderCreateInput, request))
        orders = with_details(Order.objects.filter(pk__in=[o.pk for o in placed])).order_by("id")
        body = {"orders": OrderSerializer(orders, many=True).data}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["orders"], summary="One order")
class OrderDetail(_OrderDetails):
    """One order of your organisation that you may see, with its lines (prices fixed at
    submission, allocation, lots), shipments, approval steps and history. Another organisation's
    order, or one you may not see, answers 404."""

    required_scopes = {"GET": ORDERS_WRITE}

    def orders(self):
        return orders_for(self.request.buyer)


class _OrderAction(APIView):
    """POST an action on one order found through `orders()`; answers with the order after it."""

    required_scopes = {"POST": ORDERS_WRITE}
    input_class = CommentInput
    output_class = OrderSerializer

    def orders(self):
        raise NotImplementedError

    def act(self, order: Order, data: dict) -> None:
        raise NotImplementedError

    def details(self, orders):
        return with_details(orders)

    @idempotent
    def post(self, request, number: str):
        order = self.orders().filter(number=number).first()
        if order is None:
            raise Http404("No such order.")
        self.act(order, _valid(self.input_class, request))
        after = self.details(Order.objects.filter(pk=order.pk)).get()
        return Response(self.output_class(after).data)


def _action_schema(summary: str, input_class, tag: str = "orders", output=OrderSerializer):
    return extend_schema_view(post=extend_schema(
        tags=[tag], summary=summary, request=input_class, responses={200: output},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    ))


@_action_schema("Cancel an order (its placer or an organisation admin)", CommentInput)
class OrderCancel(_OrderAction):
    """Cancel an order not yet picked: its reserved stock is released and any budget
    commitment given back. Only the person who placed it or an organisation admin may; an order past
    the point of cancelling answers 409 with the code `not_allowed`."""

    def orders(self):
        return orders_for(self.request.buyer)

    def act(self, order, data):
        order_cancel(order=order, actor_buyer=self.request.buyer, comment=data["comment"])


@extend_schema(tags=["orders"], summary="Lines still waiting for stock")
class BackorderList(generics.ListAPIView):
    """Backordered lines of the organisation's open orders you may see."""

    required_scopes = {"GET": ORDERS_WRITE}
    serializer_class = BackorderSerializer
    pagination_class = NewestFirstPagination
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OrderLine.objects.none()
        return backorders_for(self.request.buyer)


# A distributor's routed orders -----------------------------------------------------------------


def _ship(order, actor, data, reported_by: str = "") -> None:
    lots = tuple(
        ShippedLot(lot["line"], lot["lot_number"], lot["quantity"], lot["expiry_date"])
        for lot in data["lots"]
    )
    report = ShipmentReport(
        tracking_number=data["tracking_number"], lots=lots, carrier=data["carrier"],
        tracking_url=data["tracking_url"], shipped_at=data["shipped_at"],
    )
    order_ship(order=order, actor_buyer=actor, report=report, reported_by=reported_by)


class _Routed:
    """A routed order as its distributor sees it: at its own prices unless the buyer's contract
    names it as an authorised fulfiller (docs/api.md)."""

    serializer_class = RoutedOrderSerializer
    output_class = RoutedOrderSerializer

    def orders(self):
        return routed_orders_for(self.request.buyer)

    def details(self, orders):
        return with_routed_details(orders)


def _routed_action_schema(summary: str, input_class):
    return _action_schema(summary, input_class, "routed orders", RoutedOrderSerializer)


@extend_schema(tags=["routed orders"], summary="Orders routed to your distributor organisation")
class RoutedOrderList(_Routed, _OrderLists):
    """Orders routed to your distributor organisation (lines only you may sell in the buyer's
    territory), newest first, at the prices you see. Filter by `state` for the ones awaiting
    your answer (`routed`)."""

    required_scopes = {"GET": ORDERS_WRITE}
    serializer_class = RoutedOrderSummarySerializer

    def summaries(self, orders):
        return orders.select_related("placed_by", "organisation", "fulfiller")


@extend_schema(tags=["routed orders"], summary="One routed order")
class RoutedOrderDetail(_Routed, _OrderDetails):
    """One order routed to your distributor organisation, as you may see it: your
    prices, the delivery address, lines, shipments and history; never the buyer's contract totals
    unless the contract names you as its fulfiller."""

    required_scopes = {"GET": ORDERS_WRITE}


@_routed_action_schema("Accept a routed order, with the expected delivery date", AcceptInput)
class RoutedOrderAccept(_Routed, _OrderAction):
    """Accept an order routed to you, giving the date you expect to deliver: the
    buyer is told, and the order awaits your acknowledgement and shipment."""

    input_class = AcceptInput

    def act(self, order, data):
        routed_order_accept(order=order, actor_buyer=self.request.buyer,
                            expected_delivery_date=data["expected_delivery_date"])


@_routed_action_schema("Decline a routed order, with a reason for the buyer", DeclineInput)
class RoutedOrderDecline(_Routed, _OrderAction):
    """Decline an order routed to you, with a reason the buyer is shown; the buyer
    can then order elsewhere."""

    input_class = DeclineInput

    def act(self, order, data):
        routed_order_decline(order=order, actor_buyer=self.request.buyer, reason=data["reason"])


@_routed_action_schema("Record your ERP's reference for an accepted routed order",
                       AcknowledgeInput)
class RoutedOrderAcknowledge(_Routed, _OrderAction):
    """Record your ERP's own reference for an order you accepted
    (`erp_reference`), so both sides can find it."""

    input_class = AcknowledgeInput

    def act(self, order, data):
        order_acknowledge(order=order, actor_buyer=self.request.buyer,
                          erp_reference=data["erp_reference"])


@_routed_action_schema("Ship an accepted routed order: tracking and the lot of every unit",
                       ShipmentInput)
class RoutedOrderShipment(_Routed, _OrderAction):
    """Ship an order you accepted: the carrier's tracking and the lot of every
    unit (each line's lots add up to its quantity), so that a recall reaches the right wards."""

    input_class = ShipmentInput

    def act(self, order, data):
        _ship(order, self.request.buyer, data)


@_routed_action_schema("Record the delivery of a shipped routed order", DeliveryInput)
class RoutedOrderDelivery(_Routed, _OrderAction):
    """Record that a shipped order reached the buyer, when and who signed for it."""

    input_class = DeliveryInput

    def act(self, order, data):
        order_deliver(order=order, actor_buyer=self.request.buyer,
                      delivered_on=data["delivered_on"], received_by=data["received_by"])


# The manufacturer's ERP --------------------------------------------------------------------------


class _Fulfilment:
    required_scopes = {"GET": ORDERS_FULFIL, "POST": ORDERS_FULFIL}

    def orders(self):
        return fulfilment_orders(staff_actor(self.request))

    def reporter(self) -> str:
        """Who reports for the system, for the order's log: the key and its issuer, or the staff
        member of a session."""
        key, staff = api_key_of(self.request), staff_actor(self.request)
        if key is None:
            return staff.email
        return f"API key “{key.name}” ({key.prefix}…) of {staff.email}"


@extend_schema(tags=["fulfilment"], summary="Direct orders to fulfil (staff keys)")
class FulfilmentOrderList(_Fulfilment, _OrderLists):
    """The direct orders the manufacturer's ERP fulfils, newest first: released
    to fulfilment and not routed to a distributor. A key with `orders:fulfil`, issued by staff."""


@extend_schema(tags=["fulfilment"], summary="One direct order to fulfil")
class FulfilmentOrderDetail(_Fulfilment, _OrderDetails):
    """One direct order to fulfil, with its lines, delivery sites, shipments and
    history."""


@_action_schema("Acknowledge a direct order, with the ERP's reference", AcknowledgeInput,
                "fulfilment")
class FulfilmentAcknowledge(_Fulfilment, _OrderAction):
    """Acknowledge a direct order with the ERP's own reference (`erp_reference`);
    the order's history names the key and the staff member who issued it."""

    input_class = AcknowledgeInput

    def act(self, order, data):
        order_acknowledge(order=order, actor_buyer=None, erp_reference=data["erp_reference"],
                          reported_by=self.reporter())


@_action_schema("Ship an allocated direct order: tracking and the lot of every unit",
                ShipmentInput, "fulfilment")
class FulfilmentShipment(_Fulfilment, _OrderAction):
    """Ship an allocated direct order: the carrier's tracking and the lot of every
    unit (each line's lots add up to its quantity), so that a recall reaches the right wards."""

    input_class = ShipmentInput

    def act(self, order, data):
        _ship(order, None, data, self.reporter())


@_action_schema("Record the delivery of a shipped direct order", DeliveryInput, "fulfilment")
class FulfilmentDelivery(_Fulfilment, _OrderAction):
    """Record that a shipped direct order was delivered, when and who signed for
    it."""

    input_class = DeliveryInput

    def act(self, order, data):
        order_deliver(order=order, actor_buyer=None, delivered_on=data["delivered_on"],
                      received_by=data["received_by"], reported_by=self.reporter())
