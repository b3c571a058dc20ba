"""Query parameters: an endpoint refuses one it does not read (400 naming it) rather than answer
as if it were absent; the schema documents exactly the parameters each endpoint reads; a filter of
several values takes them repeated or comma-joined."""

import re

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from ordering.models import OrderState
from storefront.api.permissions import known_query_parameters
from tests.api.conftest import issue_key, key_client
from tests.catalog.factories import ManufacturerFactory
from tests.ordering.builders import make_order
from tests.ordering.conftest import build_world


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_schema_documents_exactly_the_parameters_each_endpoint_reads():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    mismatches = []
    for path, operations in schema["paths"].items():
        view_class = resolve(_concrete(path)).func.cls
        for method, operation in operations.items():
            documented = {p["name"] for p in operation.get("parameters", ())
                          if p["in"] == "query"}
            known = known_query_parameters(view_class, method)
            if documented != known:
                mismatches.append((method, path, documented, set(known)))
    assert mismatches == []


@pytest.mark.parametrize("path", [
    "/api/v1/products/?manufaturer=acme",
    "/api/v1/products/WC-SHARED/?page_size=5",
    "/api/v1/contracts/?status=active",
    "/api/v1/me/?verbose=1",
])
def test_an_unknown_query_parameter_is_refused_naming_it(world, path):
    client = key_client(issue_key(world.trust, world.trust_buyer))

    answer = client.get(path)

    assert answer.status_code == 400
    [name] = answer.json()["error"]["fields"]
    assert name in path


def test_a_filter_takes_several_values_repeated_or_comma_joined(world):
    acme, bolt = ManufacturerFactory(slug="acme"), ManufacturerFactory(slug="bolt")
    for product, maker in ((world.shared, acme), (world.trust_only, bolt)):
        product.manufacturer = maker
        product.save()
    client = key_client(issue_key(world.trust, world.trust_buyer))

    def skus(query):
        answer = client.get(f"/api/v1/products/?{query}")
        assert answer.status_code == 200, answer.json()
        return sorted(row["sku"] for row in answer.json()["results"])

    assert skus("manufacturer=acme&manufacturer=bolt") == ["WC-SHARED", "WC-TRUST"]
    assert skus("manufacturer=acme,bolt") == ["WC-SHARED", "WC-TRUST"]
    assert skus("manufacturer=bolt") == ["WC-TRUST"]


@pytest.mark.django_db
def test_order_states_are_taken_repeated_or_comma_joined():
    from tests.api.test_orders import client_for

    orders = build_world()
    submitted = make_order(orders, OrderState.SUBMITTED, placed_by="buyer")
    pending = make_order(orders, OrderState.PENDING_APPROVAL, placed_by="buyer")
    make_order(orders, OrderState.CANCELLED, placed_by="buyer")
    client = client_for(orders, "buyer")

    def numbers(query):
        answer = client.get(f"/api/v1/orders/?{query}")
        assert answer.status_code == 200, answer.json()
        return sorted(row["number"] for row in answer.json()["results"])

    both = sorted([submitted.number, pending.number])
    assert numbers("state=submitted&state=pending_approval") == both
    assert numbers("state=submitted,pending_approval") == both
    assert numbers("state=submitted") == [submitted.number]


def test_a_write_with_a_query_parameter_is_refused_and_changes_nothing(world):
    from pricing.models import Quote

    client = key_client(issue_key(world.trust, world.trust_buyer))
    quotes = Quote.objects.count()

    answer = client.post("/api/v1/prices/quote-basket/?dry_run=1",
                         {"lines": [{"sku": "WC-SHARED", "quantity": 1}]}, format="json")

    assert answer.status_code == 400
    assert list(answer.json()["error"]["fields"]) == ["dry_run"]
    assert Quote.objects.count() == quotes


@pytest.mark.django_db
def test_updated_since_returns_the_orders_changed_since_the_last_sync():
    import datetime

    from django.utils import timezone

    from ordering.models import Order
    from ordering.services.transitions import order_transition
    from tests.api.test_orders import client_for

    orders = build_world()
    quiet = make_order(orders, OrderState.SUBMITTED, placed_by="buyer")
    moving = make_order(orders, OrderState.SUBMITTED, placed_by="buyer")
    long_ago = timezone.now() - datetime.timedelta(days=2)
    Order.objects.filter(pk=quiet.pk).update(updated_at=long_ago)
    Order.objects.filter(pk=moving.pk).update(updated_at=long_ago + datetime.timedelta(hours=1))
    client = client_for(orders, "buyer")
    synced = client.get("/api/v1/orders/").json()["results"]
    since = max(row["updated_at"] for row in synced)
    again = client.get("/api/v1/orders/", {"updated_since": since}).json()["results"]

    order_transition(order=moving, action="cancel", actor_buyer=orders.buyer("buyer"))
    changed = client.get("/api/v1/orders/", {"updated_since": since}).json()["results"]

    assert {row["number"] for row in synced} == {quiet.number, moving.number}
    assert [row["number"] for row in again] == [moving.number]  # the boundary comes again
    assert [(row["number"], row["state"]) for row in changed] == [(moving.number, "cancelled")]
