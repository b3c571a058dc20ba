"""Requisition lists and reorders: named lists of products and quantities a buyer keeps for the
active organisation (shared with colleagues, who may use but not change them), and the way back
from a list or a past order to the cart — through the cart's own checks, every line or none, at
today's prices. One transaction per call; only the owner changes a list."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from catalog.selectors import visible_products
from pricing.engine import LineTotal
from segments.resolver import BuyerContext

from ..errors import OrderError
from ..models import CartLine, OrderLine, RequisitionList, RequisitionListLine
from ..selectors import may_order, orders_for, own_requisition_lists, requisition_lists_for
from .carts import MAX_QUICK_ORDER_ROWS, cart_add_products, cart_for, positive_quantity
from .checks import CheckedLine, check_lines

MAX_LIST_LINES = MAX_QUICK_ORDER_ROWS
NAME_LENGTH = RequisitionList._meta.get_field("name").max_length
# Checked when the list goes to a cart, for the delivery site of that moment: a list serves
# every ward of the organisation, so a line is not refused for the territory of one of them.
SITE_DEPENDENT_PROBLEMS = {"unavailable"}


def _require_may_order(buyer: BuyerContext) -> None:
    if not may_order(buyer):
        where = f" at {buyer.organisation_name}" if buyer.organisation_name else ""
        raise OrderError(
            "forbidden", f"Your role{where} does not let you order: ask a buyer or requisitioner."
        )


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise OrderError("name_required", "Give the list a name.")
    if len(name) > NAME_LENGTH:
        raise OrderError("name_too_long", f"Keep the name to {NAME_LENGTH} characters.")
    return name


def _check_name_free(buyer: BuyerContext, name: str, *, except_id: int | None = None) -> None:
    """Names are unique per owner and organisation. The owner's row is locked first so two
    requests cannot both take a name (the database constraint cannot see a consumer's lists,
    whose organisation is NULL)."""
    User.objects.select_for_update().filter(pk=buyer.user_id).values_list("pk").first()
    taken = own_requisition_lists(buyer).filter(name__iexact=name)
    if except_id is not None:
        taken = taken.exclude(pk=except_id)
    if taken.exists():
        raise OrderError("name_taken", f"You already have a list called “{name}”.")


def _saved(instance, *, exclude=()):
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        raise OrderError("invalid", error.messages[0]) from None
    instance.save()
    return instance


def _own_list(buyer: BuyerContext, list_id) -> RequisitionList:
    """The buyer's own list, locked; a colleague's shared list is refused, any other is unknown."""
    _require_may_order(buyer)
    found = own_requisition_lists(buyer).select_for_update().filter(pk=list_id).first()
    if found is not None:
        return found
    if requisition_lists_for(buyer).filter(pk=list_id).exists():
        raise OrderError("not_owner", "Only the list's owner can change it: you may use it.")
    raise OrderError("no_list", "There is no such list.")


def _touch(requisition_list: RequisitionList) -> None:
    requisition_list.save(update_fields=["updated_at"])


# Lists -------------------------------------------------------------------------------------


@transaction.atomic
def requisition_list_create(
    *, buyer: BuyerContext, name: str, shared: bool = False
) -> RequisitionList:
    """A new, empty list of the buyer for their active organisation."""
    _require_may_order(buyer)
    name = _clean_name(name)
    if shared and buyer.organisation_id is None:
        raise OrderError("not_shareable", "Only an organisation's lists can be shared.")
    _check_name_free(buyer, name)
    return _saved(
        RequisitionList(owner_id=buyer.user_id, organisation_id=buyer.organisation_id,
                        name=name, shared=bool(shared)),
        exclude=["owner", "organisation"],
    )


@transaction.atomic
def requisition_list_rename(*, buyer: BuyerContext, list_id: int, name: str) -> RequisitionList:
    requisition_list = _own_list(buyer, list_id)
    name = _clean_name(name)
    _check_name_free(buyer, name, except_id=requisition_list.pk)
    requisition_list.name = name
    return _saved(requisition_list, exclude=["owner", "organisation"])


@transaction.atomic
def requisition_list_share(*, buyer: BuyerContext, list_id: int, shared: bool) -> RequisitionList:
    """Share the list with the organisation's colleagues (they may use it, not change it), or
    stop sharing it."""
    requisition_list = _own_list(buyer, list_id)
    if shared and requisition_list.organisation_id is None:
        raise OrderError("not_shareable", "Only an organisation's lists can be shared.")
    requisition_list.shared = bool(shared)
    requisition_list.save(update_fields=["shared", "updated_at"])
    return requisition_list


@transaction.atomic
def requisition_list_delete(*, buyer: BuyerContext, list_id: int) -> None:
    _own_list(buyer, list_id).delete()


@transaction.atomic
def requisition_list_from_cart(
    *, buyer: BuyerContext, name: str = "", list_id: int | None = None, shared: bool = False
) -> RequisitionList:
    """Save the buyer's current cart as a list: a new list called `name`, or (with `list_id`)
    the lines of one of their lists replaced by the cart's. The cart itself is left as it is."""
    _require_may_order(buyer)
    cart = cart_for(buyer=buyer)
    quantities = dict(
        CartLine.objects.filter(cart=cart).order_by("added_at", "id")
        .values_list("product_id", "quantity")
    )
    if not quantities:
        raise OrderError("empty_cart", "Your cart is empty: there is nothing to save.")
    if len(quantities) > MAX_LIST_LINES:
        raise OrderError("too_many", f"A list holds at most {MAX_LIST_LINES} lines.")
    if list_id:
        requisition_list = _own_list(buyer, list_id)
        requisition_list.lines.all().delete()
        _touch(requisition_list)
    else:
        requisition_list = requisition_list_create(buyer=buyer, name=name, shared=shared)
    RequisitionListLine.objects.bulk_create(
        RequisitionListLine(requisition_list=requisition_list, product_id=pid, quantity=quantity)
        for pid, quantity in quantities.items()
    )
    return requisition_list


