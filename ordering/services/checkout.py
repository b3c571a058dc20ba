"""Checkout: one transaction per placement. Visibility, price, territory availability and quantity
rules are asked again at submission; a price that changed since the buyer's review is refused
until they confirm the new one. Stock is reserved under row locks and what cannot be filled is
backordered (or refused, for retail). Lines keep the price, its source and its explanation."""

import datetime
import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import CostCentre, Organisation
from catalog.models import VatCategory
from pricing.engine import LineTotal
from pricing.selectors import contracts_of
from segments.resolver import BuyerContext, Workflow, buyer_for_delivery, resolve
from segments.service_levels import service_level_for
from territories.postcodes import parse_postcode

from ..errors import OrderError
from ..models import (
    ApprovalStep,
    CartLine,
    DeliveryOption,
    Order,
    OrderLine,
    OrderState,
    PaymentMethod,
    ReliefDeclaration,
)
from ..notifications import notify
from ..rules import PLACE
from ..workflows import CheckoutWorkflow, workflow_for
from .budgets import OVER_BUDGET_STEP, BudgetCheck, budget_check, budget_commit
from .carts import cart_for
from .checks import CheckedLine, check_lines
from .fulfilment import order_release_to_fulfilment
from .payment import card_payment_take, new_payment_key
from .relief import Declaration, declaration_check
from .routing import routed_lines_price_for_fulfiller
from .stock import stock_reserve
from .transitions import order_log

OPEN_STATES = (
    OrderState.PENDING_APPROVAL, OrderState.APPROVED, OrderState.SUBMITTED, OrderState.ROUTED,
    OrderState.ACCEPTED_BY_DISTRIBUTOR, OrderState.ALLOCATED, OrderState.PARTLY_BACKORDERED,
    OrderState.SHIPPED,
)
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_PREFIX = {Workflow.RETAIL: "R", Workflow.INSTITUTIONAL: "P", Workflow.DISTRIBUTOR: "D"}


@dataclass(frozen=True)
class ReviewLine:
    cart_line_id: int
    site_id: int | None
    checked: CheckedLine

    @property
    def product(self):
        return self.checked.product

    @property
    def quantity(self) -> int:
        return self.checked.quantity

    @property
    def price(self):
        return self.checked.price

    @property
    def total(self) -> LineTotal | None:
        return self.checked.total

    @property
    def relief_eligible(self) -> bool:
        return self.product is not None and self.product.vat_category == VatCategory.RELIEF

    @property
    def distributor(self) -> tuple[int, str] | None:
        a = self.checked.availability
        return (a.distributor_id, a.distributor_name) if self.checked.routed else None


@dataclass(frozen=True)
class CheckoutReview:
    """What the buyer is about to order, priced and checked now."""

    workflow: CheckoutWorkflow
    lines: tuple[ReviewLine, ...]
    problems: tuple[str, ...]
    currency: str = "GBP"
    net: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    gross: Decimal = Decimal("0.00")
    price_token: str = ""
    relief: bool = False
    sites: dict = field(default_factory=dict)
    cart_id: int | None = None
    delivery_postcode: str = ""

    @property
    def relief_eligible(self) -> bool:
        return any(line.relief_eligible for line in self.lines)

    @property
    def routed_through(self) -> tuple[str, ...]:
        """Names of the distributors some lines go through (each on an order routed to it)."""
        return tuple(dict.fromkeys(r.distributor[1] for r in self.lines if r.distributor))

    @property
    def shown_total(self) -> Decimal:
        return self.net if self.workflow.name != Workflow.RETAIL else self.gross


def site_buyers(buyer: BuyerContext, site_ids) -> dict:
    """The buyer as seen from each delivery site (the site decides the territory)."""
    buyers = {buyer.site_id: buyer}
    for site_id in set(site_ids) - {buyer.site_id}:
        buyers[site_id] = resolve(
            buyer.user, organisation=buyer.organisation_id, site=site_id
        ).acting_as_of(buyer)
    return buyers


