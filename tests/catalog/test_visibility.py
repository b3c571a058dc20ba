"""The visibility matrix: every persona sees exactly its catalogue through every surface."""

import re

import pytest

from catalog.selectors import category_tree, visible_products
from pricing.engine import prices_for
from segments.resolver import BuyerContext, Channel, resolve

from .conftest import PERSONA_SEES

pytestmark = pytest.mark.django_db

PERSONAS = sorted(PERSONA_SEES)


def skus_on(response) -> set[str]:
    assert response.status_code == 200
    return set(re.findall(r'data-sku="([^"]+)"', response.content.decode()))


@pytest.mark.parametrize("persona", PERSONAS)
def test_visible_products_is_exactly_the_personas_catalogue(world, persona):
    buyer = resolve(world.users[persona])

    visible = set(visible_products(buyer).values_list("sku", flat=True))

    assert visible == world.skus(*PERSONA_SEES[persona])


@pytest.mark.parametrize("persona", PERSONAS)
def test_category_pages_list_exactly_the_personas_catalogue(world, client_for, persona):
    client = client_for(persona)

    seen = set()
    for root in ("wound-care", "surgical-instruments", "mobility", "infusion"):
        response = client.get(f"/catalogue/c/{root}/")
        if response.status_code == 404:
            continue
        seen |= skus_on(response)

    assert seen == world.skus(*PERSONA_SEES[persona])


@pytest.mark.parametrize("persona", PERSONAS)
def test_search_finds_only_what_the_persona_may_see(world, client_for, persona):
    client = client_for(persona)

    found = skus_on(client.get("/catalogue/search/", {"q": "Albion"})) | skus_on(
        client.get("/catalogue/search/", {"q": "Severn"})
    )

    assert found == world.skus(*PERSONA_SEES[persona])


@pytest.mark.parametrize("persona", PERSONAS)
def test_product_pages_open_only_for_visible_products(world, client_for, persona):
    client = client_for(persona)

    statuses = {
        name: client.get(f"/catalogue/p/{product.slug}/").status_code
        for name, product in world.products.items()
    }

    assert {name for name, status in statuses.items() if status == 200} == PERSONA_SEES[persona]
    assert {status for name, status in statuses.items() if name not in PERSONA_SEES[persona]} == {
        404
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_prices_are_only_given_for_visible_products(world, persona):
    buyer = resolve(world.users[persona])

    priced = prices_for(buyer, list(world.products.values()))

    assert {world.products[n].pk for n in PERSONA_SEES[persona]} == set(priced)


def test_a_retail_buyer_never_sees_a_professional_only_device_even_when_registered(world):
    retail_catalogue_buyer = BuyerContext(
        user_id=999, channel=Channel.B2C, segments=frozenset({"retail-consumers"}),
        professional=True,
    )

    visible = visible_products(retail_catalogue_buyer)

    assert not visible.filter(professional_only=True).exists()
    assert set(visible.values_list("sku", flat=True)) == world.skus("foam", "plasters", "stick")


@pytest.mark.parametrize("persona", ["patient", "guest"])
def test_a_retail_buyer_meets_no_professional_only_device_on_any_page(world, client_for, persona):
    client = client_for(persona)
    professional = {p for p in world.products.values() if p.professional_only}

    pages = [client.get("/catalogue/"), client.get("/catalogue/c/wound-care/"),
             client.get("/catalogue/c/plasters/"), client.get("/catalogue/search/", {"q": "latex"}),
             client.get("/catalogue/search/", {"q": "Albion"})]
    text = "".join(page.content.decode() for page in pages)

    assert all(page.status_code == 200 for page in pages)
    assert not any(p.sku in text or p.name in text for p in professional)
    assert all(client.get(f"/catalogue/p/{p.slug}/").status_code == 404 for p in professional)


def test_an_organisation_that_is_not_verified_sees_no_professional_only_device(world):
    clinic = world.users["clinic"].memberships.get().organisation
    clinic.professional_status = "pending"
    clinic.save()

    visible = visible_products(resolve(world.users["clinic"]))

    assert set(visible.values_list("sku", flat=True)) == world.skus(
        "foam", "plasters", "excluded_plasters", "stick"
    )


def _tree_names(nodes) -> list:
    return [(n.name, _tree_names(n.children)) if n.children else n.name for n in nodes]


@pytest.mark.parametrize(
    ("persona", "tree"),
    [
        ("nhs", [("Infusion", ["IV cannulas"]), ("Mobility", ["Walking aids"]),
                 ("Surgical instruments", ["Blades", "Custom procedure packs"]),
                 ("Wound care", ["Foam dressings", "Plasters and first aid"])]),
        ("trust2", [("Infusion", ["IV cannulas"]), ("Mobility", ["Walking aids"]),
                    ("Surgical instruments", ["Blades"]),
                    ("Wound care", ["Foam dressings", "Plasters and first aid"])]),
        ("distributor", [("Wound care", ["Foam dressings", "Plasters and first aid"])]),
        ("patient", [("Mobility", ["Walking aids"]),
                     ("Wound care", ["Foam dressings", "Plasters and first aid"])]),
        ("guest", [("Mobility", ["Walking aids"]),
                   ("Wound care", ["Foam dressings", "Plasters and first aid"])]),
    ],
)
def test_each_segment_gets_its_own_category_tree(world, persona, tree):
    assert _tree_names(category_tree(resolve(world.users[persona]))) == tree


def test_a_catalogue_for_an_integrated_care_system_reaches_its_trusts(world):
    ics = world.users["nhs"].memberships.get().organisation.parent
    world.catalogs["riverside"].organisations.set([ics])

    assert world.products["riverside_pack"] in visible_products(resolve(world.users["nhs"]))
    assert world.products["riverside_pack"] not in visible_products(
        resolve(world.users["trust2"])
    )


def test_an_inactive_catalogue_shows_nothing(world):
    retail = world.catalogs["retail"]
    retail.is_active = False
    retail.save()

    assert not visible_products(resolve(None)).exists()
