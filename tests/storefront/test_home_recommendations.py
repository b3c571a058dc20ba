"""The front page recommends what accounts like the buyer's order: each buyer the favourites of
its own segments, only products it may see, at its own price — and the page's queries do not grow
with the number of recommendations."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from merchandising.models import PeerFavourite, segment_scope
from merchandising.selectors import bump_figures_version
from tests.catalog.world import build_world
from tests.merchandising.test_affinities_pages import _contract

pytestmark = pytest.mark.django_db


def _favourite(scope: str, product, share: float = 0.5):
    PeerFavourite.objects.create(scope=segment_scope(scope), product=product, buyers=5,
                                 share=share, lift=3.0, computed_at=timezone.now())


def _cards(body: str) -> dict[str, Decimal]:
    section = body[body.find('data-recommendations="peers"'):]
    section = section[:section.find("</section>")]
    found = re.findall(r'data-sku="([^"]+)".*?data-price="([^"]+)"', section, flags=re.S)
    return {sku: Decimal(price) for sku, price in found}


@pytest.fixture
def world(db):
    return build_world()


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_two_segments_get_their_own_favourites_at_their_own_prices(client, world):
    p = world.products
    _favourite("private-clinics", p["cannula"])
    _favourite("private-clinics", p["riverside_pack"])  # not in the clinic's catalogue
    riverside = world.users["nhs"].memberships.get().organisation
    _favourite("nhs-trusts", p["plasters"])
    _contract(riverside, p["plasters"], "3.21")

    clinic = _cards(_home(client, world.users["clinic"]))
    nhs = _cards(_home(client, world.users["nhs"]))

    assert p["cannula"].sku in clinic
    assert p["riverside_pack"].sku not in clinic
    assert p["cannula"].sku not in nhs
    assert nhs.get(p["plasters"].sku) == Decimal("3.21")


def test_the_home_page_queries_do_not_grow_with_the_recommendations(client, world):
    p = world.products
    client.force_login(world.users["clinic"])
    counts, shown = [], []
    for products in ([p["cannula"]], [p["cannula"], p["foam"], p["plasters"]]):
        PeerFavourite.objects.all().delete()
        for product in products:
            _favourite("private-clinics", product)
        bump_figures_version()
        client.get("/")  # warm, as a running site is
        with CaptureQueriesContext(connection) as queries:
            body = client.get("/").content.decode()
        counts.append(len(queries))
        shown.append(len(_cards(body)))

    assert shown[0] < shown[1]
    assert counts[0] == counts[1] <= 10
