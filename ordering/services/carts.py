"""Cart writes: the buyer's cart for their active organisation and delivery site, adding and
changing lines (each re-checked), and quick orders, saved lists and reorders that add many lines
or none."""

import csv
import io
from dataclasses import dataclass

from django.db import transaction

from catalog.models import Product
from segments.resolver import BuyerContext

from ..errors import OrderError
from ..models import Cart, CartLine, cart_scope_key
from .checks import check_lines

MAX_QUICK_ORDER_ROWS = 500


def cart_for(*, buyer: BuyerContext) -> Cart:
    """The buyer's cart for their active organisation and delivery site (created when needed)."""
    if buyer.user_id is None:
        raise OrderError("sign_in", "Sign in to use a cart.")
    key = cart_scope_key(buyer.user_id, buyer.organisation_id, buyer.site_id)
    cart = Cart.objects.filter(scope_key=key).first()
    if cart is None:
        cart = Cart(
            user_id=buyer.user_id, organisation_id=buyer.organisation_id, site_id=buyer.site_id
        )
        cart.full_clean()
        with transaction.atomic():
            cart, _ = Cart.objects.get_or_create(
                scope_key=key,
                defaults={"user_id": buyer.user_id, "organisation_id": buyer.organisation_id,
                          "site_id": buyer.site_id},
            )
    return cart


def _refuse_problems(checked) -> None:
    problems = [line for line in checked.values() if not line.ok]
    if problems:
        raise OrderError(problems[0].problem_code, problems[0].problem)


def positive_quantity(quantity) -> int:
    """A quantity typed by a buyer as a whole number of at least 1, or a clear refusal."""
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise OrderError("bad_quantity", "Enter a whole number of units.") from None
    if quantity < 1:
        raise OrderError("bad_quantity", "Enter a quantity of at least 1.")
    return quantity


@transaction.atomic
def cart_add(*, buyer: BuyerContext, product_id: int, quantity) -> CartLine:
    """Add `quantity` of a product (to any already in the cart), refusing with an OrderError when
    the product is not visible, not priced, not sold here or the total breaks a quantity rule."""
    quantity = positive_quantity(quantity)
    cart = cart_for(buyer=buyer)
    line = CartLine.objects.select_for_update().filter(cart=cart, product_id=product_id).first()
    total = quantity + (line.quantity if line else 0)
    _refuse_problems(check_lines(buyer, {int(product_id): total}))
    if line is None:
        line = CartLine(cart=cart, product_id=product_id, quantity=total)
    line.quantity = total
    line.full_clean(exclude=["cart", "product"])
    line.save()
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic
def cart_line_update(*, buyer: BuyerContext, line_id: int, quantity) -> CartLine | None:
    """Set a line's quantity (0 removes it), re-checked like an add."""
    cart = cart_for(buyer=buyer)
    line = CartLine.objects.select_for_update().filter(cart=cart, pk=line_id).first()
    if line is None:
        raise OrderError("no_line", "That line is no longer in your cart.")
    if str(quantity).strip() == "0":
        line.delete()
        return None
    line.quantity = positive_quantity(quantity)
    _refuse_problems(check_lines(buyer, {line.product_id: line.quantity}))
    line.save(update_fields=["quantity"])
    return line


def cart_line_remove(*, buyer: BuyerContext, line_id: int) -> None:
    CartLine.objects.filter(cart=cart_for(buyer=buyer), pk=line_id).delete()


@dataclass(frozen=True)
class QuickOrderRow:
    number: int
    sku: str
    quantity_text: str


def quick_order_rows_from_text(text: str) -> list[QuickOrderRow]:
    """Pasted lines of "SKU quantity" (separated by spaces, a tab, a comma or a semicolon)."""
    rows = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        parts = raw.replace(",", " ").replace(";", " ").split()
        if not parts:
            continue
        rows.append(QuickOrderRow(number, parts[0], " ".join(parts[1:])))
    return rows


def quick_order_rows_from_csv(data: bytes) -> list[QuickOrderRow]:
    """A CSV file with `sku` and `quantity` columns (a header row), or two columns without one."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OrderError("bad_file", "The file is not UTF-8 text: save it as CSV UTF-8.") from None
    records = list(csv.reader(io.StringIO(text)))
    if records and records[0] and records[0][0].strip().lower() == "sku":
        start, records = 2, records[1:]
    else:
        start = 1
    return [
        QuickOrderRow(number, (r[0] if r else "").strip(), (r[1] if len(r) > 1 else "").strip())
        for number, r in enumerate(records, start=start)
        if any(cell.strip() for cell in r)
    ]


def _parsed(rows) -> tuple[dict[str, int], dict[int, str], dict[str, int]]:
    """Quantities by SKU, row errors by row number, and the row number of each SKU."""
    quantities, errors, row_of = {}, {}, {}
    for row in rows:
        sku = row.sku.strip().upper()
        try:
            quantity = int(row.quantity_text)
        except ValueError:
            errors[row.number] = f"“{row.quantity_text or 'nothing'}” is not a whole number."
            continue
        if quantity < 1:
            errors[row.number] = "The quantity must be at least 1."
            continue
        quantities[sku] = quantities.get(sku, 0) + quantity
        row_of.setdefault(sku, row.number)
    return quantities, errors, row_of


def _locked_lines(cart: Cart, product_ids) -> dict[int, CartLine]:
    """The cart's lines of these products, locked until the transaction ends."""
    return {
        line.product_id: line
        for line in CartLine.objects.select_for_update().filter(
            cart=cart, product_id__in=list(product_ids)
        )
    }


