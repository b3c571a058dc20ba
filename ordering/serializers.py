"""How the API shows orders, and the input it accepts for them. Inputs name only the fields a
caller may decide (`StrictInput` refuses any other): prices, states, organisations, approvers and
territories are the server's to decide."""

from rest_framework import serializers

from catalog.api import MAX_QUANTITY
from storefront.api.serializers import Money, StrictInput

from .models import OrderState

MAX_ORDER_LINES = 500


class OrderLineInput(StrictInput):
    sku = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    site = serializers.IntegerField(
        required=False, min_value=1,
        help_text="Delivery site id of this line (one of your organisation's sites); the key's "
        "default site when absent.",
    )
    expected_unit_price = Money(
        required=False,
        help_text="The net unit price you expect. If the price is now different the order is "
        "refused (409 price_changed) and the current prices are returned.",
    )


class OrderCreateInput(StrictInput):
    lines = serializers.ListField(child=OrderLineInput(), min_length=1,
                                  max_length=MAX_ORDER_LINES)
    po_number = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="",
        help_text="Your purchase order number, unique within your organisation. Required where "
        "GET /api/v1/me/ lists it in `ordering.required_fields` (NHS trusts, distributors).",
    )
    cost_centre = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="",
        help_text="Code of one of your organisation's active cost centres (GET /api/v1/me/, "
        "`ordering.cost_centres`). Required where `ordering.required_fields` lists it (NHS "
        "trusts); the order's net total is committed against its budget.",
    )
    requested_delivery_date = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="The date you need the goods, today or later. Required where "
        "`ordering.required_fields` of GET /api/v1/me/ lists it (every institutional buyer).",
    )
    contract = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1,
        help_text="Id of one of your current contracts (GET /contracts/) to price against.",
    )


class CommentInput(StrictInput):
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class AcceptInput(StrictInput):
    expected_delivery_date = serializers.DateField()


class DeclineInput(StrictInput):
    reason = serializers.CharField(max_length=1000)


class AcknowledgeInput(StrictInput):
    erp_reference = serializers.CharField(max_length=60)


class LotInput(StrictInput):
    line = serializers.IntegerField(min_value=1, help_text="Order line id.")
    lot_number = serializers.CharField(max_length=40)
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class ShipmentInput(StrictInput):
    tracking_number = serializers.CharField(max_length=80)
    carrier = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    tracking_url = serializers.URLField(max_length=200, required=False, allow_blank=True,
                                        default="")
    shipped_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    lots = serializers.ListField(
        child=LotInput(), min_length=1, max_length=5000,
        help_text="Every unit of every line, by lot: each line's lots add up to its quantity.",
    )


class DeliveryInput(StrictInput):
    delivered_on = serializers.DateField(required=False, allow_null=True, default=None)
    received_by = serializers.CharField(max_length=80, required=False, allow_blank=True,
                                        default="")


# Output ------------------------------------------------------------------------------------------


class LotSerializer(serializers.Serializer):
    lot_number = serializers.CharField()
    expiry_date = serializers.DateField(allow_null=True)
    quantity = serializers.IntegerField()


class SiteRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    postcode = serializers.CharField()


class OrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    site = SiteRefSerializer(allow_null=True)
    unit_price = Money(help_text="Net per unit, fixed at submission.")
    vat_rate = Money()
    price_source = serializers.CharField()
    price_explanation = serializers.CharField()
    line_net = Money()
    line_vat = Money()
    line_gross = Money()
    allocated_quantity = serializers.IntegerField()
    backordered_quantity = serializers.IntegerField()
    shipped_quantity = serializers.IntegerField()
    held_reason = serializers.CharField(
        help_text="Why a recall or withdrawal holds this line (it gets no stock and is not "
        "approved or shipped); empty when it is not held.",
    )
    lots = LotSerializer(many=True)


class ShipmentSerializer(serializers.Serializer):
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    tracking_url = serializers.CharField()
    shipped_at = serializers.DateTimeField()


class EventSerializer(serializers.Serializer):
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    comment = serializers.CharField()
    at = serializers.DateTimeField(source="created_at")


class ApprovalSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    rule_name = serializers.CharField()
    approver_role = serializers.CharField()
    status = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    comment = serializers.CharField()


class PlacedViaKeySerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The first characters of the key.")
    kind = serializers.ChoiceField(choices=["integration", "personal"])
    role = serializers.CharField(
        help_text="An integration key's API role (`buyer`, `requisitioner`); empty for a "
        "personal key.")


class OrderSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    state = serializers.ChoiceField(choices=OrderState.choices)
    state_label = serializers.CharField(
        source="get_state_display",
        help_text="The state in plain words, e.g. \"Awaiting payment\".",
    )
    workflow = serializers.CharField()
    placed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(
        help_text="When anything about the order last changed; see `updated_since`.")
    placed_by = serializers.EmailField(
        source="placed_by.email",
        help_text="The member who placed the order; for an order placed through an integration "
        "key, the member responsible for the key.")
    placed_via_key = PlacedViaKeySerializer(
        source="api_key", allow_null=True,
        help_text="The API key the order was placed through; null for an order placed in the "
        "storefront.")
    organisation = serializers.CharField(source="organisation.name", allow_null=True)
    fulfiller = serializers.CharField(
        source="fulfiller.name", allow_null=True,
        help_text="The distributor fulfilling a routed order; null for a direct order.",
    )
    po_number = serializers.CharField()
    cost_centre = serializers.CharField(source="cost_centre.code", allow_null=True)
    requested_delivery_date = serializers.DateField(allow_null=True)
    expected_delivery_date = serializers.DateField(allow_null=True)
    erp_reference = serializers.CharField()
    currency = serializers.CharField()
    total_net = Money()
    total_vat = Money()
    total_gross = Money()
    payment_method = serializers.CharField()


class OrderSerializer(OrderSummarySerializer):
    decline_reason = serializers.CharField()
    lines = OrderLineSerializer(many=True)
    shipments = ShipmentSerializer(many=True)
    approvals = ApprovalSerializer(many=True)
    events = EventSerializer(many=True)


# A routed order as its distributor reads it: the buyer's money appears only where the contract that
# priced a line names the distributor as an authorised fulfiller; otherwise the distributor's own
# price. Net amounts only; no price list codes, no buyer approvals.


class RoutedOrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    site = SiteRefSerializer(allow_null=True)
    unit_price = Money(
        source="routed_unit_price", allow_null=True,
        help_text="Net per unit: the buyer's contract price where the contract names you as an "
        "authorised fulfiller, otherwise your own price for the product; null when you have none.",
    )
    line_net = Money(source="routed_line_net", allow_null=True)
    price_basis = serializers.ChoiceField(
        choices=["contract", "distributor", ""],
        help_text="contract: the buyer's contract price, which you invoice at; distributor: your "
        "own price; empty: no price of yours for this product.",
    )
    price_explanation = serializers.CharField(source="routed_price_explanation")
    allocated_quantity = serializers.IntegerField()
    backordered_quantity = serializers.IntegerField()
    shipped_quantity = serializers.IntegerField()
    lots = LotSerializer(many=True)


class RoutedOrderSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    state = serializers.ChoiceField(choices=OrderState.choices)
    workflow = serializers.CharField()
    placed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(
        help_text="When anything about the order last changed; see `updated_since`.")
    placed_by = serializers.EmailField(source="placed_by.email")
    organisation = serializers.CharField(source="organisation.name", allow_null=True)
    fulfiller = serializers.CharField(source="fulfiller.name", allow_null=True)
    po_number = serializers.CharField()
    requested_delivery_date = serializers.DateField(allow_null=True)
    expected_delivery_date = serializers.DateField(allow_null=True)
    erp_reference = serializers.CharField()
    currency = serializers.CharField()
    total_net = Money(source="routed_total_net",
                      help_text="The sum of the lines' `line_net`, at the prices you see.")


class RoutedOrderSerializer(RoutedOrderSummarySerializer):
    decline_reason = serializers.CharField()
    delivery_name = serializers.CharField()
    delivery_address = serializers.CharField()
    delivery_postcode = serializers.CharField()
    lines = RoutedOrderLineSerializer(many=True)
    shipments = ShipmentSerializer(many=True)
    events = EventSerializer(many=True)


class OrdersCreatedSerializer(serializers.Serializer):
    orders = OrderSerializer(
        many=True,
        help_text="Usually one; lines only a distributor may sell in your territory become a "
        "separate order routed to that distributor.",
    )


class BackorderSerializer(serializers.Serializer):
    order = serializers.CharField(source="order.number")
    line = serializers.IntegerField(source="id")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    allocated_quantity = serializers.IntegerField()
    backordered_quantity = serializers.IntegerField()
    requested_delivery_date = serializers.DateField(source="order.requested_delivery_date",
                                                    allow_null=True)