def _line_sites(buyer: BuyerContext, lines, line_sites) -> dict[int, int | None]:
    allowed = {site_id for site_id, _name, _postcode in buyer.sites}
    chosen = {}
    for line in lines:
        site_id = (line_sites or {}).get(line.pk) or buyer.site_id
        site_id = int(site_id) if site_id else None
        if site_id is not None and site_id not in allowed:
            raise OrderError("bad_site", "Choose one of your organisation's delivery sites.")
        chosen[line.pk] = site_id
    return chosen


def _token(lines, buyers) -> str:
    """A digest of what the buyer confirms: per line the product, quantity, delivery site and
    area, price and who fulfils it; a change of any of them (a new delivery address included)
    asks for a new confirmation."""
    facts = sorted(
        (line.checked.product_id, line.quantity, line.site_id or 0,
         buyers[line.site_id].postcode_area, (line.distributor or (0,))[0],
         str(line.price.unit_price), str(line.price.vat_rate), line.price.currency)
        for line in lines if line.price
    )
    return hashlib.sha256(repr(facts).encode()).hexdigest()[:24]


def delivered_buyer(buyer: BuyerContext, postcode: str | None) -> BuyerContext:
    """The buyer as delivered to `postcode` (the retail delivery address), or as it is when no
    address is known yet; an invalid postcode is an OrderError."""
    if not postcode:
        return buyer
    try:
        return buyer_for_delivery(buyer, postcode)
    except ValidationError as error:
        raise OrderError("bad_postcode", error.messages[0]) from None


@dataclass(frozen=True)
class OrderItem:
    """A line to order that is not in a cart (an API request): `pk` numbers it in the request
    and keys `line_sites`."""

    pk: int
    product_id: int
    quantity: int


def checkout_review(
    *, buyer: BuyerContext, relief: bool = False, contract_id: int | None = None,
    line_sites: dict | None = None, items: list[OrderItem] | None = None,
    delivery_postcode: str | None = None,
) -> CheckoutReview:
    """Check and price the buyer's cart (or the `items` given instead) now, each line for the
    territory it is delivered to: its site's, or the retail `delivery_postcode`'s once known."""
    buyer = delivered_buyer(buyer, delivery_postcode)
    workflow = workflow_for(buyer)
    if items is None:
        cart = cart_for(buyer=buyer)
        lines = list(CartLine.objects.filter(cart=cart).order_by("added_at", "id"))
    else:
        cart, lines = None, list(items)
    sites = _line_sites(buyer, lines, line_sites)
    by_site = defaultdict(dict)
    for line in lines:
        by_site[sites[line.pk]][line.product_id] = (
            by_site[sites[line.pk]].get(line.product_id, 0) + line.quantity
        )
    buyers = site_buyers(buyer, by_site)
    checked = {
        site_id: check_lines(buyers[site_id], quantities, relief=relief, contract_id=contract_id)
        for site_id, quantities in by_site.items()
    }
    reviewed = tuple(
        ReviewLine(line.pk, sites[line.pk], checked[sites[line.pk]][line.product_id])
        for line in lines
    )
    problems = tuple(dict.fromkeys(r.checked.problem for r in reviewed if not r.checked.ok))
    priced = [r for r in reviewed if r.total is not None]
    currencies = {r.price.currency for r in priced}
    if len(currencies) > 1:
        problems += ("These products are priced in different currencies: order them apart.",)
    return CheckoutReview(
        workflow=workflow, lines=reviewed, problems=problems,
        currency=next(iter(currencies), "GBP"),
        net=sum((r.total.net for r in priced), Decimal("0.00")),
        vat=sum((r.total.vat for r in priced), Decimal("0.00")),
        gross=sum((r.total.gross for r in priced), Decimal("0.00")),
        price_token=_token(reviewed, buyers), relief=relief,
        sites={sid: name for sid, name, _postcode in buyer.sites},
        cart_id=cart.pk if cart is not None else None,
        delivery_postcode=buyer.postcode if delivery_postcode else "",
    )