# Lines -------------------------------------------------------------------------------------


@transaction.atomic
def requisition_list_line_add(
    *, buyer: BuyerContext, list_id: int, sku: str, quantity
) -> RequisitionListLine:
    """Add `quantity` of the product with this SKU (to any already on the list). The product must
    be one the buyer may see and buy in that quantity; where it may be delivered is asked when
    the list goes to a cart."""
    requisition_list = _own_list(buyer, list_id)
    quantity = positive_quantity(quantity)
    sku = str(sku or "").strip().upper()
    product = visible_products(buyer).filter(sku=sku).only("pk").first() if sku else None
    if product is None:
        raise OrderError("not_visible", f"{sku or 'That'}: no product has this SKU for you.")
    line = requisition_list.lines.select_for_update().filter(product_id=product.pk).first()
    if line is None and requisition_list.lines.count() >= MAX_LIST_LINES:
        raise OrderError("too_many", f"A list holds at most {MAX_LIST_LINES} lines.")
    total = quantity + (line.quantity if line else 0)
    checked = check_lines(buyer, {product.pk: total})[product.pk]
    if not checked.ok and checked.problem_code not in SITE_DEPENDENT_PROBLEMS:
        raise OrderError(checked.problem_code, checked.problem)
    line = line or RequisitionListLine(requisition_list=requisition_list, product=product)
    line.quantity = total
    _saved(line, exclude=["requisition_list", "product"])
    _touch(requisition_list)
    return line


@transaction.atomic
def requisition_list_line_update(
    *, buyer: BuyerContext, list_id: int, line_id: int, quantity
) -> RequisitionListLine | None:
    """Set a line's quantity; 0 removes the line."""
    requisition_list = _own_list(buyer, list_id)
    line = requisition_list.lines.select_for_update().filter(pk=line_id).first()
    if line is None:
        raise OrderError("no_line", "That line is no longer on the list.")
    if str(quantity).strip() == "0":
        line.delete()
        _touch(requisition_list)
        return None
    line.quantity = positive_quantity(quantity)
    checked = check_lines(buyer, {line.product_id: line.quantity})[line.product_id]
    if checked.problem_code not in ("", "not_visible", *SITE_DEPENDENT_PROBLEMS):
        raise OrderError(checked.problem_code, checked.problem)
    line.save(update_fields=["quantity"])
    _touch(requisition_list)
    return line


@transaction.atomic
def requisition_list_line_remove(*, buyer: BuyerContext, list_id: int, line_id: int) -> None:
    requisition_list = _own_list(buyer, list_id)
    requisition_list.lines.filter(pk=line_id).delete()
    _touch(requisition_list)


