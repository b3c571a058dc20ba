"""Orders through the API: placed as the checkout pages place them (same prices, territory and
quantity rules, approvals), idempotent, refusing fields the server decides, and followed to
delivery by the distributor of a routed order or by the manufacturer's ERP."""

import datetime
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.keys import ApiKey, ApiScope
from accounts.models import IdempotencyRecord
from ordering.models import Order, OrderEvent, OrderLine, OrderState, ShipmentLot, Stock
from ordering.selectors import lot_recipients
from storefront.api.services import api_key_revoke
from tests.api.conftest import issue_key, issue_staff_key, key_client, session_client
from tests.catalog.factories import CatalogFactory, CategoryFactory, ProductFactory
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.ordering.builders import make_order
from tests.ordering.conftest import build_world
from tests.pricing.conftest import price
from tests.territories.conftest import grant, region, restrict

WRITE = [ApiScope.ORDERS_WRITE]


@pytest.fixture
def world(db):
    world = build_world()
    world.staff = UserFactory(email="erp-owner@maker.test", is_staff=True, is_superuser=True)
    return world


_names = iter(range(1, 10**6))


def client_for(world, key: str, scopes=WRITE, created_by=None):
    user, organisation = world.people[key]
    return key_client(issue_key(organisation, user, scopes=scopes, created_by=created_by,
                                name=f"ERP {next(_names)}"))


def fulfilment_client(world):
    return key_client(issue_staff_key(world.staff, scopes=[ApiScope.ORDERS_FULFIL]))


def order_body(world, **extra):
    body = {
        "lines": [
            {"sku": world.dressing.sku, "quantity": 20, "site": world.ward_a.pk},
            {"sku": world.gloves.sku, "quantity": 10, "site": world.ward_b.pk},
        ],
        "po_number": "PO-API-1", "cost_centre": world.cost_centre.code,
        "requested_delivery_date": str(timezone.localdate() + datetime.timedelta(days=7)),
    }
    body.update(extra)
    return body


def place(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/orders/", body, format="json", **headers)


@pytest.mark.django_db
def test_a_buyer_places_an_order_priced_and_split_by_ward_as_the_checkout_does(world):
    response = place(client_for(world, "buyer"), order_body(world), key="po-api-1")

    assert response.status_code == 201, response.json()
    (order,) = response.json()["orders"]
    assert order["state"] == OrderState.PENDING_APPROVAL  # the trust approves every order
    assert order["po_number"] == "PO-API-1" and order["cost_centre"] == "W7210"
    lines = {line["sku"]: line for line in order["lines"]}
    assert lines["WC-10001"]["unit_price"] == "12.5000"
    assert lines["WC-10001"]["site"]["name"] == "Florence Ward"
    assert lines["GL-30001"]["site"]["name"] == "Nightingale Ward"
    assert order["total_net"] == "300.00"
    assert [e["action"] for e in order["events"]] == ["place"]
    assert [a["status"] for a in order["approvals"]] == ["pending"]


@pytest.mark.django_db
def test_the_same_idempotency_key_replays_and_another_body_is_refused(world):
    client = client_for(world, "buyer")
    first = place(client, order_body(world), key="k-1")
    again = place(client, order_body(world), key="k-1")
    other = place(client, order_body(world, po_number="PO-API-2"), key="k-1")

    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_replays_place_one_order(requires_postgres):
    world = build_world()
    token = issue_key(world.trust, world.user("buyer"), scopes=WRITE)
    barrier = threading.Barrier(20)
    responses, failures = [], []

    def replay():
        try:
            client = key_client(token)
            barrier.wait(timeout=30)
            responses.append(place(client, order_body(world), key="concurrent-order"))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=replay) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.content for r in responses}) == 1
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.filter(key="concurrent-order").count() == 1


