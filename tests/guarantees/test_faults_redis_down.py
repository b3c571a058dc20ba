"""Redis is a speed-up, never a dependency: with the cache and broker's Redis gone (killed after
the pages were warmed, or never reachable) pages and API reads answer 200 from the database with
the same content, and institutional and retail orders are accepted with their events waiting in
the outbox for the sweep.

The Redis server is the test's own, on a free loopback port; the shared one is never touched."""

import datetime
import socket

import pytest
import redis
from django.test import Client, override_settings

from ordering.models import CartLine, Order, OutboxEvent
from ordering.services.checkout import checkout_review
from territories.lookup import region_for_area
from tests.guarantees.faults_support import (
    celery_broker,
    normalised,
    own_redis_server,
    redis_cache,
)
from tests.ordering.conftest import build_world
from tests.territories.conftest import grant

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

GOOD_CARD = "4242 4242 4242 4242"


def _closed_port() -> int:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return free.getsockname()[1]  # nothing listens once the socket is closed


def _reads(world) -> list[str]:
    return [
        "/", "/catalogue/", "/catalogue/c/ward-consumables/",
        f"/catalogue/p/{world.dressing.slug}/", "/catalogue/search/?q=dressing",
        "/api/v1/products/", f"/api/v1/products/{world.dressing.sku}/", "/cart/", "/orders/",
    ]


def _signed_in(world, key) -> Client:
    client = Client()
    client.force_login(world.user(key))
    return client


def _place_institutional(client, world) -> Order:
    client.post("/cart/add/", {"product": world.dressing.pk, "quantity": 4})
    token = checkout_review(buyer=world.buyer("requisitioner")).price_token
    response = client.post("/checkout/institutional/", {
        "po_number": "PO-OUTAGE-1", "cost_centre": world.cost_centre.pk, "token": token,
        "requested_delivery_date": datetime.date.today() + datetime.timedelta(days=7),
        "place": "1",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    return Order.objects.get(po_number="PO-OUTAGE-1")


def _place_retail(client, world) -> list[Order]:
    client.post("/cart/add/", {"product": world.dressing.pk, "quantity": 2})
    client.post("/cart/add/", {"product": world.frame.pk, "quantity": 1})
    client.post("/checkout/retail/address/", {
        "name": "Pat Patient", "address": "12 Denmark Hill, London", "postcode": "SE5 9RS"})
    client.post("/checkout/retail/relief/", {"claim": "no"})
    token = checkout_review(buyer=world.buyer("patient")).price_token
    response = client.post("/checkout/retail/payment/", {"card_number": GOOD_CARD,
                                                         "token": token})
    assert response.status_code == 302, response.content.decode()[:2000]
    return list(Order.objects.filter(placed_by=world.user("patient")).order_by("pk"))


def _world_with_a_routed_retail_line():
    world = build_world()
    # The frame is sold into London only through the distributor: a consumer's order of it is a
    # routed order, whose events go to the distributor through the outbox.
    grant(world.distributor, region_for_area("SE"), product=world.frame, exclusive=True)
    return world


def _orders_are_accepted_with_events_waiting(world) -> None:
    requisition = _place_institutional(_signed_in(world, "requisitioner"), world)
    retail = _place_retail(_signed_in(world, "patient"), world)

    assert requisition.state == "pending_approval"
    assert [o.state for o in retail] == ["allocated", "routed"]
    assert all(o.payment_reference.startswith("TEST-") for o in retail)
    assert not CartLine.objects.exists()
    waiting = OutboxEvent.objects.filter(dispatched_at=None)
    assert set(waiting.values_list("order_id", flat=True)) == {requisition.pk, retail[1].pk}
    assert set(waiting.values_list("type", flat=True)) == {"order.place"}


def test_pages_and_orders_survive_redis_stopping_after_warm_up(requires_redis):
    with own_redis_server() as (url, server), override_settings(CACHES=redis_cache(url)), \
            celery_broker(url):
        world = _world_with_a_routed_retail_line()
        clients = {key: _signed_in(world, key) for key in ("requisitioner", "patient")}
        warm = {key: [normalised(c.get(u)) for u in _reads(world)] for key, c in clients.items()}
        assert redis.Redis.from_url(url).dbsize() > 0  # the pages really used this Redis

        server.kill()
        server.wait(timeout=10)
        cold = {key: [normalised(c.get(u)) for u in _reads(world)] for key, c in clients.items()}

        assert all(body.startswith("200") for bodies in warm.values() for body in bodies)
        assert cold == warm
        _orders_are_accepted_with_events_waiting(world)


def test_pages_and_orders_work_with_redis_never_reachable(requires_redis):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    with override_settings(CACHES=redis_cache(url)), celery_broker(url):
        world = _world_with_a_routed_retail_line()
        clients = {key: _signed_in(world, key) for key in ("requisitioner", "patient")}

        bodies = [c.get(u) for c in clients.values() for u in _reads(world)]

        assert [r.status_code for r in bodies] == [200] * len(bodies)
        _orders_are_accepted_with_events_waiting(world)