def _write_lines(cart: Cart, existing: dict[int, CartLine], wanted: dict[int, int]) -> None:
    """Set each wanted product's cart quantity: existing lines updated, the others created."""
    new_lines = []
    for product_id, quantity in wanted.items():
        if product_id in existing:
            existing[product_id].quantity = quantity
        else:
            new_lines.append(CartLine(cart=cart, product_id=product_id, quantity=quantity))
    CartLine.objects.bulk_update(list(existing.values()), ["quantity"])
    CartLine.objects.bulk_create(new_lines)
    cart.save(update_fields=["updated_at"])


@transaction.atomic
def quick_order_add(*, buyer: BuyerContext, rows: list[QuickOrderRow]) -> int:
    """Add every row to the cart, or none: any bad row raises an OrderError whose `rows` maps row
    numbers to messages. Returns the number of lines added or changed."""
    if not rows:
        raise OrderError("empty", "Enter at least one line: a SKU and a quantity.")
    if len(rows) > MAX_QUICK_ORDER_ROWS:
        raise OrderError("too_many", f"Send at most {MAX_QUICK_ORDER_ROWS} rows at a time.")
    quantities, errors, row_of = _parsed(rows)
    ids = dict(Product.objects.filter(sku__in=list(quantities)).values_list("sku", "pk"))
    cart = cart_for(buyer=buyer)
    existing = _locked_lines(cart, ids.values())
    wanted = {}
    for sku, quantity in quantities.items():
        if sku not in ids:
            errors[row_of[sku]] = f"{sku}: no product has this SKU."
            continue
        line = existing.get(ids[sku])
        wanted[ids[sku]] = quantity + (line.quantity if line else 0)
    sku_of = {pid: sku for sku, pid in ids.items()}
    for product_id, checked in check_lines(buyer, wanted).items():
        if not checked.ok:
            message = checked.problem
            if checked.problem_code == "not_visible":
                message = f"{sku_of[product_id]}: no product has this SKU for you."
            elif checked.product is None:
                message = f"{sku_of[product_id]}: {checked.problem}"
            errors[row_of[sku_of[product_id]]] = message
    if errors:
        raise OrderError(
            "bad_rows", f"{len(errors)} row(s) need correcting; nothing was added.",
            rows=dict(sorted(errors.items())),
        )
    _write_lines(cart, existing, wanted)
    return len(wanted)


@transaction.atomic
def cart_add_products(
    *, buyer: BuyerContext, quantities: dict[int, int], labels: dict[int, str]
) -> int:
    """Add each product's quantity (product id → units) to the cart, on top of any already there:
    every line or none. The totals are checked as a quick order's are; a refused line raises an
    OrderError whose `rows` map product id → message; a product the buyer may no longer see has
    no catalogue name for them, so it is named by its label in `labels` (the caller's SKU).
    Returns the number of lines added or changed."""
    if not quantities:
        raise OrderError("empty", "There is nothing to add to your cart.")
    if len(quantities) > MAX_QUICK_ORDER_ROWS:
        raise OrderError("too_many", f"Add at most {MAX_QUICK_ORDER_ROWS} products at a time.")
    quantities = {int(pid): positive_quantity(q) for pid, q in quantities.items()}
    cart = cart_for(buyer=buyer)
    existing = _locked_lines(cart, quantities)
    wanted = {
        pid: q + (existing[pid].quantity if pid in existing else 0)
        for pid, q in quantities.items()
    }
    errors = {}
    for product_id, checked in check_lines(buyer, wanted).items():
        if checked.ok:
            continue
        errors[product_id] = checked.problem
        if checked.product is None:
            label = labels.get(product_id, f"Product {product_id}")
            errors[product_id] = (
                f"{label}: this product is no longer available to you."
                if checked.problem_code == "not_visible" else f"{label}: {checked.problem}"
            )
    if errors:
        raise OrderError(
            "bad_lines", f"{len(errors)} line(s) cannot be added; nothing was added to your cart.",
            rows=errors,
        )
    _write_lines(cart, existing, wanted)
    return len(wanted)
