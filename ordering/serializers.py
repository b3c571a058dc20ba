"""How the API shows orders, and the input it accepts for them. Inputs name only the fields a
caller may decide (`StrictInput` refuses any other): prices, states, organisations, approvers and
territories are the server's to decide."""

from rest_framework import serializers

from catalog.api import MAX_QUANTITY
from storefront.api.serializers import Money, StrictInput

from .models import OrderState

MAX_ORDER_LINES = 500


class OrderLineInput(StrictInput):
    sku = serializers.CharField(
        max_length=32,
        help_text="The product's SKU, as listed by GET /api/v1/products/.",
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY,
        help_text="Units of sale (packs) to order; volume tiers apply to it.",
    )
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
                                  max_length=MAX_ORDER_LINES,
        help_text="The lines to order, each SKU with its quantity (and a delivery site where "
        "needed).",
    )
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
    comment = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="",
        help_text="Why, in your words; kept in the order's history.",
    )


class AcceptInput(StrictInput):
    expected_delivery_date = serializers.DateField(
        help_text="When you expect the goods to reach the buyer.",
    )


class DeclineInput(StrictInput):
    reason = serializers.CharField(
        max_length=1000,
        help_text="Why you cannot fulfil the order; the buyer is shown it.",
    )


class AcknowledgeInput(StrictInput):
    erp_reference = serializers.CharField(
        max_length=60,
        help_text="Your ERP's own number for the order (a sales order).",
    )


class LotInput(StrictInput):
    line = serializers.IntegerField(min_value=1, help_text="Order line id.")
    lot_number = serializers.CharField(
        max_length=40,
        help_text="The manufacturer's lot (batch) number, printed on the pack.",
    )
    expiry_date = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="The lot's expiry date; absent for products that do not expire.",
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY,
        help_text="Units of this line shipped from this lot.",
    )


class ShipmentInput(StrictInput):
    tracking_number = serializers.CharField(
        max_length=80,
        help_text="The carrier's tracking number.",
    )
    carrier = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default="",
        help_text="Who carries the shipment, e.g. Royal Mail or DPD.",
    )
    tracking_url = serializers.URLField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="Where the buyer can follow the shipment.",
    )
    shipped_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="When the goods left; now when absent.",
    )
    lots = serializers.ListField(
        child=LotInput(), min_length=1, max_length=5000,
        help_text="Every unit of every line, by lot: each line's lots add up to its quantity.",
    )


class DeliveryInput(StrictInput):
    delivered_on = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="The day the goods arrived; today when absent.",
    )
    received_by = serializers.CharField(
        max_length=80, required=False, allow_blank=True, default="",
        help_text="Who signed for the goods.",
    )


# Output ------------------------------------------------------------------------------------------


class LotSerializer(serializers.Serializer):
    lot_number = serializers.CharField(help_text="The manufacturer's lot (batch) number.")
    expiry_date = serializers.DateField(
        allow_null=True,
        help_text="The lot's expiry date; null for products that do not expire.",
    )
    quantity = serializers.IntegerField(help_text="Units of the line shipped from this lot.")


class SiteRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        help_text="The delivery site's id (GET /api/v1/me/, `ordering.sites`).",
    )
    name = serializers.CharField(help_text="The site's name, e.g. a ward or a theatre store.")
    postcode = serializers.CharField(
        help_text="The site's postcode: it decides the line's territory.",
    )


class OrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The line's id: name it in shipments' lots.")
    sku = serializers.CharField(source="product.sku", help_text="The product's SKU.")
    name = serializers.CharField(source="product.name", help_text="The product's name.")
    quantity = serializers.IntegerField(help_text="Units of sale ordered.")
    site = SiteRefSerializer(
        allow_null=True,
        help_text="Where this line is delivered; null for a retail order's line.",
    )
    unit_price = Money(help_text="Net per unit, fixed at submission.")
    vat_rate = Money(
        help_text="The VAT rate applied, e.g. 0.20; 0 for zero-rated or relieved lines.",
    )
    price_source = serializers.CharField(
        help_text="Where the price came from: quote, contract, segment, territory, promotion, "
        "list or retail.",
    )
    price_explanation = serializers.CharField(
        help_text="The price in words, e.g. \"NHS framework NHS-2025-118, 10+ tier\".",
    )
    line_net = Money(help_text="Net total of the line (quantity × unit price, rounded once).")
    line_vat = Money(help_text="VAT of the line.")
    line_gross = Money(help_text="Gross total of the line: net plus VAT.")
    allocated_quantity = serializers.IntegerField(
        help_text="Units reserved from stock for this line.",
    )
    backordered_quantity = serializers.IntegerField(help_text="Units waiting for stock.")
    shipped_quantity = serializers.IntegerField(help_text="Units shipped so far.")
    held_reason = serializers.CharField(
        help_text="Why a recall or withdrawal holds this line (it gets no stock and is not "
        "approved or shipped); empty when it is not held.",
    )
    lots = LotSerializer(many=True, help_text="The lots the line was shipped from, once shipped.")


