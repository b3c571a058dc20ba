"""Conventions an ERP expects of every answer: rate-limit headers that count down (also on
refusals), and an ETag on reads so that an unchanged list or detail answers 304 — and a changed
one does not."""

from decimal import Decimal

from rest_framework.test import APIClient

from pricing.models import PriceListItem
from tests.api.conftest import issue_key, key_client

LIMIT = "600"


def test_every_answer_carries_the_callers_rate_limit_standing(world):
    client = key_client(issue_key(world.trust, world.trust_buyer))

    first = client.get("/api/v1/products/")
    second = client.get("/api/v1/products/")
    refused = client.get("/api/v1/price-lists/x/items/bulk-upsert/")
    anonymous = APIClient().get("/api/v1/products/")
    unknown = client.get("/api/v1/no-such-thing/")

    assert first["RateLimit-Limit"] == LIMIT
    assert int(second["RateLimit-Remaining"]) == int(first["RateLimit-Remaining"]) - 1
    assert 0 < int(second["RateLimit-Reset"]) <= 60
    for answer in (refused, anonymous, unknown):
        assert answer["RateLimit-Limit"] == LIMIT, answer.status_code
        assert int(answer["RateLimit-Remaining"]) <= int(LIMIT)


def test_an_unchanged_read_is_a_304_and_a_changed_one_is_not(world):
    client = key_client(issue_key(world.trust, world.trust_buyer))
    path = f"/api/v1/products/{world.trust_only.sku}/"

    first = client.get(path)
    again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    PriceListItem.objects.filter(price_list=world.list_prices, product=world.trust_only).update(
        unit_price=Decimal("21.00"))
    from segments.versioning import bump_rules_version
    bump_rules_version()
    changed = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    assert changed.status_code == 200
    assert changed.json()["price"]["unit_price"] == "21.0000"
    assert changed["ETag"] != first["ETag"]


def test_lists_carry_an_etag_that_differs_between_buyers(world):
    trust = key_client(issue_key(world.trust, world.trust_buyer))
    clinic = key_client(issue_key(world.clinic, world.clinic_buyer))

    trust_list = trust.get("/api/v1/products/")
    clinic_answer = clinic.get("/api/v1/products/", HTTP_IF_NONE_MATCH=trust_list["ETag"])

    assert trust.get("/api/v1/products/", HTTP_IF_NONE_MATCH=trust_list["ETag"]).status_code == 304
    assert clinic_answer.status_code == 200
    assert clinic_answer["Cache-Control"].count("private") == 1
