"""The storefront pages enforce territories: protected lines read "Available through <distributor>"
with its contact, restricted lines vanish (404), a distributor sees only its own lines, and a change
of delivery site changes the territory, the availability and the cache key at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Site
from accounts.services import site_save
from segments.models import Audience, SegmentKind
from tests.catalog.factories import CatalogFactory, CategoryFactory, ProductFactory
from tests.factories import MembershipFactory, OrganisationFactory, SegmentFactory

from .conftest import distributor, grant, region, restrict

pytestmark = pytest.mark.django_db


def _site(organisation, name: str, postcode: str) -> Site:
    return site_save(site=Site(organisation=organisation, name=name, kind="ward",
                               address_line1="1 Hospital Road", town="Town", postcode=postcode))


@pytest.fixture
def shop():
    orthopaedics = CategoryFactory(name="Orthopaedics", slug="orthopaedics")
    tests_category = CategoryFactory(name="Rapid tests", slug="rapid-tests")
    splint = ProductFactory(sku="OR-1001", name="Wrist splint", category=orthopaedics)
    collar = ProductFactory(sku="OR-1002", name="Cervical collar", category=orthopaedics)
    swab = ProductFactory(sku="DX-1001", name="Lateral flow test", category=tests_category)
    solent = distributor("Solent Healthcare Distribution", postcode="SO16 0YB")
    pennine = distributor("Pennine Medical Supplies")
    grant(solent, region("london"), product=splint)
    grant(pennine, region("north-west"), category=orthopaedics, exclusive=False)
    restrict(region("scotland"), category=tests_category,
             reason="Not registered for sale in Scotland")
    trust = OrganisationFactory(name="Riverside University Hospitals NHS Foundation Trust")
    everyone = SegmentFactory(code="everyone", kind=SegmentKind.RULE, audience=Audience.CONSUMERS)
    catalog = CatalogFactory(categories=[orthopaedics, tests_category], segments=[everyone],
                             organisations=[trust, solent, pennine])
    return {"splint": splint, "collar": collar, "swab": swab, "solent": solent,
            "pennine": pennine, "trust": trust, "catalog": catalog}


def _sign_in(client, organisation):
    client.force_login(MembershipFactory(organisation=organisation).user)
    return client


def _product(client, product):
    return client.get(reverse("product_detail", args=[product.slug]))


def _category(client, slug="orthopaedics"):
    return client.get(reverse("category_browse", args=[slug]))


def test_a_london_trust_sees_the_splint_available_through_solent_with_contact(client, shop):
    _site(shop["trust"], "Florence Ward", "SE1 7EH")
    _sign_in(client, shop["trust"])

    page = _product(client, shop["splint"]).content.decode()
    listing = _category(client).content.decode()
    collar = _product(client, shop["collar"]).content.decode()

    assert "Available through Solent Healthcare Distribution" in page
    assert "01772 555 010" in page and "Orders desk, Solent Healthcare Distribution" in page
    assert "Available through Solent Healthcare Distribution" in listing
    assert "Available through" not in collar


def test_a_routed_line_is_ordered_through_its_distributor_not_directly(client, shop):
    _site(shop["trust"], "Florence Ward", "SE1 7EH")
    _sign_in(client, shop["trust"])

    splint = _product(client, shop["splint"]).content.decode()
    collar = _product(client, shop["collar"]).content.decode()

    assert "Add to order" in collar
    assert "Order through" not in collar
    assert "Add to order" not in splint
    assert f"Order through {shop['solent'].name}" in splint


def test_the_category_table_offers_a_routed_line_through_its_distributor(client, shop):
    _site(shop["trust"], "Florence Ward", "SE1 7EH")
    _sign_in(client, shop["trust"])
    category = _category(client, "orthopaedics").content.decode()

    assert f"Order via {shop['solent'].name}" in category
    assert category.count('name="quantity"') == 2


def test_a_restricted_line_vanishes_in_scotland_only(client, shop):
    _site(shop["trust"], "Glasgow Clinic", "G3 7RZ")
    _sign_in(client, shop["trust"])

    assert _product(client, shop["swab"]).status_code == 404
    assert _category(client, "rapid-tests").status_code == 404
    assert shop["swab"].sku.encode() not in client.get(
        reverse("product_search"), {"q": "lateral flow"}).content
    client.logout()
    assert _product(client, shop["swab"]).status_code == 200


def test_a_distributor_sees_only_its_own_lines(client, shop):
    _site(shop["pennine"], "Preston Distribution Centre", "PR2 5BL")
    _sign_in(client, shop["pennine"])

    listing = _category(client).content.decode()

    assert _product(client, shop["splint"]).status_code == 200
    assert _product(client, shop["collar"]).status_code == 200
    assert _product(client, shop["swab"]).status_code == 404
    assert "OR-1001" in listing and "Available through" not in listing


def test_a_distributor_outside_its_rights_gets_404(client, shop):
    _site(shop["solent"], "Nursling Distribution Centre", "SO16 0YB")
    _sign_in(client, shop["solent"])

    assert _product(client, shop["splint"]).status_code == 404
    assert _product(client, shop["collar"]).status_code == 404
    assert _category(client).status_code == 404


def test_changing_the_delivery_site_changes_territory_availability_and_cache_key(client, shop):
    london = _site(shop["trust"], "Florence Ward", "SE1 7EH")
    leeds = _site(shop["trust"], "Leeds Theatres", "LS9 6TA")
    _sign_in(client, shop["trust"])
    client.post(reverse("site_switch"), {"site": london.pk})
    in_london = _product(client, shop["splint"])

    client.post(reverse("site_switch"), {"site": leeds.pk})
    in_leeds = _product(client, shop["splint"])

    assert in_london.wsgi_request.buyer.territory == "london"
    assert in_leeds.wsgi_request.buyer.territory == "north-east-and-yorkshire"
    assert in_london.wsgi_request.buyer.cache_key != in_leeds.wsgi_request.buyer.cache_key
    assert b"Available through Solent" in in_london.content
    assert b"Available through" not in in_leeds.content


def test_a_guest_is_told_availability_is_confirmed_at_checkout(client, shop):
    page = _product(client, shop["splint"]).content.decode()

    assert "Availability in your area is confirmed at checkout." in page
    assert "Available through" not in page


def test_category_page_queries_do_not_grow_with_protected_rows(client, shop):
    _site(shop["trust"], "Florence Ward", "SE1 7EH")
    _sign_in(client, shop["trust"])
    orthopaedics = shop["splint"].category
    counts = []
    for extra in (3, 15):
        for _ in range(extra - (len(counts) and 3)):
            grant(shop["solent"], region("london"), product=ProductFactory(category=orthopaedics))
        _category(client)  # warm the per-buyer caches
        with CaptureQueriesContext(connection) as queries:
            assert _category(client).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1], [q["sql"] for q in queries.captured_queries]