@pytest.mark.django_db
def test_another_organisation_reusing_the_key_gets_its_own_result(world):
    place(client_for(world, "buyer"), order_body(world), key="shared-key")
    other = place(client_for(world, "distributor"), {
        "lines": [{"sku": world.gloves.sku, "quantity": 5}], "po_number": "D-1"}, key="shared-key")

    assert other.status_code == 201
    assert other.json()["orders"][0]["organisation"] == world.distributor.name
    assert Order.objects.count() == 2


MASS_ASSIGNMENT = [
    {"state": "approved"},
    {"organisation": 1},
    {"fulfiller": 1},
    {"approver": 1},
    {"territory": "london"},
    {"total_net": "0.01"},
    {"lines": [{"sku": "WC-10001", "quantity": 1, "unit_price": "0.01"}]},
    {"lines": [{"sku": "WC-10001", "quantity": 1, "price_source": "quote"}]},
    {"lines": [{"sku": "WC-10001", "quantity": 1, "allocated_quantity": 1}]},
]


@pytest.mark.django_db
@pytest.mark.parametrize("extra", MASS_ASSIGNMENT)
def test_fields_the_server_decides_are_refused_and_nothing_is_written(world, extra):
    response = place(client_for(world, "buyer"), order_body(world, **extra))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_a_changed_price_is_refused_until_the_caller_expects_the_new_one(world):
    client = client_for(world, "buyer")
    body = order_body(world)
    body["lines"][0]["expected_unit_price"] = "12.00"

    refused = place(client, body)
    body["lines"][0]["expected_unit_price"] = "12.50"
    accepted = place(client, body)

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "price_changed"
    assert refused.json()["error"]["fields"] == {
        "lines.0.expected_unit_price": ["The price is now 12.5000 GBP."]
    }
    assert accepted.status_code == 201


@pytest.mark.django_db
def test_line_problems_are_reported_per_line_and_nothing_is_written(world):
    body = order_body(world, lines=[
        {"sku": world.dressing.sku, "quantity": 20},
        {"sku": world.gloves.sku, "quantity": 7},  # gloves come in multiples of 5
        {"sku": "NOT-A-SKU", "quantity": 1},
    ])
    unknown = place(client_for(world, "buyer"), body)
    body["lines"].pop()
    rule = place(client_for(world, "buyer"), body)

    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"] == {
        "lines.2.sku": ["No product with this SKU is available to you."]
    }
    assert rule.status_code == 422
    assert list(rule.json()["error"]["fields"]) == ["lines.1"]
    assert "5" in rule.json()["error"]["fields"]["lines.1"][0]
    assert Order.objects.count() == 0
    assert Stock.objects.get(product=world.dressing).reserved == 0


@pytest.mark.django_db
def test_a_product_restricted_in_the_delivery_territory_is_refused(world):
    restrict(region("london"), product=world.dressing)

    response = place(client_for(world, "buyer"), order_body(world))

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["lines.0.sku"]  # not sold there at all
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_a_line_under_a_distributors_exclusive_right_becomes_a_routed_order(world):
    rival = OrganisationFactory(name="Capital Medical Distribution", kind="distributor")
    grant(rival, region("london"), product=world.gloves)

    response = place(client_for(world, "buyer"), order_body(world))

    assert response.status_code == 201
    orders = {o["fulfiller"]: o for o in response.json()["orders"]}
    assert set(orders) == {None, "Capital Medical Distribution"}
    assert [line["sku"] for line in orders[None]["lines"]] == ["WC-10001"]
    routed = orders["Capital Medical Distribution"]["lines"]
    assert [line["sku"] for line in routed] == ["GL-30001"]
    assert not OrderLine.objects.filter(order__fulfiller__isnull=True,
                                        product=world.gloves).exists()