@dataclass(frozen=True)
class DeliveryAddress:
    name: str
    address: str
    postcode: str


@dataclass(frozen=True)
class InstitutionalDetails:
    po_number: str = ""
    cost_centre_id: int | None = None
    requested_delivery_date: datetime.date | None = None
    contract_id: int | None = None
    line_sites: dict = field(default_factory=dict)
    delivery_option: str = DeliveryOption.STANDARD


def _check_review(review: CheckoutReview, expected_token: str) -> None:
    if not review.lines:
        raise OrderError("empty_cart", "Your cart is empty.")
    if review.problems:
        raise OrderError("cart_problem", review.problems[0], review=review)
    if expected_token != review.price_token:
        raise OrderError(
            "price_changed",
            "Prices or availability changed since you reviewed your order. Check the new "
            "prices and confirm again.",
            review=review,
        )


def _check_institutional(buyer, workflow, details: InstitutionalDetails) -> CostCentre | None:
    required = workflow.required_fields
    po_number = details.po_number.strip()
    if "po_number" in required and not po_number:
        raise OrderError("po_required", "Enter your purchase order (PO) number.",
                         field="po_number")
    if po_number and Order.objects.filter(
        organisation_id=buyer.organisation_id, po_number=po_number, fulfiller__isnull=True
    ).exists():
        raise OrderError("po_used", f"PO number {po_number} was already used by your organisation.",
                         field="po_number")
    cost_centre = None
    if details.cost_centre_id:
        cost_centre = CostCentre.objects.filter(
            pk=details.cost_centre_id, organisation_id=buyer.organisation_id, is_active=True
        ).first()
        if cost_centre is None:
            raise OrderError("bad_cost_centre", "Choose one of your organisation's cost centres.",
                             field="cost_centre")
    elif "cost_centre" in required:
        raise OrderError("cost_centre_required", "Choose the cost centre to charge.",
                         field="cost_centre")
    date = details.requested_delivery_date
    if "requested_delivery_date" in required and date is None:
        raise OrderError("date_required", "Enter the delivery date you need.",
                         field="requested_delivery_date")
    if date is not None and date < timezone.localdate():
        raise OrderError("date_past", "The requested delivery date cannot be in the past.",
                         field="requested_delivery_date")
    applies = contracts_of(buyer=buyer).filter(pk=details.contract_id)
    if details.contract_id and not applies.exists():
        raise OrderError("bad_contract", "Choose one of your organisation's current contracts.",
                         field="contract")
    return cost_centre


def _check_credit(buyer: BuyerContext, amount: Decimal) -> None:
    """Payment on account: open orders plus this one stay within the credit limit (the
    organisation row is locked so two checkouts cannot both use the last of it)."""
    organisation = Organisation.objects.select_for_update().get(pk=buyer.organisation_id)
    open_total = Order.objects.filter(
        organisation_id=organisation.pk, state__in=OPEN_STATES,
        payment_method=PaymentMethod.ACCOUNT,
    ).aggregate(total=Sum("total_gross"))["total"] or Decimal("0.00")
    if open_total + amount > organisation.credit_limit:
        raise OrderError(
            "credit_limit",
            f"This order (£{amount}) would take your account past its credit limit "
            f"(£{organisation.credit_limit}, £{open_total} already open). Contact your "
            "account manager.",
        )


def _reserve(review_lines, backorders_accepted: bool) -> dict[int, int]:
    """Reserve stock for direct lines; returns units filled per cart line."""
    wanted = defaultdict(int)
    for line in review_lines:
        wanted[line.checked.product_id] += line.quantity
    reserved = stock_reserve(dict(wanted))
    if not backorders_accepted:
        short = [
            r for r in review_lines
            if reserved[r.checked.product_id] < wanted[r.checked.product_id]
        ]
        if short:
            left = reserved[short[0].checked.product_id]
            raise OrderError(
                "out_of_stock",
                f"Only {left} of {short[0].product.name} left in stock: lower the quantity.",
            )
    filled = {}
    for line in review_lines:
        take = min(line.quantity, reserved[line.checked.product_id])
        reserved[line.checked.product_id] -= take
        filled[line.cart_line_id] = take
    return filled


