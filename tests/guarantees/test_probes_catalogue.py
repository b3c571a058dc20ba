"""Every buyer of a generated world, on every catalogue surface: the catalogue home, the category
listing with its facets, search, each product page, cart add, quick order and requisition lists,
and the API's product list, product detail and quote basket. A product the oracle hides is 404
or refused everywhere and never listed; a visible one is listed at the oracle's price; no response
carries another account's contract or quote price or reference."""

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import given

from ordering.models import CartLine, RequisitionListLine

from . import oracle
from .conftest import examples
from .probing import (
    api_client,
    body_of,
    check_invisible_absent,
    check_leaks,
    facts,
    login,
)
from .world import build, worlds

pytestmark = pytest.mark.django_db


def _price_shown(body: str, amount) -> bool:
    return bool(oracle.leaks(body, {f"{amount:,.2f}" if amount >= 1000 else str(amount): ""}))


def _pages(client, world, person, tally) -> list[str]:
    spec, buyer = world.spec, facts(world, person)
    secrets = oracle.secrets(spec, buyer)
    shown = [p.index for p in spec.products if oracle.visible(spec, buyer, p.index)]
    hidden = [p.index for p in spec.products if p.index not in shown]
    problems = []
    login(client, person)
    listings = {
        "catalogue home": reverse("catalogue_home"),
        "category listing and facets": reverse("category_browse",
                                               args=[f"gt-devices-{spec.tag}"]),
        "search": reverse("product_search") + f"?q=Guarantee+device+{spec.tag}",
        "search by SKU prefix": reverse("product_search") + f"?q=GT{spec.tag}",
    }
    for name, url in listings.items():
        response = client.get(url)
        where = f"{person.key} {name}"
        body = body_of(response)
        problems += check_leaks(tally, body, secrets, where)
        problems += check_invisible_absent(tally, body, world, hidden, where)
        if name == "category listing and facets" and shown:
            missing = [i for i in shown if world.products[i].sku not in body]
            problems += tally.probe("oracle", [f"{where}: visible product {i} not listed"
                                               for i in missing])
    for index, product in world.products.items():
        response = client.get(reverse("product_detail", args=[product.slug]))
        where = f"{person.key} product page {index}"
        problems += check_leaks(tally, body_of(response), secrets, where)
        if index in hidden:
            problems += tally.probe("invisible", [] if response.status_code == 404 else [
                f"{where}: invisible product answered {response.status_code}"])
            continue
        expected = oracle.price(spec, buyer, index)
        wrong = response.status_code != 200 or (
            expected is not None and not _price_shown(body_of(response), expected))
        problems += tally.probe("oracle", [f"{where}: status {response.status_code}, "
                                           f"price {expected} not shown"] if wrong else [])
    return problems


def _cart_and_lists(client, world, person, tally) -> list[str]:
    spec, buyer = world.spec, facts(world, person)
    secrets = oracle.secrets(spec, buyer)
    hidden = [p.index for p in spec.products if not oracle.visible(spec, buyer, p.index)]
    problems = []
    for index in hidden:
        product = world.products[index]
        response = client.post(reverse("cart_add"), {"product": product.pk, "quantity": 1})
        added = CartLine.objects.filter(cart__user=person.user, product=product).exists()
        problems += tally.probe("invisible", [f"{person.key} cart add of invisible {index}: "
                                              f"{response.status_code}, in cart"] if added else [])
    lines = "\n".join(f"{world.products[i].sku} 1" for i in sorted(world.products))
    response = client.post(reverse("quick_order"), {"lines": lines})
    problems += check_leaks(tally, body_of(response), secrets, f"{person.key} quick order")
    in_cart = set(CartLine.objects.filter(cart__user=person.user)
                  .values_list("product_id", flat=True))
    smuggled = [i for i in hidden if world.products[i].pk in in_cart]
    problems += tally.probe("invisible", [f"{person.key} quick order added invisible {smuggled}"]
                            if smuggled else [])
    response = client.get(reverse("cart"))
    problems += check_leaks(tally, body_of(response), secrets, f"{person.key} cart")
    response = client.post(reverse("requisition_lists"), {"name": "Ward top-up"})
    if response.status_code in (200, 302) and response.headers.get("Location"):
        list_url = response.headers["Location"]
        list_id = int(list_url.rstrip("/").split("/")[-1])
        for index in hidden:
            client.post(reverse("requisition_list_add", args=[list_id]),
                        {"sku": world.products[index].sku, "quantity": 1})
        smuggled = list(RequisitionListLine.objects.filter(
            requisition_list_id=list_id, product__in=[world.products[i] for i in hidden]))
        problems += tally.probe("invisible", [f"{person.key} list holds invisible {smuggled}"]
                                if smuggled else [])
        response = client.get(list_url)
        problems += check_leaks(tally, body_of(response), secrets, f"{person.key} list page")
    return problems


