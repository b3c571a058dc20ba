"""Property: whatever the figures say, complementary products and "accounts like yours" show a
buyer exactly the products the oracle of tests/guarantees lets it see and obtain in its territory,
at the price the oracle gives it (never another account's contract or quote price), and the
product page that shows them carries no other account's price.

The figures of a generated world relate every product to every other (all buyers, and each
segment of the world, with drawn lifts), so only the rules can keep a product away."""

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from merchandising.models import EVERYONE, PeerFavourite, ProductAffinity, segment_scope
from merchandising.selectors import complementary_for, peers_also_order
from pricing.engine import prices_for
from segments.models import Segment
from segments.resolver import resolve
from tests.guarantees import oracle
from tests.guarantees.conftest import examples
from tests.guarantees.probing import body_of, facts, login
from tests.guarantees.world import build, worlds

pytestmark = pytest.mark.django_db


def _figures(world, lifts: list[float]) -> None:
    """Every ordered pair of products in every scope, and every product a peer favourite."""
    now, drawn = timezone.now(), iter(lifts * 100)
    scopes = [EVERYONE, *(segment_scope(code) for code in Segment.objects.values_list(
        "code", flat=True))]
    products = list(world.products.values())
    ProductAffinity.objects.bulk_create([
        ProductAffinity(scope=scope, product=a, other=b, support=3, scope_orders=30,
                        confidence=0.5, lift=next(drawn), computed_at=now)
        for scope in scopes for a in products for b in products if a != b
    ])
    PeerFavourite.objects.bulk_create([
        PeerFavourite(scope=scope, product=p, buyers=3, share=0.3, lift=next(drawn),
                      computed_at=now)
        for scope in scopes for p in products
    ])


def _allowed(spec, buyer, index: int) -> bool:
    return (oracle.visible(spec, buyer, index)
            and oracle.route(spec, buyer, index, buyer.area) != oracle.NOWHERE)


def _check(world, person, shown, asked: set[int], where: str) -> list[str]:
    spec, buyer = world.spec, facts(world, person)
    index_of = {p.pk: i for i, p in world.products.items()}
    context = resolve(person.user)
    expected = {i for i in world.products if i not in asked and _allowed(spec, buyer, i)}
    problems = []
    got = {index_of[r.product.pk] for r in shown}
    if got != expected:
        problems.append(f"{where}: shown {sorted(got)}, the oracle allows {sorted(expected)}")
    engine = prices_for(context, [r.product for r in shown])
    for r in shown:
        index = index_of[r.product.pk]
        if r.price != engine.get(r.product.pk):
            problems.append(f"{where}: product {index} at {r.price.unit_price}, not the "
                            f"engine's price for this buyer")
        price = oracle.price(spec, buyer, index)
        if price is not None and r.price.unit_price != price:
            problems.append(f"{where}: product {index} at {r.price.unit_price}, oracle {price}")
    return problems


@examples(ci=4, thorough=60)
@given(spec=worlds(), lifts=st.lists(st.floats(1.01, 20.0), min_size=1, max_size=7))
def test_recommendations_show_only_what_the_rules_allow_at_the_buyers_price(spec, lifts, client):
    problems = []
    with transaction.atomic():
        world = build(spec)
        _figures(world, lifts)
        for person in world.buyers():
            buyer = resolve(person.user)
            for index, product in world.products.items():
                shown = complementary_for(buyer, product_ids=[product.pk], limit=50)
                problems += _check(world, person, shown, {index},
                                   f"{person.key} with product {index}")
            problems += _check(world, person, peers_also_order(buyer, limit=50), set(),
                               f"{person.key} accounts like yours")
            problems += _page_leaks(client, world, person)
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)


def _page_leaks(client, world, person) -> list[str]:
    """The product page of each product the buyer sees carries no other account's secret."""
    spec, buyer = world.spec, facts(world, person)
    secrets = oracle.secrets(spec, buyer)
    login(client, person)
    problems = []
    for index, product in world.products.items():
        if oracle.visible(spec, buyer, index):
            body = body_of(client.get(reverse("product_detail", args=[product.slug])))
            problems += [f"{person.key} product page {index}: {leak}"
                         for leak in oracle.leaks(body, secrets)]
    return problems