def _order_number(workflow: str) -> str:
    """"P26-7KQ4-M2XD": workflow, year, and 40 random bits in Crockford's base 32 — easy to read
    out on the phone, and saying nothing of how many orders anyone else placed."""
    digits = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"{NUMBER_PREFIX[workflow]}{timezone.localdate():%y}-{digits[:4]}-{digits[4:]}"


def _new_order(buyer, workflow, lines, *, fulfiller_id, payment, extra,
               over_budget=False) -> tuple[Order, tuple]:
    totals = [line.total for line in lines]
    net = sum((t.net for t in totals), Decimal("0.00"))
    vat = sum((t.vat for t in totals), Decimal("0.00"))
    chain = _chain(buyer, lines, net) if workflow.name != Workflow.RETAIL else ()
    if over_budget:
        chain = (*chain, OVER_BUDGET_STEP)
    if extra.get("payment_key"):
        state = OrderState.AWAITING_PAYMENT
    elif chain:
        state = OrderState.PENDING_APPROVAL
    else:
        state = OrderState.ROUTED if fulfiller_id else OrderState.SUBMITTED
    order = Order(
        number=_order_number(workflow.name), workflow=workflow.name, state=state,
        placed_by_id=buyer.user_id, api_key_id=buyer.api_key_id,
        organisation_id=buyer.organisation_id,
        customer_tier=buyer.customer_tier, site_id=buyer.site_id, fulfiller_id=fulfiller_id,
        currency=lines[0].price.currency, total_net=net, total_vat=vat, total_gross=net + vat,
        payment_method=payment, **extra,
    )
    order.save()
    return order, chain


def _order_lines(order, lines, filled, relief) -> list[OrderLine]:
    rows = []
    for line in lines:
        price, total = line.price, line.total
        got = filled.get(line.cart_line_id, 0)
        rows.append(OrderLine(
            order=order, product_id=line.checked.product_id, site_id=line.site_id,
            quantity=line.quantity, unit_price=price.unit_price, vat_rate=price.vat_rate,
            price_source=price.source, price_explanation=price.explanation[:250],
            price_list_code=price.price_list_code, contract_id=price.contract_id,
            unit_cost=line.product.cost_price, list_unit_price=price.list_unit_price,
            relief_applied=relief and line.relief_eligible,
            line_net=total.net, line_vat=total.vat, line_gross=total.gross,
            allocated_quantity=got,
            backordered_quantity=0 if order.fulfiller_id else line.quantity - got,
        ))
    if order.fulfiller_id:
        routed_lines_price_for_fulfiller(order=order, lines=rows)
    return OrderLine.objects.bulk_create(rows)


def _chain(buyer, lines, total):
    category_paths = [line.product.category.path for line in lines]
    return workflow_for(buyer, total=total, category_paths=category_paths).approval_chain


def _start(order, buyer, order_lines, chain) -> None:
    """Log the placement, then create the approval chain or release the order at once (a card
    order waits for its payment: `ordering.services.payment`)."""
    order_log(order=order, action=PLACE, from_state="", to_state=order.state,
              actor_buyer=buyer, roles={"placer"})
    if order.state == OrderState.AWAITING_PAYMENT:
        return
    if chain:
        ApprovalStep.objects.bulk_create(
            ApprovalStep(order=order, position=i, rule_name=s.rule_name,
                         approver_role=s.approver_role)
            for i, s in enumerate(chain, start=1)
        )
        notify(order.pk, "approval_requested")
        return
    if order.fulfiller_id:
        notify(order.pk, "routed")
    else:
        order_release_to_fulfilment(order=order, lines=order_lines)
    notify(order.pk, "confirmed")


