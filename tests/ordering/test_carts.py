"""Carts: one per (user, organisation, site); every add re-asks visibility, price, quantity rules
and territory; quick orders add every row or none."""

import pytest

from ordering.errors import OrderError
from ordering.models import Cart, CartLine
from ordering.services.carts import (
    cart_add,
    cart_for,
    quick_order_add,
    quick_order_rows_from_csv,
    quick_order_rows_from_text,
)
from tests.catalog.factories import ProductFactory


def test_a_cart_is_kept_per_user_organisation_and_delivery_site(world):
    at_ward_a = world.buyer("buyer", site=world.ward_a)
    at_ward_b = world.buyer("buyer", site=world.ward_b)

    cart_add(buyer=at_ward_a, product_id=world.dressing.pk, quantity=2)
    cart_add(buyer=at_ward_b, product_id=world.dressing.pk, quantity=3)
    cart_add(buyer=at_ward_a, product_id=world.dressing.pk, quantity=1)

    assert Cart.objects.count() == 2
    assert cart_for(buyer=at_ward_a).lines.get().quantity == 3
    assert cart_for(buyer=at_ward_b).lines.get().quantity == 3


@pytest.mark.parametrize(("quantity", "code", "words"), [
    (3, "not_a_multiple", "multiples of 5"),
    (505, "above_maximum", "maximum order is 500"),
])
def test_quantity_rules_of_the_price_list_are_enforced_with_a_clear_message(
    world, quantity, code, words
):
    with pytest.raises(OrderError) as refused:
        cart_add(buyer=world.buyer("buyer"), product_id=world.gloves.pk, quantity=quantity)

    assert refused.value.code == code
    assert words in refused.value.message
    assert not CartLine.objects.exists()


def test_a_product_outside_the_buyers_catalogue_cannot_be_added(world):
    hidden = ProductFactory()

    with pytest.raises(OrderError) as refused:
        cart_add(buyer=world.buyer("buyer"), product_id=hidden.pk, quantity=1)

    assert refused.value.code == "not_visible"
    assert not CartLine.objects.exists()


def test_a_quick_order_adds_every_pasted_line(world):
    buyer = world.buyer("distributor")
    rows = quick_order_rows_from_text("WC-10001 20\nGL-30001\t10\n\nwc-10001, 5")

    added = quick_order_add(buyer=buyer, rows=rows)

    assert added == 2
    lines = {line.product.sku: line.quantity for line in cart_for(buyer=buyer).lines.all()}
    assert lines == {"WC-10001": 25, "GL-30001": 10}


def test_a_quick_order_with_one_bad_row_adds_nothing_and_names_each_bad_row(world):
    buyer = world.buyer("distributor")
    hidden = ProductFactory(sku="XX-99999")
    data = (
        "sku,quantity\nWC-10001,20\nNOPE-1,4\nGL-30001,7\nWC-10001,many\n"
        f"{hidden.sku},1\n"
    ).encode()

    with pytest.raises(OrderError) as refused:
        quick_order_add(buyer=buyer, rows=quick_order_rows_from_csv(data))

    rows = refused.value.rows
    assert set(rows) == {3, 4, 5, 6}
    assert "no product has this SKU" in rows[3]
    assert "multiples of 5" in rows[4]
    assert "not a whole number" in rows[5]
    assert "no product has this SKU" in rows[6]
    assert not CartLine.objects.exists()