def _api(world, org_key, tally) -> list[str]:
    spec = world.spec
    buyer = oracle.buyer_facts(spec, f"{org_key} API key", org_key)
    secrets = oracle.secrets(spec, buyer)
    hidden = [p.index for p in spec.products if not oracle.visible(spec, buyer, p.index)]
    client = api_client(world, org_key)
    problems = []
    for name, url in {"API products": "/api/v1/products/?page_size=100",
                      "API contracts": "/api/v1/contracts/", "API quotes": "/api/v1/quotes/",
                      "API me": "/api/v1/me/"}.items():
        body = body_of(client.get(url))
        problems += check_leaks(tally, body, secrets, f"{org_key} {name}")
        if name == "API products":
            problems += check_invisible_absent(tally, body, world, hidden, f"{org_key} {name}")
    for index, product in world.products.items():
        response = client.get(f"/api/v1/products/{product.sku}/")
        where = f"{org_key} API product {index}"
        problems += check_leaks(tally, body_of(response), secrets, where)
        if index in hidden:
            problems += tally.probe("invisible", [] if response.status_code == 404 else [
                f"{where}: invisible product answered {response.status_code}"])
        response = client.post("/api/v1/prices/quote-basket/",
                               {"lines": [{"sku": product.sku, "quantity": 1}]}, format="json")
        where = f"{org_key} API quote basket {index}"
        body = body_of(response)
        problems += check_leaks(tally, body, secrets, where)
        if index in hidden:
            problems += tally.probe("invisible", [] if response.status_code >= 400 else [
                f"{where}: invisible product priced ({response.status_code})"])
        else:
            expected = oracle.price(spec, buyer, index)
            problems += tally.probe("oracle", [] if _price_shown(body, expected) else [
                f"{where}: expected {expected}, got {body[:300]}"])
    return problems


@examples(ci=5, thorough=60)
@given(spec=worlds())
def test_catalogue_surfaces_agree_with_the_oracle_for_every_buyer(spec, client, tally):
    problems = []
    with transaction.atomic():
        world = build(spec)
        for person in world.buyers():
            problems += _pages(client, world, person, tally)
            problems += _cart_and_lists(client, world, person, tally)
        for org in spec.organisations:
            problems += _api(world, org.key, tally)
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)


def _shared_cache_may_store(response) -> bool:
    directives = response.headers.get("Cache-Control", "").lower()
    return not ("private" in directives or "no-store" in directives)


@examples(ci=2, thorough=20)
@given(spec=worlds())
def test_personal_responses_are_never_stored_by_a_shared_cache(spec, client, tally):
    problems = []
    with transaction.atomic():
        world = build(spec)
        for org in spec.organisations:
            api = api_client(world, org.key)
            sku = world.products[0].sku
            for url in ("/api/v1/me/", "/api/v1/products/", f"/api/v1/products/{sku}/",
                        "/api/v1/contracts/", "/api/v1/quotes/", "/api/v1/orders/"):
                response = api.get(url)
                problems += tally.probe("leak", [
                    f"{org.key} {url}: Cache-Control {response.headers.get('Cache-Control')!r}"
                ] if response.status_code == 200 and _shared_cache_may_store(response) else [])
            response = api.post("/api/v1/prices/quote-basket/",
                                {"lines": [{"sku": sku, "quantity": 1}]}, format="json")
            problems += tally.probe("leak", [
                f"{org.key} quote basket: Cache-Control {response.headers.get('Cache-Control')!r}"
            ] if response.status_code == 200 and _shared_cache_may_store(response) else [])
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)
