"""The schema serves real clients: a typed client generated from /api/schema/ by
openapi-python-client, and nothing else, pages through the catalogue with a trust's integration
key, places an order with an idempotency key (attributed to the key), reads and cancels it, and —
as the distributor the order's protected line was routed to — accepts and ships that line with its
lots, against the running server. A schema change that breaks generated clients fails here."""

import datetime
import importlib
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from catalog.selectors import visible_products
from ordering.models import ApprovalRule
from segments.resolver import resolve
from tests.api.conftest import issue_integration_key, issue_key
from tests.factories import MembershipFactory, OrganisationFactory
from tests.ordering.conftest import build_world
from tests.territories.conftest import grant, region

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "storefront_api_client"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not GENERATOR.exists(), reason="openapi-python-client is not installed"),
]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The generated package, imported from a fresh directory."""
    where = tmp_path_factory.mktemp("generated")
    schema = where / "schema.json"
    schema.write_bytes(OpenApiJsonRenderer().render(
        SchemaGenerator().get_schema(request=None, public=True)))
    subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--meta", "none",
         "--output-path", str(where / PACKAGE)],
        check=True, capture_output=True, timeout=300,
    )
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))


def _module(api, name: str):
    return importlib.import_module(f"{api.__name__}.{name}")


def _client(api, live_server, token: str):
    return api.AuthenticatedClient(base_url=live_server.url, token=token, prefix="Api-Key",
                                   raise_on_unexpected_status=True)


def _cursor(next_url) -> str | None:
    if not next_url:
        return None
    return parse_qs(urlsplit(str(next_url)).query)["cursor"][0]


def test_a_generated_client_browses_orders_cancels_and_a_distributor_ships(api, live_server):
    world = build_world()
    ApprovalRule.objects.filter(organisation=world.trust).delete()
    capital = OrganisationFactory(name="Capital Medical Distribution", kind="distributor",
                                  postcode="N1 9GU")
    grant(capital, region("london"), product=world.gloves)
    stock_controller = MembershipFactory(organisation=capital, is_buyer=True).user
    # The trust's ERP orders through an integration key its org admin (who does not buy) is
    # responsible for.
    buyer = _client(api, live_server, issue_integration_key(
        world.trust, world.user("org_admin"), name="ERP"))
    distributor = _client(api, live_server, issue_key(capital, stock_controller, name="WMS"))
    products = _module(api, "api.catalogue.products_list")
    orders = _module(api, "api.orders")
    models = _module(api, "models")

    seen, cursor = [], None
    while True:
        page = products.sync(client=buyer, page_size=1, cursor=cursor or api.types.UNSET)
        seen += [product.sku for product in page.results]
        cursor = _cursor(page.next_)
        if cursor is None:
            break

    body = models.OrderCreateInputRequest.from_dict({
        "lines": [{"sku": world.dressing.sku, "quantity": 20, "site": world.ward_a.pk},
                  {"sku": world.gloves.sku, "quantity": 10, "site": world.ward_a.pk}],
        "po_number": "PO-GEN-1", "cost_centre": world.cost_centre.code,
        "requested_delivery_date": str(datetime.date.today() + datetime.timedelta(days=7)),
    })
    create = importlib.import_module(f"{orders.__name__}.orders_create")
    placed = create.sync(client=buyer, body=body, idempotency_key="gen-order-1")
    replayed = create.sync(client=buyer, body=body, idempotency_key="gen-order-1")
    by_fulfiller = {order.fulfiller: order for order in placed.orders}
    direct, routed = by_fulfiller[None], by_fulfiller["Capital Medical Distribution"]

    read = importlib.import_module(f"{orders.__name__}.orders_retrieve").sync(
        direct.number, client=buyer)
    cancelled = importlib.import_module(f"{orders.__name__}.orders_cancel_create").sync(
        direct.number, client=buyer,
        body=models.CommentInputRequest(comment="Ordered on paper instead"),
        idempotency_key="gen-cancel-1")

    routed_api = "api.routed_orders"
    waiting = _module(api, f"{routed_api}.routed_orders_list").sync(client=distributor)
    accepted = _module(api, f"{routed_api}.routed_orders_accept_create").sync(
        routed.number, client=distributor,
        body=models.AcceptInputRequest(
            expected_delivery_date=datetime.date.today() + datetime.timedelta(days=2)),
        idempotency_key="gen-accept-1")
    [line] = accepted.lines
    shipped = _module(api, f"{routed_api}.routed_orders_shipments_create").sync(
        routed.number, client=distributor,
        body=models.ShipmentInputRequest.from_dict({
            "tracking_number": "DPD-77", "carrier": "DPD",
            "lots": [{"line": line.id, "lot_number": "GL-LOT-9", "quantity": 10}],
        }),
        idempotency_key="gen-ship-1")

    visible = visible_products(resolve(world.user("buyer"), organisation=world.trust))
    assert sorted(seen) == sorted(visible.values_list("sku", flat=True))
    assert len(seen) >= 2  # more than one page was followed
    assert [o.number for o in replayed.orders] == [o.number for o in placed.orders]
    assert read.state.value == "allocated" and read.po_number == "PO-GEN-1"
    assert read.placed_by == world.user("org_admin").email
    assert (read.placed_via_key.name, read.placed_via_key.kind.value) == ("ERP", "integration")
    assert cancelled.state.value == "cancelled"
    assert [o.number for o in waiting.results] == [routed.number]
    assert accepted.state.value == "accepted_by_distributor"
    assert shipped.state.value == "shipped"
    assert [(lot.lot_number, lot.quantity) for lot in shipped.lines[0].lots] == [("GL-LOT-9", 10)]
