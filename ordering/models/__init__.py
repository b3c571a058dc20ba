"""Ordering tables: stock, carts, orders with their log, approvals and allocations."""

from .approvals import ApprovalRule, ApprovalStep, ApproverRole, StepStatus
from .carts import Cart, CartLine, cart_scope_key
from .orders import (
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    PaymentMethod,
    ReliefDeclaration,
)
from .stock import Allocation, AllocationPolicy, Stock

__all__ = [
    "Allocation",
    "AllocationPolicy",
    "ApprovalRule",
    "ApprovalStep",
    "ApproverRole",
    "Cart",
    "CartLine",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderState",
    "PaymentMethod",
    "ReliefDeclaration",
    "StepStatus",
    "Stock",
    "cart_scope_key",
]