# Shown and used ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListLineReview:
    """A list line as it stands today for this buyer: price, quantity rules and availability."""

    line: RequisitionListLine
    checked: CheckedLine

    @property
    def product(self):
        return self.line.product

    @property
    def quantity(self) -> int:
        return self.line.quantity

    @property
    def price(self):
        return self.checked.price

    @property
    def total(self) -> LineTotal | None:
        return self.checked.total

    @property
    def problem(self) -> str:
        if self.checked.problem_code == "not_visible":
            return "No longer available to you."
        return self.checked.problem

    @property
    def distributor(self) -> str:
        return self.checked.availability.distributor_name if self.checked.routed else ""


@dataclass(frozen=True)
class RequisitionListReview:
    requisition_list: RequisitionList
    lines: tuple[ListLineReview, ...]
    editable: bool
    usable: bool
    currency: str = "GBP"
    net: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    gross: Decimal = Decimal("0.00")

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(line.problem for line in self.lines if line.problem)


def requisition_list_review(
    *, buyer: BuyerContext, requisition_list: RequisitionList
) -> RequisitionListReview:
    """The list's lines priced and checked now for the buyer and their delivery site, with the
    cart's own checks (a fixed number of queries per distinct quantity). `requisition_list`
    comes from `selectors.requisition_list_for`, with its lines prefetched."""
    lines = list(requisition_list.lines.all())
    checked = check_lines(buyer, {line.product_id: line.quantity for line in lines})
    reviewed = tuple(ListLineReview(line, checked[line.product_id]) for line in lines)
    priced = [r for r in reviewed if r.total is not None]
    return RequisitionListReview(
        requisition_list=requisition_list, lines=reviewed,
        editable=requisition_list.owner_id == buyer.user_id and may_order(buyer),
        usable=may_order(buyer),
        currency=priced[0].price.currency if priced else "GBP",
        net=sum((r.total.net for r in priced), Decimal("0.00")),
        vat=sum((r.total.vat for r in priced), Decimal("0.00")),
        gross=sum((r.total.gross for r in priced), Decimal("0.00")),
    )


@transaction.atomic
def requisition_list_to_cart(*, buyer: BuyerContext, list_id: int) -> int:
    """Add every line of a list the buyer may use (their own or a colleague's shared one) to
    their cart, through the cart's checks: every line or none. A refused line raises an
    OrderError whose `rows` map product id → message. Returns the number of cart lines added or
    changed."""
    _require_may_order(buyer)
    requisition_list = requisition_lists_for(buyer).filter(pk=list_id).first()
    if requisition_list is None:
        raise OrderError("no_list", "There is no such list.")
    lines = list(requisition_list.lines.select_related("product").only(
        "product_id", "quantity", "product__sku"
    ))
    if not lines:
        raise OrderError("empty_list", "This list has no lines yet.")
    try:
        return cart_add_products(
            buyer=buyer, quantities={line.product_id: line.quantity for line in lines},
            labels={line.product_id: line.product.sku for line in lines},
        )
    except OrderError as error:
        if error.code != "bad_lines":
            raise
        raise OrderError(
            error.code,
            f"{len(error.rows)} line(s) of “{requisition_list.name}” cannot be ordered now; "
            "nothing was added to your cart.",
            rows=error.rows,
        ) from None


@transaction.atomic
def order_reorder(*, buyer: BuyerContext, number: str) -> int:
    """Add the products and quantities of a past order the buyer may see to their cart, through
    the cart's checks (every line or none), at today's prices: the order's own prices are
    history. A refused line raises an OrderError whose `rows` map product id → message."""
    _require_may_order(buyer)
    order = orders_for(buyer).filter(number=number).only("pk", "number").first()
    if order is None:
        raise OrderError("no_order", "There is no such order.")
    quantities, labels = defaultdict(int), {}
    for line in OrderLine.objects.filter(order=order).select_related("product").only(
        "product_id", "quantity", "product__sku"
    ):
        quantities[line.product_id] += line.quantity
        labels[line.product_id] = line.product.sku
    try:
        return cart_add_products(buyer=buyer, quantities=dict(quantities), labels=labels)
    except OrderError as error:
        if error.code != "bad_lines":
            raise
        raise OrderError(
            error.code,
            f"{len(error.rows)} line(s) of order {order.number} cannot be ordered now; nothing "
            "was added to your cart.",
            rows=error.rows,
        ) from None
