"""What a distributor sees of the prices of an order routed to it: the buyer's price only where the
contract that priced the line names the distributor as an authorised fulfiller; otherwise its own
price for the product, and never the buyer's unit price, line totals, price source, explanation,
contract reference or price list code — on the pages, the CSV, the API, the email and the webhook
payload alike. The buyer keeps seeing its own price."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.keys import ApiScope
from ordering.models import OutboxEvent
from ordering.services.webhooks import webhook_request
from segments.resolver import resolve
from tests.api.conftest import issue_key, key_client
from tests.guarantees.oracle import leaks

from .builders import make_order
from .routed_world import (
    NORTHGATE_CONTRACT,
    NORTHGATE_DRESSING,
    PENNINE_DRESSING,
    PENNINE_DRESSING_LINE,
    RIVERSIDE_CONTRACT,
    RIVERSIDE_DRESSING,
    RIVERSIDE_DRESSING_LINE,
    RIVERSIDE_FRAME,
    build_routed_world,
    place,
)

pytestmark = pytest.mark.django_db

# Whatever gives away Riverside's price of the dressing: the unit price (in any format), the line
# total, the order totals with VAT, the contract's reference and explanation, its price list code,
# the price source ("contract", as the API and the buyer's event spell it).
RIVERSIDE_SECRETS = (RIVERSIDE_DRESSING, RIVERSIDE_DRESSING_LINE, "44.88", RIVERSIDE_CONTRACT,
                     "nhs-2031-777-lot-2", "Contract NHS", '"contract"', "price_source",
                     "total_gross")


@pytest.fixture
def routed():
    return build_routed_world()


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(world, key: str):
    user = world.user(key)
    organisation = user.memberships.get().organisation
    return key_client(issue_key(organisation, user, scopes=[ApiScope.ORDERS_WRITE]))


def _riverside_dressing_order(world, django_capture_on_commit_callbacks=None):
    buyer = resolve(world.user("riverside"), organisation=world.riverside)
    orders = place(buyer, [(world.base.dressing, 4)], "PO-ROUTED-1")
    return orders[world.pennine.pk]


def _assert_protected(text: str) -> None:
    leaked = [secret for secret in RIVERSIDE_SECRETS if secret in text]
    assert leaked == [], text


def test_routing_prices_the_line_for_the_distributor_and_keeps_the_contract_that_priced_it(
    routed
):
    order = _riverside_dressing_order(routed)

    line = order.lines.get()
    assert line.unit_price == Decimal(RIVERSIDE_DRESSING)
    assert line.contract == routed.riverside_contract
    assert line.fulfiller_unit_price == Decimal(PENNINE_DRESSING)
    assert line.fulfiller_line_net == Decimal(PENNINE_DRESSING_LINE)


def test_the_routed_order_pages_show_the_distributor_its_own_price_not_the_buyers(routed):
    order = _riverside_dressing_order(routed)
    client = _browser(routed.user("pennine"))

    detail = client.get(reverse("routed_order", args=[order.number])).content.decode()
    listing = client.get(reverse("routed_orders")).content.decode()

    _assert_protected(detail)
    _assert_protected(listing)
    assert PENNINE_DRESSING in detail and PENNINE_DRESSING_LINE in detail
    assert order.number in listing and PENNINE_DRESSING_LINE in listing


def test_the_routed_orders_csv_holds_the_distributors_price_not_the_buyers(routed):
    order = _riverside_dressing_order(routed)

    response = _browser(routed.user("pennine")).get(reverse("routed_orders_export"))

    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    _assert_protected(body)
    assert order.number in body and PENNINE_DRESSING in body and PENNINE_DRESSING_LINE in body


def test_the_routed_orders_csv_holds_only_the_distributors_orders(routed):
    order = _riverside_dressing_order(routed)

    body = _browser(routed.user("solent")).get(reverse("routed_orders_export")).content.decode()

    assert order.number not in body


def test_the_api_shows_the_distributor_its_own_price_in_list_detail_and_answers(routed):
    order = _riverside_dressing_order(routed)
    client = _api(routed, "pennine")
    base = f"/api/v1/routed-orders/{order.number}"

    listing = client.get("/api/v1/routed-orders/")
    detail = client.get(f"{base}/")
    accepted = client.post(f"{base}/accept/", {"expected_delivery_date": "2099-01-05"},
                           format="json")
    line_id = order.lines.get().pk
    shipped = client.post(f"{base}/shipments/", {
        "tracking_number": "DPD-9", "lots": [{"line": line_id, "lot_number": "L-1",
                                              "quantity": 4}]}, format="json")

    for response in (listing, detail, accepted, shipped):
        assert response.status_code == 200, response.content
        _assert_protected(response.content.decode())
    line = detail.json()["lines"][0]
    assert Decimal(line["unit_price"]) == Decimal(PENNINE_DRESSING)
    assert Decimal(line["line_net"]) == Decimal(PENNINE_DRESSING_LINE)
    assert line["price_basis"] == "distributor"
    assert Decimal(listing.json()["results"][0]["total_net"]) == Decimal(PENNINE_DRESSING_LINE)


def test_a_declined_routed_order_answers_with_the_distributors_price(routed):
    order = _riverside_dressing_order(routed)

    declined = _api(routed, "pennine").post(
        f"/api/v1/routed-orders/{order.number}/decline/", {"reason": "No van"}, format="json")

    assert declined.status_code == 200
    _assert_protected(declined.content.decode())


def test_the_routed_email_to_the_distributor_gives_its_own_total(
    routed, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = _riverside_dressing_order(routed)

    to_pennine = [m for m in mailoutbox if routed.user("pennine").email in m.to]
    assert [m.subject for m in to_pennine] == [f"Order {order.number} was routed to you"]
    _assert_protected(to_pennine[0].body)
    assert PENNINE_DRESSING_LINE in to_pennine[0].body


def test_the_webhook_payload_for_the_distributor_holds_its_own_total(routed):
    order = _riverside_dressing_order(routed)

    events = OutboxEvent.objects.filter(order=order, organisation=routed.pennine)
    bodies = [webhook_request(secret="s", event_id=str(e.pk), payload=e.payload)[0].decode()
              for e in events]

    assert bodies
    for body in bodies:
        _assert_protected(body)
        assert PENNINE_DRESSING_LINE in body


def test_the_buyers_own_event_keeps_its_own_totals(routed):
    order = _riverside_dressing_order(routed)

    event = OutboxEvent.objects.get(order=order, organisation=routed.riverside)

    assert event.payload["data"]["order"]["total_net"] == RIVERSIDE_DRESSING_LINE


def test_a_distributor_named_by_the_contract_sees_the_contract_price(routed):
    buyer = resolve(routed.user("riverside"), organisation=routed.riverside)
    order = place(buyer, [(routed.base.frame, 2)], "PO-ROUTED-2")[routed.solent.pk]
    client = _api(routed, "solent")

    page = _browser(routed.user("solent")).get(reverse("routed_order", args=[order.number]))
    detail = client.get(f"/api/v1/routed-orders/{order.number}/").json()

    assert RIVERSIDE_FRAME in page.content.decode()
    assert RIVERSIDE_CONTRACT in page.content.decode()
    line = detail["lines"][0]
    assert Decimal(line["unit_price"]) == Decimal(RIVERSIDE_FRAME)
    assert line["price_basis"] == "contract"
    assert RIVERSIDE_CONTRACT in line["price_explanation"]


@pytest.mark.parametrize("buyer_key,product,distributor_key,seen,hidden", [
    # Riverside's contract names Solent, not Pennine.
    ("riverside", "dressing", "pennine", PENNINE_DRESSING, (RIVERSIDE_DRESSING,
                                                           RIVERSIDE_CONTRACT)),
    ("riverside", "frame", "solent", RIVERSIDE_FRAME, ()),
    # Northgate's names Pennine.
    ("northgate", "dressing", "pennine", NORTHGATE_DRESSING, (PENNINE_DRESSING,)),
])
def test_each_distributor_sees_each_buyers_price_only_where_the_contract_names_it(
    routed, buyer_key, product, distributor_key, seen, hidden
):
    organisation = getattr(routed, buyer_key)
    buyer = resolve(routed.user(buyer_key), organisation=organisation)
    distributor = getattr(routed, distributor_key)
    order = place(buyer, [(getattr(routed.base, product), 2)], f"PO-{buyer_key}")[distributor.pk]
    other_key = "solent" if distributor_key == "pennine" else "pennine"

    page = _browser(routed.user(distributor_key)).get(
        reverse("routed_order", args=[order.number])).content.decode()
    api = _api(routed, distributor_key).get(f"/api/v1/routed-orders/{order.number}/")
    other = _api(routed, other_key).get(f"/api/v1/routed-orders/{order.number}/")

    assert Decimal(api.json()["lines"][0]["unit_price"]) == Decimal(seen)
    assert seen in page
    for secret in hidden:
        assert secret not in page and secret not in api.content.decode()
    assert other.status_code == 404


def test_the_buyer_keeps_seeing_its_own_contract_price(routed):
    order = _riverside_dressing_order(routed)
    client = _browser(routed.user("riverside"))

    page = client.get(reverse("order_detail", args=[order.number])).content.decode()
    api = _api(routed, "riverside").get(f"/api/v1/orders/{order.number}/").json()

    assert RIVERSIDE_DRESSING in page and RIVERSIDE_CONTRACT in page
    assert PENNINE_DRESSING not in page
    assert Decimal(api["lines"][0]["unit_price"]) == Decimal(RIVERSIDE_DRESSING)
    assert leaks(str(api), {PENNINE_DRESSING: "Pennine's price"}) == []  # as a price, not a time


def test_northgates_order_shows_pennine_the_contract_it_is_named_on(routed):
    buyer = resolve(routed.user("northgate"), organisation=routed.northgate)
    order = place(buyer, [(routed.base.dressing, 3)], "PO-NG-1")[routed.pennine.pk]

    detail = _api(routed, "pennine").get(f"/api/v1/routed-orders/{order.number}/").json()

    assert NORTHGATE_CONTRACT in detail["lines"][0]["price_explanation"]


@pytest.mark.parametrize("name", ["routed_orders", "routed_orders_export"])
def test_the_routed_list_and_csv_cost_the_same_queries_for_more_orders(routed, name):
    client = _browser(routed.user("pennine"))
    client.get(reverse(name))

    def count(n):
        for _ in range(n):
            make_order(routed.base, "routed", placed_by="buyer", fulfiller=routed.pennine)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        return len(queries)

    assert count(3) == count(12)