class ShipmentSerializer(serializers.Serializer):
    carrier = serializers.CharField(help_text="Who carries the shipment.")
    tracking_number = serializers.CharField(help_text="The carrier's tracking number.")
    tracking_url = serializers.CharField(
        help_text="Where to follow the shipment; empty when not given.",
    )
    shipped_at = serializers.DateTimeField(help_text="When the goods left.")


class EventSerializer(serializers.Serializer):
    action = serializers.CharField(
        help_text="What happened: place, approve, submit, ship, cancel…",
    )
    from_state = serializers.CharField(
        help_text="The order's state before; empty for the placement.",
    )
    to_state = serializers.CharField(help_text="The order's state after.")
    actor = serializers.CharField(
        source="actor_label",
        help_text="Who did it: a person's email, an API key, or the system.",
    )
    comment = serializers.CharField(help_text="What they said about it; empty when nothing.")
    at = serializers.DateTimeField(source="created_at", help_text="When it happened.")


class ApprovalSerializer(serializers.Serializer):
    position = serializers.IntegerField(
        help_text="The step's place in the approval chain, from 1.",
    )
    rule_name = serializers.CharField(
        help_text="The rule that asked for this step, e.g. \"Orders over £5,000\".",
    )
    approver_role = serializers.CharField(
        help_text="Who may decide it: approver or budget holder.",
    )
    status = serializers.CharField(help_text="pending, approved or rejected.")
    decided_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When it was decided; null while pending.",
    )
    comment = serializers.CharField(help_text="The approver's comment.")


class PlacedViaKeySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The name given to the key when it was issued.")
    prefix = serializers.CharField(help_text="The first characters of the key.")
    kind = serializers.ChoiceField(
        choices=["integration", "personal"],
        help_text="integration: the organisation's service identity; personal: one member's key.")
    role = serializers.CharField(
        help_text="An integration key's API role (`buyer`, `requisitioner`); empty for a "
        "personal key.")


class OrderSummarySerializer(serializers.Serializer):
    number = serializers.CharField(
        help_text="The order number, e.g. P26-7KQ4-M2XD: its address in the API.",
    )
    state = serializers.ChoiceField(
        choices=OrderState.choices,
        help_text="Where the order is in its workflow.",
    )
    state_label = serializers.CharField(
        source="get_state_display",
        help_text="The state in plain words, e.g. \"Awaiting payment\".",
    )
    workflow = serializers.CharField(
        help_text="retail, institutional or distributor: the checkout the order went through.",
    )
    placed_at = serializers.DateTimeField(help_text="When the order was placed.")
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
    organisation = serializers.CharField(
        source="organisation.name", allow_null=True,
        help_text="The buying organisation; null for a retail consumer.",
    )
    fulfiller = serializers.CharField(
        source="fulfiller.name", allow_null=True,
        help_text="The distributor fulfilling a routed order; null for a direct order.",
    )
    po_number = serializers.CharField(
        help_text="The buyer's purchase order number; empty when none.",
    )
    cost_centre = serializers.CharField(
        source="cost_centre.code", allow_null=True,
        help_text="Code of the cost centre whose budget carries the order; null when none.",
    )
    requested_delivery_date = serializers.DateField(
        allow_null=True,
        help_text="When the buyer needs the goods.",
    )
    expected_delivery_date = serializers.DateField(
        allow_null=True,
        help_text="When the fulfiller expects to deliver; null until known.",
    )
    erp_reference = serializers.CharField(
        help_text="The fulfilling ERP's number for the order, once it acknowledged it.",
    )
    currency = serializers.CharField(
        help_text="ISO 4217 code of every amount of the order, e.g. GBP.",
    )
    total_net = Money(help_text="Net total, ex VAT.")
    total_vat = Money(help_text="VAT total.")
    total_gross = Money(help_text="Gross total: net plus VAT.")
    payment_method = serializers.CharField(
        help_text="account (invoiced, within the credit limit) or card.",
    )


class OrderSerializer(OrderSummarySerializer):
    decline_reason = serializers.CharField(
        help_text="Why the distributor declined a routed order; empty otherwise.",
    )
    lines = OrderLineSerializer(many=True, help_text="The order's lines.")
    shipments = ShipmentSerializer(many=True, help_text="Shipments so far, oldest first.")
    approvals = ApprovalSerializer(
        many=True,
        help_text="The approval chain's steps; empty when none applied.",
    )
    events = EventSerializer(many=True, help_text="The order's history, oldest first.")


# A routed order as its distributor reads it: the buyer's money appears only where the contract that
# priced a line names the distributor as an authorised fulfiller; otherwise the distributor's own
# price. Net amounts only; no price list codes, no buyer approvals.


class RoutedOrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The line's id: name it in shipments' lots.")
    sku = serializers.CharField(source="product.sku", help_text="The product's SKU.")
    name = serializers.CharField(source="product.name", help_text="The product's name.")
    quantity = serializers.IntegerField(help_text="Units of sale ordered.")
    site = SiteRefSerializer(
        allow_null=True,
        help_text="Where this line is delivered; null for a consumer's order.",
    )
    unit_price = Money(
        source="routed_unit_price", allow_null=True,
        help_text="Net per unit: the buyer's contract price where the contract names you as an "
        "authorised fulfiller, otherwise your own price for the product; null when you have none.",
    )
    line_net = Money(
        source="routed_line_net", allow_null=True,
        help_text="Net total of the line at `unit_price`; null when you have no price.",
    )
    price_basis = serializers.ChoiceField(
        choices=["contract", "distributor", ""],
        help_text="contract: the buyer's contract price, which you invoice at; distributor: your "
        "own price; empty: no price of yours for this product.",
    )
    price_explanation = serializers.CharField(
        source="routed_price_explanation",
        help_text="Your price in words, e.g. \"Contract NHS-2025-131 names you as fulfiller\".",
    )
    allocated_quantity = serializers.IntegerField(help_text="Units you reserved for this line.")
    backordered_quantity = serializers.IntegerField(help_text="Units you are waiting for.")
    shipped_quantity = serializers.IntegerField(help_text="Units shipped so far.")
    lots = LotSerializer(many=True, help_text="The lots the line was shipped from, once shipped.")


class RoutedOrderSummarySerializer(serializers.Serializer):
    number = serializers.CharField(help_text="The order number: its address in the API.")
    state = serializers.ChoiceField(
        choices=OrderState.choices,
        help_text="Where the order is: routed, accepted or declined by you, shipped, delivered…",
    )
    workflow = serializers.CharField(help_text="institutional or retail: how the buyer ordered.")
    placed_at = serializers.DateTimeField(help_text="When the buyer placed the order.")
    updated_at = serializers.DateTimeField(
        help_text="When anything about the order last changed; see `updated_since`.")
    placed_by = serializers.EmailField(
        source="placed_by.email",
        help_text="The email of who placed it.",
    )
    organisation = serializers.CharField(
        source="organisation.name", allow_null=True,
        help_text="The buying organisation; null for a retail consumer.",
    )
    fulfiller = serializers.CharField(
        source="fulfiller.name", allow_null=True,
        help_text="Your organisation's name: the distributor the order was routed to.",
    )
    po_number = serializers.CharField(
        help_text="The buyer's purchase order number; empty when none.",
    )
    requested_delivery_date = serializers.DateField(
        allow_null=True,
        help_text="When the buyer needs the goods.",
    )
    expected_delivery_date = serializers.DateField(
        allow_null=True,
        help_text="The date you gave when accepting; null before.",
    )
    erp_reference = serializers.CharField(
        help_text="Your ERP's number for the order, once you acknowledged it.",
    )
    currency = serializers.CharField(help_text="ISO 4217 code of the amounts, e.g. GBP.")
    total_net = Money(source="routed_total_net",
                      help_text="The sum of the lines' `line_net`, at the prices you see.")


class RoutedOrderSerializer(RoutedOrderSummarySerializer):
    decline_reason = serializers.CharField(help_text="Your reason, if you declined the order.")
    delivery_name = serializers.CharField(help_text="Who receives the goods.")
    delivery_address = serializers.CharField(
        help_text="Where the goods go (lines may name their own site).",
    )
    delivery_postcode = serializers.CharField(help_text="The delivery postcode.")
    lines = RoutedOrderLineSerializer(many=True, help_text="The order's lines as you see them.")
    shipments = ShipmentSerializer(many=True, help_text="Shipments so far, oldest first.")
    events = EventSerializer(many=True, help_text="The order's history, oldest first.")


class OrdersCreatedSerializer(serializers.Serializer):
    orders = OrderSerializer(
        many=True,
        help_text="Usually one; lines only a distributor may sell in your territory become a "
        "separate order routed to that distributor.",
    )


class BackorderSerializer(serializers.Serializer):
    order = serializers.CharField(
        source="order.number",
        help_text="The number of the order the line belongs to.",
    )
    line = serializers.IntegerField(source="id", help_text="The line's id.")
    sku = serializers.CharField(source="product.sku", help_text="The product's SKU.")
    name = serializers.CharField(source="product.name", help_text="The product's name.")
    quantity = serializers.IntegerField(help_text="Units ordered on the line.")
    allocated_quantity = serializers.IntegerField(help_text="Units reserved so far.")
    backordered_quantity = serializers.IntegerField(help_text="Units still waiting for stock.")
    requested_delivery_date = serializers.DateField(source="order.requested_delivery_date",
                                                    allow_null=True,
        help_text="When the buyer needs the goods; it decides who is served first.",
    )
