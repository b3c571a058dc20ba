"""Ordering tables: stock, carts, requisition lists, orders with their log, approvals,
allocations, shipments with their lots, and the outbox of order events with its webhook
deliveries."""

from .approvals import ApprovalRule, ApprovalStep, ApproverRole, StepStatus
from .carts import Cart, CartLine, cart_scope_key
from .lists import RequisitionList, RequisitionListLine
from .orders import (
    DeliveryOption,
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    PaymentMethod,
    ReliefDeclaration,
)
from .outbox import DeliveryState, OutboxEvent, WebhookDelivery, WebhookEndpoint
from .shipments import Shipment, ShipmentLot
from .stock import Allocation, AllocationPolicy, Stock

__all__ = [
    "Allocation",
    "AllocationPolicy",
    "ApprovalRule",
    "ApprovalStep",
    "ApproverRole",
    "Cart",
    "CartLine",
    "DeliveryState",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderState",
    "OutboxEvent",
    "DeliveryOption",
    "PaymentMethod",
    "ReliefDeclaration",
    "RequisitionList",
    "RequisitionListLine",
    "Shipment",
    "ShipmentLot",
    "StepStatus",
    "Stock",
    "WebhookDelivery",
    "WebhookEndpoint",
    "cart_scope_key",
]
