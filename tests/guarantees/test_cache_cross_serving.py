"""The cache never serves one buyer what was built for another. Every demo buyer (and a guest)
reads the cached surfaces in a cache that the other buyers warmed, and gets byte for byte what it
gets from an empty cache (CSRF tokens and nonces aside).

Readers go through the surfaces in one order, then again in the reverse order, each time after an
emptied cache: every fragment key is written by the first buyer who reads it and only read by the
buyers after, so each ordered pair (A warms, then B reads) is met in one of the two passes."""

import pytest

from tests.guarantees.faults_support import (
    DEMO_READERS,
    client_for,
    demo_surfaces,
    forget_cache,
    normalised,
)

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def _read_all(client, urls) -> dict[str, str]:
    return {url: normalised(client.get(url)) for url in urls}


def test_no_buyer_is_served_a_page_cached_for_another(requires_redis, demo_world):
    urls = demo_surfaces()
    clients = {r.label: client_for(r, demo_world.organisations) for r in DEMO_READERS}
    fresh = {}
    for label, client in clients.items():
        forget_cache()
        fresh[label] = _read_all(client, urls)
    # The comparison means something only because the buyers' own pages differ.
    distinct = {url: len({fresh[label][url] for label in fresh}) for url in urls}
    assert distinct["/catalogue/"] >= 4
    assert sum(n > 1 for n in distinct.values()) >= len(urls) - 2

    compared, cross_served = 0, []
    for order in (list(clients), list(reversed(clients))):
        forget_cache()
        for position, label in enumerate(order):
            served = _read_all(clients[label], urls)
            if position == 0:
                continue  # the first reader of a pass warms an empty cache
            for url in urls:
                compared += 1
                if served[url] != fresh[label][url]:
                    cross_served.append((label, url))

    pairs = len(clients) * (len(clients) - 1)
    print(f"\ncache cross-serving: {len(clients)} readers, {pairs} ordered pairs, "
          f"{len(urls)} surfaces, {compared} bodies compared, {len(cross_served)} cross-served")
    assert cross_served == []

