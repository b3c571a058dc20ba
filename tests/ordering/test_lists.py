"""Requisition lists: each buyer sees and uses only their own lists and their colleagues' shared
ones (anything else is 404, POSTs included), only the owner changes a list, and a list goes to
the cart through the cart's own checks — every line or none."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ordering.errors import OrderError
from ordering.models import CartLine, RequisitionList, RequisitionListLine
from ordering.services.carts import cart_add, cart_for
from ordering.services.lists import (
    requisition_list_create,
    requisition_list_from_cart,
    requisition_list_line_add,
    requisition_list_rename,
    requisition_list_share,
    requisition_list_to_cart,
)
from segments.resolver import resolve
from territories.lookup import region_for_area
from tests.catalog.factories import ProductFactory
from tests.factories import MembershipFactory, UserFactory
from tests.pricing.conftest import price
from tests.territories.conftest import distributor, grant, restrict

EDITS = [
    ("requisition_list_add", {"sku": "WC-10001", "quantity": "5"}),
    ("requisition_list_rename", {"name": "Taken over"}),
    ("requisition_list_share", {"shared": "no"}),
    ("requisition_list_delete", {}),
]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _list(world, who, name, lines=(), *, shared=False):
    buyer = world.buyer(who)
    made = requisition_list_create(buyer=buyer, name=name, shared=shared)
    for sku, quantity in lines:
        requisition_list_line_add(buyer=buyer, list_id=made.pk, sku=sku, quantity=quantity)
    return made


def _snapshot():
    return (
        sorted(RequisitionList.objects.values_list("pk", "name", "shared", "owner_id")),
        sorted(RequisitionListLine.objects.values_list("pk", "product_id", "quantity")),
        sorted(CartLine.objects.values_list("cart__user_id", "product_id", "quantity")),
    )


# Who sees what ---------------------------------------------------------------------------------


def test_two_buyers_of_different_organisations_each_see_only_their_own_lists(world):
    ward = _list(world, "buyer", "Florence Ward top-up", [("WC-10001", 20)], shared=True)
    depot = _list(world, "distributor", "Depot restock", [("GL-30001", 50)])

    trust_page = _client(world.user("buyer")).get(reverse("requisition_lists")).content.decode()
    depot_page = _client(world.user("distributor")).get(
        reverse("requisition_lists")
    ).content.decode()

    assert ward.name in trust_page and depot.name not in trust_page
    assert depot.name in depot_page and ward.name not in depot_page


@pytest.mark.parametrize(("name", "data"), [
    ("requisition_list", None),
    ("requisition_list_to_cart", {}),
    *EDITS,
])
def test_another_organisations_list_is_not_found_and_a_post_changes_nothing(world, name, data):
    shared = _list(world, "buyer", "Florence Ward top-up", [("WC-10001", 20)], shared=True)
    before = _snapshot()
    client = _client(world.user("distributor"))

    url = reverse(name, args=[shared.pk])
    response = client.get(url) if data is None else client.post(url, data)

    assert response.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize(("name", "data"), [("requisition_list", None), *EDITS])
def test_a_colleagues_unshared_list_is_not_found(world, name, data):
    private = _list(world, "buyer", "My own list", [("WC-10001", 20)])
    before = _snapshot()
    client = _client(world.user("requisitioner"))

    url = reverse(name, args=[private.pk])
    response = client.get(url) if data is None else client.post(url, data)

    assert response.status_code == 404
    assert _snapshot() == before
    assert private.name not in client.get(reverse("requisition_lists")).content.decode()


def test_a_line_posted_to_another_buyers_list_is_not_found(world):
    theirs = _list(world, "distributor", "Depot restock", [("GL-30001", 50)])
    line = theirs.lines.get()

    response = _client(world.user("buyer")).post(
        reverse("requisition_list_line", args=[theirs.pk, line.pk]), {"quantity": "0"}
    )

    assert response.status_code == 404
    assert RequisitionListLine.objects.filter(pk=line.pk, quantity=50).exists()


def test_a_consumers_list_is_never_visible_to_anyone_else_even_marked_shared(world):
    own = _list(world, "patient", "Supplies for Mum", [("MA-20001", 1)])
    RequisitionList.objects.filter(pk=own.pk).update(shared=True)  # not possible through services
    other = UserFactory(email="other.patient@ordering.test", postcode="SE5 9RS")

    mine = _client(world.user("patient")).get(reverse("requisition_lists")).content.decode()
    response = _client(other).get(reverse("requisition_list", args=[own.pk]))

    assert own.name in mine
    assert response.status_code == 404
    with pytest.raises(OrderError) as refused:
        requisition_list_share(buyer=world.buyer("patient"), list_id=own.pk, shared=True)
    assert refused.value.code == "not_shareable"


def test_lists_belong_to_the_active_organisation_of_a_buyer_in_two(world):
    second = MembershipFactory(user=world.user("buyer"), is_buyer=True)
    at_trust = world.buyer("buyer")
    second_buyer = resolve(world.user("buyer"), organisation=second.organisation_id)
    made = requisition_list_create(buyer=at_trust, name="Ward list")
    at_second = requisition_list_create(buyer=second_buyer, name="Ward list")

    assert made.organisation_id == world.trust.pk
    assert at_second.organisation_id == second.organisation_id
    with pytest.raises(OrderError) as refused:
        requisition_list_to_cart(buyer=second_buyer, list_id=made.pk)
    assert refused.value.code == "no_list"


# Owners and colleagues -------------------------------------------------------------------------


def test_a_shared_list_is_usable_but_not_editable_by_a_colleague(world):
    shared = _list(world, "buyer", "Florence Ward top-up", [("WC-10001", 20)], shared=True)
    client = _client(world.user("requisitioner"))
    page = client.get(reverse("requisition_list", args=[shared.pk])).content.decode()
    before = _snapshot()

    for name, data in EDITS:
        response = client.post(reverse(name, args=[shared.pk]), data)
        assert response.status_code in {302, 422}, name
    line = shared.lines.get()
    client.post(reverse("requisition_list_line", args=[shared.pk, line.pk]), {"quantity": "1"})

    assert "Add all to cart" in page and "Rename" not in page and "Delete list" not in page
    assert _snapshot() == before
    with pytest.raises(OrderError) as refused:
        requisition_list_rename(buyer=world.buyer("requisitioner"), list_id=shared.pk, name="X")
    assert refused.value.code == "not_owner"
    response = client.post(reverse("requisition_list_to_cart", args=[shared.pk]))
    assert response.status_code == 302
    cart = cart_for(buyer=world.buyer("requisitioner"))
    assert {(line.product_id, line.quantity) for line in cart.lines.all()} == {
        (world.dressing.pk, 20)
    }


def test_the_owner_renames_shares_changes_and_deletes_through_the_pages(world):
    made = _list(world, "buyer", "Florence Ward", [("WC-10001", 20)])
    client = _client(world.user("buyer"))

    client.post(reverse("requisition_list_add", args=[made.pk]), {"sku": "gl-30001",
                                                                   "quantity": "10"})
    client.post(reverse("requisition_list_add", args=[made.pk]), {"sku": "WC-10001",
                                                                   "quantity": "5"})
    client.post(reverse("requisition_list_rename", args=[made.pk]), {"name": "Florence weekly"})
    client.post(reverse("requisition_list_share", args=[made.pk]), {"shared": "yes"})

    made.refresh_from_db()
    assert (made.name, made.shared) == ("Florence weekly", True)
    assert dict(made.lines.values_list("product__sku", "quantity")) == {
        "WC-10001": 25, "GL-30001": 10,
    }
    line = made.lines.get(product=world.gloves)
    client.post(reverse("requisition_list_line", args=[made.pk, line.pk]), {"quantity": "0"})
    assert not made.lines.filter(pk=line.pk).exists()
    response = client.post(reverse("requisition_list_delete", args=[made.pk]))
    assert response.url == reverse("requisition_lists")
    assert not RequisitionList.objects.filter(pk=made.pk).exists()


def test_a_role_that_may_not_order_keeps_no_lists(world):
    client = _client(world.user("approver"))

    page = client.get(reverse("requisition_lists")).content.decode()
    response = client.post(reverse("requisition_lists"), {"name": "Approver list"})

    assert "Create list" not in page
    assert response.status_code == 422
    assert not RequisitionList.objects.exists()


# Names and lines ------------------------------------------------------------------------------


def test_a_name_is_required_and_unique_per_owner_and_organisation(world):
    _list(world, "buyer", "Theatre restock")
    _list(world, "requisitioner", "Theatre restock")  # a colleague may use the same name
    _list(world, "patient", "Theatre restock")

    for name, code in (("  ", "name_required"), ("theatre RESTOCK", "name_taken"),
                       ("x" * 81, "name_too_long")):
        with pytest.raises(OrderError) as refused:
            requisition_list_create(buyer=world.buyer("buyer"), name=name)
        assert refused.value.code == code
    with pytest.raises(OrderError) as refused:
        requisition_list_create(buyer=world.buyer("patient"), name="Theatre Restock")
    assert refused.value.code == "name_taken"
    response = _client(world.user("buyer")).post(reverse("requisition_lists"),
                                                 {"name": "Theatre restock"})
    assert response.status_code == 422 and "already have a list" in response.content.decode()
    assert RequisitionList.objects.count() == 3


@pytest.mark.parametrize(("sku", "quantity", "code"), [
    ("XX-99999", 1, "not_visible"),
    ("NOPE-1", 1, "not_visible"),
    ("GL-30001", 3, "not_a_multiple"),
    ("GL-30001", 505, "above_maximum"),
    ("WC-10001", 0, "bad_quantity"),
    ("WC-10001", "lots", "bad_quantity"),
])
def test_a_line_the_buyer_may_not_order_is_not_added_to_a_list(world, sku, quantity, code):
    ProductFactory(sku="XX-99999")  # exists, outside the buyer's catalogue
    made = _list(world, "buyer", "Ward list")

    with pytest.raises(OrderError) as refused:
        requisition_list_line_add(buyer=world.buyer("buyer"), list_id=made.pk, sku=sku,
                                  quantity=quantity)

    assert refused.value.code == code
    assert not made.lines.exists()


def test_the_cart_is_saved_as_a_new_list_or_over_an_own_list(world):
    buyer = world.buyer("buyer")
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=20)
    cart_add(buyer=buyer, product_id=world.gloves.pk, quantity=10)
    old = _list(world, "buyer", "Old list", [("MA-20001", 2)])
    client = _client(world.user("buyer"))

    assert "Save cart as list" in client.get(reverse("cart")).content.decode()
    client.post(reverse("cart_save_as_list"), {"name": "From the cart"})
    client.post(reverse("cart_save_as_list"), {"replace": str(old.pk)})

    new = RequisitionList.objects.get(name="From the cart")
    expected = {"WC-10001": 20, "GL-30001": 10}
    assert dict(new.lines.values_list("product__sku", "quantity")) == expected
    assert dict(old.lines.values_list("product__sku", "quantity")) == expected
    assert cart_for(buyer=buyer).lines.count() == 2
    with pytest.raises(OrderError) as refused:
        requisition_list_from_cart(buyer=world.buyer("distributor"), name="Nothing")
    assert refused.value.code == "empty_cart"


def test_another_buyers_list_cannot_be_replaced_by_a_cart(world):
    theirs = _list(world, "distributor", "Depot restock", [("GL-30001", 50)])
    cart_add(buyer=world.buyer("buyer"), product_id=world.dressing.pk, quantity=20)

    response = _client(world.user("buyer")).post(reverse("cart_save_as_list"),
                                                 {"replace": str(theirs.pk)})

    assert response.status_code == 302
    assert dict(theirs.lines.values_list("product__sku", "quantity")) == {"GL-30001": 50}
    with pytest.raises(OrderError) as refused:
        requisition_list_from_cart(buyer=world.buyer("buyer"), list_id=theirs.pk)
    assert refused.value.code == "no_list"


# To the cart ----------------------------------------------------------------------------------


def test_a_list_goes_to_the_cart_on_top_of_what_is_there(world):
    made = _list(world, "buyer", "Ward list", [("WC-10001", 20), ("GL-30001", 10)])
    buyer = world.buyer("buyer")
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=5)

    added = requisition_list_to_cart(buyer=buyer, list_id=made.pk)

    assert added == 2
    lines = {line.product.sku: line.quantity for line in cart_for(buyer=buyer).lines.all()}
    assert lines == {"WC-10001": 25, "GL-30001": 10}


def test_a_list_with_a_line_the_buyer_may_no_longer_buy_adds_nothing_and_names_each_line(world):
    made = _list(world, "distributor", "Depot restock",
                 [("WC-10001", 20), ("GL-30001", 10), ("MA-20001", 4)])
    buyer = world.buyer("distributor")
    cart_add(buyer=buyer, product_id=world.gloves.pk, quantity=495)  # 495 + 10 > maximum 500
    world.frame.is_active = False  # withdrawn from sale since the list was made
    world.frame.save()
    restrict(region_for_area("M"), product=world.dressing)  # no longer sold in the North West
    before = _snapshot()

    with pytest.raises(OrderError) as refused:
        requisition_list_to_cart(buyer=buyer, list_id=made.pk)
    response = _client(world.user("distributor")).post(
        reverse("requisition_list_to_cart", args=[made.pk])
    )

    rows = refused.value.rows
    assert set(rows) == {world.dressing.pk, world.gloves.pk, world.frame.pk}
    assert rows[world.dressing.pk] == (
        "WC-10001: This product is not sold for delivery to M1 1AE: Not registered for sale in "
        "North West.")
    assert "maximum order is 500" in rows[world.gloves.pk]
    assert rows[world.frame.pk] == "MA-20001: this product is no longer available to you."
    assert _snapshot() == before
    page = response.content.decode()
    assert response.status_code == 422
    assert "nothing was added to your cart" in page and "maximum order is 500" in page


def test_a_line_bought_only_through_a_distributor_goes_to_the_cart_as_a_routed_line(world):
    rival = distributor("Solent Test Supplies", postcode="SO15 1AA")
    made = _list(world, "buyer", "Ward list", [("WC-10001", 20)])
    grant(rival, region_for_area("SE"), product=world.dressing, exclusive=True)

    page = _client(world.user("buyer")).get(
        reverse("requisition_list", args=[made.pk])
    ).content.decode()
    added = requisition_list_to_cart(buyer=world.buyer("buyer"), list_id=made.pk)

    assert "Through Solent Test Supplies" in page
    assert added == 1


def test_the_list_page_shows_todays_price_for_each_buyer(world):
    trust_list = _list(world, "buyer", "Ward list", [("WC-10001", 50)])
    patient_list = _list(world, "patient", "Home list", [("WC-10001", 2)])

    trust_page = _client(world.user("buyer")).get(
        reverse("requisition_list", args=[trust_list.pk])
    ).content.decode()
    patient_page = _client(world.user("patient")).get(
        reverse("requisition_list", args=[patient_list.pk])
    ).content.decode()

    assert "£11.00" in trust_page and "£550.00" in trust_page  # the 50+ tier of the list price
    assert "£18.00" in patient_page and "£15.00" not in trust_page  # retail, inc VAT


# Queries --------------------------------------------------------------------------------------


def _grow(world, n_lists, n_lines) -> RequisitionList:
    """`n_lists` more lists of the buyer (every other one shared), each of `n_lines` new
    products at the same quantity (the price engine is asked once per distinct quantity)."""
    buyer = world.buyer("buyer")
    products = [ProductFactory(category=world.dressing.category, pack_size=1)
                for _ in range(n_lines)]
    for product in products:
        price(world.b2b_list, product, "3.00")
    for i in range(n_lists):
        made = requisition_list_create(
            buyer=buyer, name=f"List {RequisitionList.objects.count() + 1}", shared=bool(i % 2)
        )
        RequisitionListLine.objects.bulk_create(
            RequisitionListLine(requisition_list=made, product=p, quantity=4) for p in products
        )
    return made


@pytest.mark.parametrize(("page", "marker"), [
    ("requisition_lists", "data-list="), ("requisition_list", "data-line="),
])
def test_list_pages_run_the_same_queries_for_few_and_many_lists_and_lines(world, page, marker):
    client = _client(world.user("buyer"))

    def grown(n_lists, n_lines) -> str:
        made = _grow(world, n_lists, n_lines)
        url = reverse(page, args=[made.pk]) if page == "requisition_list" else reverse(page)
        client.get(url)  # the buyer context is resolved again after the price changes
        return url

    def measured(url) -> tuple[int, list[str], object]:
        """The fewest queries of two warm requests: a cache read that times out once under load
        costs queries that say nothing of the page size; a query per row shows in both."""
        runs = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            runs.append((len(captured), [q["sql"] for q in captured.captured_queries], response))
        return min(runs, key=lambda run: run[0])

    few, few_sql, small = measured(grown(2, 2))
    many, many_sql, large = measured(grown(20, 30))

    assert many == few, "\n\n".join(["2 lines:", *few_sql, "30 lines:", *many_sql])

    assert small.content.decode().count(marker) == 2
    assert large.content.decode().count(marker) == (22 if page == "requisition_lists" else 30)