def _place(buyer, review: CheckoutReview, *, payment, extra, relief=False,
           budget: BudgetCheck | None = None) -> list[Order]:
    """Reserve, create the orders and start them; commit their budget when within it. The cart
    is emptied, except for a card order, whose cart is kept until its payment is confirmed."""
    workflow = review.workflow
    over_budget = budget is not None and budget.over
    direct = [line for line in review.lines if line.distributor is None]
    routed = defaultdict(list)
    for line in review.lines:
        if line.distributor is not None:
            routed[line.distributor[0]].append(line)
    filled = _reserve(direct, workflow.backorders_accepted)
    orders = []
    for fulfiller_id, lines in [(None, direct), *routed.items()]:
        if not lines:
            continue
        order, chain = _new_order(buyer, workflow, lines, fulfiller_id=fulfiller_id,
                                  payment=payment, extra=extra, over_budget=over_budget)
        if budget is not None and budget.budget is not None and not over_budget:
            budget_commit(budget=budget.budget, orders=[order])
        _start(order, buyer, _order_lines(order, lines, filled, relief), chain)
        orders.append(order)
    if review.cart_id is not None and not extra.get("payment_key"):
        CartLine.objects.filter(cart_id=review.cart_id).delete()
    return orders


def _clean_declaration(declaration: Declaration | None, review: CheckoutReview) -> bool:
    """Whether the order carries VAT relief: a declaration was given for eligible lines and it
    passes the one declaration check (else an OrderError)."""
    if declaration is None or not review.relief_eligible:
        return False
    declaration_check(declaration)
    return True


def _clean_address(address: DeliveryAddress) -> DeliveryAddress:
    if not (address.name.strip() and address.address.strip()):
        raise OrderError("address_required", "Enter the name and address to deliver to.")
    try:
        postcode = str(parse_postcode(address.postcode))
    except ValidationError as error:
        raise OrderError("bad_postcode", error.messages[0]) from None
    return DeliveryAddress(address.name.strip(), address.address.strip(), postcode)


def delivery_options_for(level) -> list[str]:
    """The delivery options a buyer of this service level may choose: priority next-day is for
    concierge accounts only."""
    if level is not None and level.is_concierge:
        return [DeliveryOption.STANDARD, DeliveryOption.PRIORITY_NEXT_DAY]
    return [DeliveryOption.STANDARD]


def _service_extra(buyer: BuyerContext, delivery_option: str) -> dict:
    """The service tier stamped on the order and the delivery option, refused when the buyer's
    service level does not offer it."""
    level = service_level_for(buyer=buyer)
    if delivery_option not in delivery_options_for(level):
        raise OrderError("delivery_option_refused",
                         "Priority next-day delivery is for concierge accounts only.",
                         field="delivery_option")
    return {"service_tier": level.tier if level else "", "delivery_option": delivery_option}


def _require(buyer: BuyerContext, workflow: str) -> None:
    if buyer.workflow != workflow:
        raise OrderError("wrong_workflow", "This checkout is not available to you.")


def checkout_retail(
    *, buyer: BuyerContext, address: DeliveryAddress, card_number: str, expected_token: str,
    declaration: Declaration | None = None, delivery_option: str = DeliveryOption.STANDARD,
) -> Order:
    """Place a consumer's order and pay for it by card: the order is placed awaiting payment
    (stock reserved) and committed; the card is charged with no transaction open; then the
    order is confirmed, or released on a decline or failure (`ordering.services.payment`). An
    order whose payment is still pending is returned awaiting payment."""
    orders = retail_order_place(buyer=buyer, address=address, expected_token=expected_token,
                                declaration=declaration, delivery_option=delivery_option)
    return card_payment_take(orders=orders, card_number=card_number)[0]