@pytest.mark.django_db
def test_a_distributor_may_not_buy_lines_it_holds_no_rights_to(world):
    other = CategoryFactory(name="Theatre", slug="theatre")
    drape = ProductFactory(sku="TH-1", category=other)
    CatalogFactory(code="theatre", categories=[other], organisations=[world.trust,
                                                                        world.distributor])
    price(world.b2b_list, drape, "3.00")

    response = place(client_for(world, "distributor"), {
        "lines": [{"sku": drape.sku, "quantity": 5}], "po_number": "D-2"})
    trust = place(client_for(world, "buyer"), order_body(world, lines=[
        {"sku": drape.sku, "quantity": 5}]))

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["lines.0.sku"]
    assert trust.status_code == 201
    assert Order.objects.filter(organisation=world.distributor).count() == 0


@pytest.mark.django_db
def test_a_consumer_session_cannot_place_api_orders(world):
    response = session_client(world.user("patient")).post(
        "/api/v1/orders/", {"lines": [{"sku": world.frame.sku, "quantity": 1}]}, format="json")

    assert response.status_code in (403, 422)
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_an_api_order_cannot_skip_approval(world):
    response = place(client_for(world, "buyer"), order_body(world))
    number = response.json()["orders"][0]["number"]

    approve = client_for(world, "buyer").post(f"/api/v1/orders/{number}/approve/", {},
                                              format="json")

    assert approve.status_code in (404, 405)
    assert Order.objects.get(number=number).state == OrderState.PENDING_APPROVAL


# Who may read and act on an order -----------------------------------------------------------------


DETAIL_EXPECTED = {
    "placer": 200,
    "admin_buyer": 200,  # an org admin who buys sees (and may cancel) every order
    "colleague": 404,  # another buyer of the trust sees only their own orders
    "requisitioner": 404,  # a requisitioner sees only their own orders
    "org_admin": 403,  # an admin who does not buy has no orders scope to use
    "distributor": 404,  # another organisation
    "anonymous": 401,
    "revoked_key": 401,
}


@pytest.mark.django_db
@pytest.mark.parametrize("who", sorted(DETAIL_EXPECTED))
def test_order_detail_and_cancel_by_who_may(world, who):
    for key, roles in (("colleague", {}), ("admin_buyer", {"is_org_admin": True})):
        user = MembershipFactory(organisation=world.trust, is_buyer=True, **roles).user
        world.people[key] = (user, world.trust)
    order = make_order(world, OrderState.SUBMITTED, placed_by="buyer")
    Stock.objects.filter(product=world.dressing).update(reserved=8)
    if who == "anonymous":
        client = APIClient()
    elif who == "revoked_key":
        token = issue_key(world.trust, world.user("buyer"), scopes=WRITE, name="old")
        api_key_revoke(key=ApiKey.objects.get(prefix=token.split(".")[0]))
        client = key_client(token)
    else:
        client = client_for(world, {"placer": "buyer"}.get(who, who))

    detail = client.get(f"/api/v1/orders/{order.number}/")
    cancel = client.post(f"/api/v1/orders/{order.number}/cancel/", {"comment": "no"},
                         format="json")

    assert detail.status_code == DETAIL_EXPECTED[who]
    assert cancel.status_code == DETAIL_EXPECTED[who]
    order.refresh_from_db()
    expected_state = OrderState.CANCELLED if DETAIL_EXPECTED[who] == 200 else OrderState.SUBMITTED
    assert order.state == expected_state


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/orders/", "/api/v1/backorders/",
                                  "/api/v1/routed-orders/", "/api/v1/fulfilment/orders/"])
def test_lists_refuse_anonymous_callers(world, path):
    assert APIClient().get(path).status_code == 401


@pytest.mark.django_db
def test_order_list_holds_only_what_the_caller_may_see(world):
    own = make_order(world, OrderState.SUBMITTED, placed_by="buyer")
    colleague = make_order(world, OrderState.SUBMITTED, placed_by="requisitioner")

    def numbers(key):
        rows = client_for(world, key).get("/api/v1/orders/").json()["results"]
        return {row["number"] for row in rows}

    admin = MembershipFactory(organisation=world.trust, is_buyer=True, is_org_admin=True).user
    world.people["admin_buyer"] = (admin, world.trust)

    assert numbers("buyer") == {own.number}
    assert numbers("admin_buyer") == {own.number, colleague.number}
    assert numbers("distributor") == set()


