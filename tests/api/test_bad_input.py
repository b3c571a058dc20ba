"""Input the API cannot take — a date PostgreSQL cannot store, a body too large, too many fields or
nested too deeply, a form where JSON is expected, a method the endpoint does not have — is a 4xx in
the one error format, never a 500, and changes nothing."""

import json

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from ordering.models import Order, OrderState
from pricing.api import MAX_UPSERT_ITEMS
from tests.api.conftest import session_client
from tests.api.test_orders import client_for, fulfilment_client
from tests.factories import UserFactory
from tests.ordering.builders import make_order
from tests.ordering.conftest import build_world

LISTS = ["/api/v1/orders/", "/api/v1/routed-orders/", "/api/v1/fulfilment/orders/"]


@pytest.fixture
def world(db):
    world = build_world()
    world.staff = UserFactory(email="erp-owner@maker.test", is_staff=True, is_superuser=True)
    return world


def list_client(world, url):
    if url.startswith("/api/v1/fulfilment/"):
        return fulfilment_client(world)
    return client_for(world, "distributor" if "routed" in url else "buyer")


@pytest.mark.django_db
@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("name", ["placed_before", "placed_after"])
@pytest.mark.parametrize("value", [
    "2026-01-01T00:00:00+16:00", "2026-01-01T00:00:00+99:00", "2026-01-01T00:00:00-16:00",
    "2026-01-01T00:00:00+15:60", "0000-01-01", "0000-01-01T00:00:00", "99999-01-01T00:00:00",
    "2026-13-01", "2026-01-01T25:00:00",
])
def test_a_date_filter_postgresql_cannot_take_is_a_400_naming_the_filter(world, url, name, value):
    client = list_client(world, url)

    response = client.get(url, {name: value})

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [name]


@pytest.mark.django_db
@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("value", [
    "2026-01-01T00:00:00+15:59", "2026-01-01T00:00:00-15:59", "2026-01-01",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
])
def test_a_date_filter_within_the_range_is_taken(world, url, value):
    response = list_client(world, url).get(url, {"placed_after": value})

    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_too_many_query_fields_are_a_400_naming_the_problem(world):
    response = client_for(world, "buyer").get("/api/v1/orders/?" + "a=1&" * 1001)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_fields"


@pytest.mark.django_db
def test_a_form_with_too_many_fields_from_a_session_is_a_415_and_places_nothing(world):
    client = APIClient(enforce_csrf_checks=True)  # the CSRF check reads the body
    client.force_login(world.user("buyer"))
    client.cookies["csrftoken"] = "a" * 32

    response = client.generic("POST", "/api/v1/orders/", "a=1&" * 1001,
                              content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded", "a=1&" * 1001),
    ("application/x-www-form-urlencoded", "po_number=PO-FORM"),
    ("multipart/form-data; boundary=XX",
     '--XX\r\nContent-Disposition: form-data; name="po_number"\r\n\r\nPO-FORM\r\n--XX--\r\n'),
])
def test_a_form_body_is_a_415_and_places_nothing(world, content_type, body):
    response = client_for(world, "buyer").generic("POST", "/api/v1/orders/", body,
                                                  content_type=content_type)

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_json_body_over_the_upload_limit_is_a_413(world, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"lines": [], "po_number": "x" * 2000})

    response = client_for(world, "buyer").generic("POST", "/api/v1/orders/", body,
                                                  content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not Order.objects.exists()


def test_the_largest_price_list_upsert_fits_the_body_limit(settings):
    row = {"sku": "X" * 32, "unit_price": "-99999999.9999", "min_quantity": 2**31 - 1,
           "min_order_qty": 2**31 - 1, "max_order_qty": 2**31 - 1, "order_multiple": 2**31 - 1,
           "currency": "GBP"}

    body = json.dumps({"items": [row] * MAX_UPSERT_ITEMS}, indent=4)

    assert len(body.encode()) < settings.API_MAX_BODY_BYTES


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/orders/", "/api/v1/prices/quote-basket/"])
def test_a_json_body_nested_too_deeply_is_a_400(world, url):
    client = client_for(world, "buyer", scopes=["catalogue:read", "orders:write"])
    body = '{"lines": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = client.generic("POST", url, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("method, url, allow", [
    ("put", "/api/v1/orders/", "GET, POST, HEAD, OPTIONS"),
    ("delete", "/api/v1/orders/", "GET, POST, HEAD, OPTIONS"),
    ("patch", "/api/v1/orders/{number}/", "GET, HEAD, OPTIONS"),
    ("delete", "/api/v1/orders/{number}/", "GET, HEAD, OPTIONS"),
    ("get", "/api/v1/orders/{number}/cancel/", "POST, OPTIONS"),
    ("put", "/api/v1/products/", "GET, HEAD, OPTIONS"),
    ("patch", "/api/v1/contracts/", "GET, HEAD, OPTIONS"),
    ("get", "/api/v1/prices/quote-basket/", "POST, OPTIONS"),
])
@pytest.mark.parametrize("caller", ["key", "session"])
def test_a_method_the_endpoint_does_not_have_is_a_405_with_allow(world, method, url, allow,
                                                                  caller):
    order = make_order(world, OrderState.PENDING_APPROVAL, placed_by="buyer")
    client = (client_for(world, "buyer", scopes=["catalogue:read", "orders:write"])
              if caller == "key" else session_client(world.user("buyer")))

    response = getattr(client, method)(url.format(number=order.number), {"state": "shipped"},
                                       format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == allow
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_APPROVAL
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_an_anonymous_caller_with_an_unsupported_method_is_still_a_401(world):
    response = APIClient().delete("/api/v1/orders/")

    assert response.status_code == 401


def test_the_schema_offers_json_request_bodies_only(tmp_path):
    call_command("spectacular", "--file", tmp_path / "api.yaml")
    schema = yaml.safe_load((tmp_path / "api.yaml").read_text())

    with_body = [
        operation
        for operations in schema["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    media = {content_type for operation in with_body for content_type in
             operation["requestBody"]["content"]}
    assert media == {"application/json"}
    assert all({"413", "415"} <= set(operation["responses"]) for operation in with_body)
