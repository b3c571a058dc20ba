"""Idempotency-Key: the first response is stored with the write, replayed for the same request,
refused for a different one, and kept apart per organisation."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from accounts.keys import ApiScope
from accounts.models import IdempotencyRecord
from pricing.models import PriceListItem
from tests.api.conftest import issue_key, issue_staff_key, key_client
from tests.factories import UserFactory

UPSERT = "/api/v1/price-lists/{}/items/bulk-upsert/"


def importer_for(world, organisation, user):
    staff = UserFactory(is_staff=True, is_superuser=True)
    return key_client(issue_staff_key(staff, scopes=[ApiScope.PRICES_IMPORT]))


def upsert(client, world, unit_price: str, key: str | None = "order-7f3a"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(UPSERT.format(world.contract_list.code),
                       {"items": [{"sku": "WC-SHARED", "unit_price": unit_price}]},
                       format="json", **headers)


def shared_price(world):
    return PriceListItem.objects.get(price_list=world.contract_list, product=world.shared,
                                     min_quantity=1).unit_price


@pytest.mark.django_db
def test_the_same_key_and_body_replay_the_first_response(world):
    client = importer_for(world, world.trust, world.trust_buyer)

    first = upsert(client, world, "8.10")
    PriceListItem.objects.filter(price_list=world.contract_list).update(unit_price="9.99")
    again = upsert(client, world, "8.10")

    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert (first["Idempotent-Replayed"], again["Idempotent-Replayed"]) == ("false", "true")
    assert str(shared_price(world)) == "9.9900"  # the replay wrote nothing
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(world):
    client = importer_for(world, world.trust, world.trust_buyer)
    upsert(client, world, "8.10")

    refused = upsert(client, world, "5.00")

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "idempotency_key_reused"
    assert str(shared_price(world)) == "8.1000"


# transaction=True: each request commits, as in production (the importer keeps a temporary
# table until commit, so two imports inside one test transaction would meet it).
@pytest.mark.django_db(transaction=True)
def test_another_staff_member_reusing_a_key_gets_nothing_of_the_first(world):
    first = importer_for(world, world.trust, world.trust_buyer)
    second = importer_for(world, world.clinic, world.clinic_buyer)
    upsert(first, world, "8.10")

    theirs = upsert(second, world, "5.00")

    assert theirs.status_code == 200
    assert theirs["Idempotent-Replayed"] == "false"
    assert str(shared_price(world)) == "5.0000"
    owners = IdempotencyRecord.objects.values_list("organisation_id", "user_id")
    assert len({user for organisation, user in owners if organisation is None}) == 2


@pytest.mark.django_db
def test_a_refused_request_stores_nothing_so_a_corrected_retry_runs(world):
    client = importer_for(world, world.trust, world.trust_buyer)

    refused = upsert(client, world, "-1")
    corrected = upsert(client, world, "8.10")

    assert (refused.status_code, corrected.status_code) == (422, 200)
    assert IdempotencyRecord.objects.count() == 1


# transaction=True: each request commits, as in production (the importer keeps a temporary
# table until commit, so two imports inside one test transaction would meet it).
@pytest.mark.django_db(transaction=True)
def test_a_key_older_than_a_day_is_forgotten(world):
    client = importer_for(world, world.trust, world.trust_buyer)
    upsert(client, world, "8.10")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    again = upsert(client, world, "5.00")

    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "false"
    assert str(shared_price(world)) == "5.0000"


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "clé-non-ascii"])
def test_an_unusable_key_is_a_bad_request(world, key):
    client = importer_for(world, world.trust, world.trust_buyer)

    response = upsert(client, world, "8.10", key=key)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_pricing_a_basket_accepts_a_key_and_stores_nothing(world):
    client = key_client(issue_key(world.trust, world.trust_buyer))
    body = {"lines": [{"sku": "WC-SHARED", "quantity": 1}]}

    first = client.post("/api/v1/prices/quote-basket/", body, format="json",
                        HTTP_IDEMPOTENCY_KEY="basket-1")
    second = client.post("/api/v1/prices/quote-basket/", body, format="json",
                         HTTP_IDEMPOTENCY_KEY="basket-1")

    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_replays_write_once_and_answer_alike(world, requires_postgres):
    token = issue_staff_key(UserFactory(is_staff=True, is_superuser=True),
                            scopes=[ApiScope.PRICES_IMPORT])
    barrier = threading.Barrier(20)
    responses, failures = [], []

    def replay():
        try:
            client = key_client(token)
            barrier.wait(timeout=30)
            responses.append(upsert(client, world, "8.10", key="concurrent-1"))
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
    assert [r.status_code for r in responses] == [200] * 20
    assert len({r.content for r in responses}) == 1
    assert sorted(r["Idempotent-Replayed"] for r in responses) == ["false"] + ["true"] * 19
    assert IdempotencyRecord.objects.filter(key="concurrent-1").count() == 1
    assert str(shared_price(world)) == "8.1000"