@pytest.mark.django_db
def test_order_list_costs_the_same_queries_for_more_orders(world):
    admin = MembershipFactory(organisation=world.trust, is_buyer=True, is_org_admin=True).user
    world.people["admin_buyer"] = (admin, world.trust)
    client = client_for(world, "admin_buyer")
    client.get("/api/v1/me/")  # the key and the buyer's facts are cached after a first call
    counts = []
    for size in (3, 12):
        for _ in range(size - Order.objects.count()):
            make_order(world, OrderState.SUBMITTED, placed_by="buyer")
        with CaptureQueriesContext(connection) as ctx:
            assert len(client.get("/api/v1/orders/?page_size=50").json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 4


@pytest.mark.django_db
def test_backorders_list_open_short_lines(world):
    short = make_order(world, OrderState.PARTLY_BACKORDERED, placed_by="buyer", allocated=3,
                       backordered=5)
    make_order(world, OrderState.ALLOCATED, placed_by="buyer")

    rows = client_for(world, "buyer").get("/api/v1/backorders/").json()["results"]

    assert [(r["order"], r["backordered_quantity"]) for r in rows] == [(short.number, 5)]


# A distributor's routed orders -------------------------------------------------------------------


def routed_order(world, state=OrderState.ROUTED):
    return make_order(world, state, placed_by="buyer", fulfiller=world.distributor)


@pytest.mark.django_db
def test_a_distributor_accepts_ships_with_lots_and_delivers_a_routed_order(world):
    order = routed_order(world)
    client = client_for(world, "distributor")
    base = f"/api/v1/routed-orders/{order.number}"
    line = order.lines.get()
    expiry = str(timezone.localdate() + datetime.timedelta(days=400))

    listed = client.get("/api/v1/routed-orders/").json()["results"]
    accepted = client.post(f"{base}/accept/", {"expected_delivery_date": str(
        timezone.localdate() + datetime.timedelta(days=3))}, format="json")
    acknowledged = client.post(f"{base}/acknowledge/", {"erp_reference": "SO-55"}, format="json")
    shipped = client.post(f"{base}/shipments/", {
        "tracking_number": "DPD-123", "carrier": "DPD",
        "lots": [{"line": line.pk, "lot_number": "L-A", "quantity": 5, "expiry_date": expiry},
                 {"line": line.pk, "lot_number": "L-B", "quantity": 3}],
    }, format="json")
    delivered = client.post(f"{base}/delivery/", {"received_by": "Ward clerk"}, format="json")

    assert [o["number"] for o in listed] == [order.number]
    assert accepted.status_code == acknowledged.status_code == 200
    assert shipped.status_code == 200, shipped.json()
    assert delivered.status_code == 200
    body = delivered.json()
    assert body["state"] == OrderState.DELIVERED and body["erp_reference"] == "SO-55"
    assert body["shipments"][0]["tracking_number"] == "DPD-123"
    assert {(lot["lot_number"], lot["quantity"]) for lot in body["lines"][0]["lots"]} == {
        ("L-A", 5), ("L-B", 3)}
    recall = lot_recipients(sku=world.dressing.sku, lot_number="L-A")
    assert [r.shipment.order.organisation for r in recall] == [world.trust]
    buyer_view = client_for(world, "buyer").get(f"/api/v1/orders/{order.number}/").json()
    assert buyer_view["state"] == OrderState.DELIVERED


@pytest.mark.django_db
def test_another_distributor_cannot_see_or_act_on_a_routed_order(world):
    order = routed_order(world)
    rival = OrganisationFactory(name="Rival Distribution", kind="distributor")
    rival_user = MembershipFactory(organisation=rival, is_buyer=True).user
    client = key_client(issue_key(rival, rival_user, scopes=WRITE))

    detail = client.get(f"/api/v1/routed-orders/{order.number}/")
    accept = client.post(f"/api/v1/routed-orders/{order.number}/accept/", {
        "expected_delivery_date": str(timezone.localdate())}, format="json")
    buyer_side = client_for(world, "buyer").post(
        f"/api/v1/routed-orders/{order.number}/accept/",
        {"expected_delivery_date": str(timezone.localdate())}, format="json")

    assert detail.status_code == accept.status_code == buyer_side.status_code == 404
    order.refresh_from_db()
    assert order.state == OrderState.ROUTED


@pytest.mark.django_db
def test_a_distributor_declines_with_a_reason(world):
    order = routed_order(world)

    response = client_for(world, "distributor").post(
        f"/api/v1/routed-orders/{order.number}/decline/", {"reason": "No cold-chain van"},
        format="json")

    assert response.status_code == 200
    assert response.json()["decline_reason"] == "No cold-chain van"


# The manufacturer's ERP -------------------------------------------------------------------------


def ship_body(order, *, lots=None, tracking="RM-1"):
    line = order.lines.get()
    return {"tracking_number": tracking,
            "lots": lots or [{"line": line.pk, "lot_number": "L-1", "quantity": line.quantity}]}


@pytest.mark.django_db
def test_the_manufacturer_erp_acknowledges_ships_and_delivers_direct_orders(world):
    order = make_order(world, OrderState.ALLOCATED, placed_by="buyer")
    pending = make_order(world, OrderState.PENDING_APPROVAL, placed_by="buyer")
    client = fulfilment_client(world)
    base = f"/api/v1/fulfilment/orders/{order.number}"

    queue = {o["number"] for o in client.get("/api/v1/fulfilment/orders/").json()["results"]}
    ack = client.post(f"{base}/acknowledge/", {"erp_reference": "SAP-9"}, format="json")
    shipped = client.post(f"{base}/shipments/", ship_body(order), format="json")
    delivered = client.post(f"{base}/delivery/", {}, format="json")

    assert order.number in queue and pending.number not in queue
    assert ack.status_code == shipped.status_code == delivered.status_code == 200
    assert delivered.json()["state"] == OrderState.DELIVERED
    events = OrderEvent.objects.filter(order=order)
    assert list(events.values_list("action", flat=True)) == ["acknowledge", "ship", "deliver"]
    assert all("of erp-owner@maker.test" in e.comment for e in events)
    assert OrderLine.objects.get(order=order).shipped_quantity == 8


@pytest.mark.django_db
@pytest.mark.parametrize("lots,code", [
    ([{"lot_number": "L-1", "quantity": 5}], "lots_incomplete"),
    ([{"lot_number": "L-1", "quantity": 8, "expiry_date": "2001-01-01"}], "lot_expired"),
    ([{"lot_number": "L-1", "quantity": 4}, {"lot_number": "L-1", "quantity": 4}],
     "duplicate_lot"),
])
def test_a_shipment_whose_lots_do_not_account_for_every_unit_changes_nothing(world, lots, code):
    order = make_order(world, OrderState.ALLOCATED, placed_by="buyer")
    line = order.lines.get()
    body = ship_body(order, lots=[{"line": line.pk, **lot} for lot in lots])

    response = fulfilment_client(world).post(
        f"/api/v1/fulfilment/orders/{order.number}/shipments/", body, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    order.refresh_from_db()
    assert order.state == OrderState.ALLOCATED
    assert not ShipmentLot.objects.exists()


@pytest.mark.django_db
def test_a_line_of_another_order_cannot_be_shipped(world):
    order = make_order(world, OrderState.ALLOCATED, placed_by="buyer")
    other = make_order(world, OrderState.ALLOCATED, placed_by="buyer")
    body = ship_body(order, lots=[{"line": other.lines.get().pk, "lot_number": "X",
                                   "quantity": 8}])

    response = fulfilment_client(world).post(
        f"/api/v1/fulfilment/orders/{order.number}/shipments/", body, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_line"


@pytest.mark.django_db
def test_shipping_out_of_turn_is_a_conflict(world):
    order = make_order(world, OrderState.PENDING_APPROVAL, placed_by="buyer")
    submitted = make_order(world, OrderState.PARTLY_BACKORDERED, placed_by="buyer",
                           allocated=3, backordered=5)
    client = fulfilment_client(world)

    hidden = client.post(f"/api/v1/fulfilment/orders/{order.number}/shipments/",
                         ship_body(order), format="json")
    early = client.post(f"/api/v1/fulfilment/orders/{submitted.number}/shipments/",
                        ship_body(submitted), format="json")

    assert hidden.status_code == 404  # still waiting for approval: not the ERP's yet
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "not_allowed"


@pytest.mark.django_db
def test_fulfilment_needs_a_staff_key_whose_owner_is_still_staff(world):
    from accounts.models import User

    order = make_order(world, OrderState.ALLOCATED, placed_by="buyer")
    former = UserFactory(is_staff=True, is_superuser=True)
    former_key = key_client(issue_staff_key(former, scopes=[ApiScope.ORDERS_FULFIL]))
    User.objects.filter(pk=former.pk).update(is_staff=False)

    refused = {
        "buyer": client_for(world, "buyer").post(
            f"/api/v1/fulfilment/orders/{order.number}/shipments/", ship_body(order),
            format="json").status_code,
        "former staff": former_key.post(
            f"/api/v1/fulfilment/orders/{order.number}/shipments/", ship_body(order),
            format="json").status_code,
    }

    assert refused == {"buyer": 403, "former staff": 401}
    order.refresh_from_db()
    assert order.state == OrderState.ALLOCATED


@pytest.mark.django_db
def test_an_account_managers_fulfilment_key_reaches_only_their_organisations(world):
    from accounts.services import organisation_save

    order = make_order(world, OrderState.ALLOCATED, placed_by="buyer")
    theirs, other = UserFactory(is_staff=True), UserFactory(is_staff=True)
    world.trust.account_manager = theirs
    organisation_save(organisation=world.trust)
    clients = {
        who: key_client(issue_staff_key(staff, scopes=[ApiScope.ORDERS_FULFIL]))
        for who, staff in (("theirs", theirs), ("other", other))
    }

    seen = {who: [o["number"] for o in c.get("/api/v1/fulfilment/orders/").json()["results"]]
            for who, c in clients.items()}
    refused = clients["other"].post(f"/api/v1/fulfilment/orders/{order.number}/shipments/",
                                    ship_body(order), format="json")

    assert seen == {"theirs": [order.number], "other": []}
    assert refused.status_code == 404
    order.refresh_from_db()
    assert order.state == OrderState.ALLOCATED


@pytest.mark.django_db
@pytest.mark.parametrize("path,state,who", [
    ("/api/v1/routed-orders/", OrderState.ROUTED, "distributor"),
    ("/api/v1/fulfilment/orders/", OrderState.ALLOCATED, "fulfilment"),
    ("/api/v1/backorders/", OrderState.PARTLY_BACKORDERED, "buyer"),
])
def test_other_order_lists_cost_the_same_queries_for_more_rows(world, path, state, who):
    client = fulfilment_client(world) if who == "fulfilment" else client_for(world, who)
    client.get(path)  # the key and the buyer's facts are cached after a first call
    extra = {"fulfiller": world.distributor} if who == "distributor" else {}
    counts = []
    for size in (3, 12):
        while Order.objects.count() < size:
            make_order(world, state, placed_by="buyer", allocated=3, backordered=5, **extra)
        with CaptureQueriesContext(connection) as ctx:
            assert len(client.get(f"{path}?page_size=50").json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 5