def _relief_records(orders, review, declaration: Declaration) -> None:
    items = "\n".join(
        f"{line.product.sku} {line.product.name} — {line.product.vat_relief_item}"
        for line in review.lines if line.relief_eligible
    )
    for order in orders:
        record = ReliefDeclaration(
            order=order, full_name=declaration.full_name.strip(),
            address=declaration.address.strip(), condition=declaration.condition.strip(),
            signed_on_behalf=declaration.signed_on_behalf,
            signer_name=declaration.signer_name.strip() if declaration.signed_on_behalf else "",
            signer_relationship=(
                declaration.signer_relationship.strip() if declaration.signed_on_behalf else ""
            ),
            eligible_items=items, declared_at=timezone.now(),
        )
        record.full_clean(exclude=["order"])
        record.save()


@transaction.atomic
def retail_order_place(
    *, buyer: BuyerContext, address: DeliveryAddress, expected_token: str,
    declaration: Declaration | None = None, delivery_option: str = DeliveryOption.STANDARD,
) -> list[Order]:
    """The first half of a retail checkout: check everything, reserve the stock and place the
    order(s) awaiting payment under one new payment key, with the VAT-relief declaration the
    buyer gave for them. Every line is judged for the territory of the delivery address (a line
    under a distributor's exclusive right there goes on an order routed to it). The cart is kept
    until the payment is confirmed."""
    _require(buyer, Workflow.RETAIL)
    address = _clean_address(address)
    buyer = buyer_for_delivery(buyer, address.postcode)
    review = checkout_review(buyer=buyer, relief=declaration is not None)
    relief = _clean_declaration(declaration, review)
    if declaration is not None and not relief:
        review = checkout_review(buyer=buyer)
    _check_review(review, expected_token)
    extra = {"delivery_name": address.name, "delivery_address": address.address,
             "delivery_postcode": address.postcode, "payment_key": new_payment_key(),
             **_service_extra(buyer, delivery_option)}
    orders = _place(buyer, review, payment=PaymentMethod.CARD, extra=extra, relief=relief)
    if relief:
        _relief_records(orders, review, declaration)
    return orders


@transaction.atomic
def checkout_institutional(
    *, buyer: BuyerContext, details: InstitutionalDetails, expected_token: str,
    items: list[OrderItem] | None = None,
) -> list[Order]:
    """Place an organisation's order (or requisition): PO, cost centre, a delivery site per line,
    requested date, optional contract; paid on account within the credit limit; charged to the
    cost centre's budget (or sent to its budget holder when over it); approvals per the
    organisation's rules. The cart's lines, or `items` (an API order) instead."""
    if buyer.workflow not in (Workflow.INSTITUTIONAL, Workflow.DISTRIBUTOR):
        raise OrderError("wrong_workflow", "This checkout is not available to you.")
    review = checkout_review(buyer=buyer, contract_id=details.contract_id,
                             line_sites=details.line_sites, items=items)
    cost_centre = _check_institutional(buyer, review.workflow, details)
    _check_review(review, expected_token)
    _check_credit(buyer, review.gross)
    budget = budget_check(buyer=buyer, cost_centre=cost_centre, amount=review.net)
    extra = {
        "po_number": details.po_number.strip(), "cost_centre": cost_centre,
        "requested_delivery_date": details.requested_delivery_date,
        "contract_id": details.contract_id,
        **_service_extra(buyer, details.delivery_option),
    }
    return _place(buyer, review, payment=PaymentMethod.ACCOUNT, extra=extra, budget=budget)


def checkout_distributor(
    *, buyer: BuyerContext, details: InstitutionalDetails, expected_token: str,
    items: list[OrderItem] | None = None,
) -> list[Order]:
    """A distributor's bulk order: on account, backorders accepted."""
    _require(buyer, Workflow.DISTRIBUTOR)
    return checkout_institutional(buyer=buyer, details=details, expected_token=expected_token,
                                  items=items)
