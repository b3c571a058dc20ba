"""The engine agrees with an oracle written from DESIGN.md's precedence on random worlds:
accepted quote > contract (own organisation, then parent, grandparent …) > segment, territory or
promotion list > list price (B2B) or retail price (B2C); volume tier = highest minimum quantity not
above the quantity; within a level, higher priority, then GBP, then the lowest price wins."""

import datetime
import os
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.engine import prices_for
from pricing.models import Contract, PriceList, PriceListItem, Quote, QuoteLine
from tests.factories import (
    OrganisationFactory,
    PostcodeAreaFactory,
    SegmentFactory,
    TerritoryFactory,
)

from .conftest import b2b, b2c, make_product, today

pytestmark = pytest.mark.django_db

EXAMPLES = 300 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 40
N_ORGS, N_PRODUCTS = 4, 3
SEGMENTS = ("seg-a", "seg-b")
TERRITORY_AREAS = {"terr-south": ("SE", "PL"), "terr-north": ("LS",)}
AREAS = ("SE", "PL", "LS", "")

# Validity periods relative to today: (from, to), None = open.
PERIODS = [(None, None), (-10, None), (-10, 10), (-10, -1), (1, None), (None, 0), (0, 0)]
prices = st.decimals(min_value=Decimal("1.00"), max_value=Decimal("20.00"), places=2)
tiers = st.dictionaries(st.sampled_from([1, 5, 10, 50]), prices, max_size=3)
items = st.dictionaries(st.integers(0, N_PRODUCTS - 1), tiers, max_size=N_PRODUCTS)

price_lists = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["segment", "territory", "promotion"]),
        "currency": st.sampled_from(["GBP", "GBP", "EUR"]),
        "priority": st.sampled_from([0, 0, 1]),
        "active": st.booleans(),
        "period": st.sampled_from(PERIODS),
        "segments": st.sets(st.sampled_from(SEGMENTS), max_size=2),
        "organisations": st.sets(st.integers(0, N_ORGS - 1), max_size=2),
        "territories": st.sets(st.sampled_from(sorted(TERRITORY_AREAS)), max_size=2),
        "items": items,
    }
)
contracts = st.fixed_dictionaries(
    {
        "organisation": st.integers(0, N_ORGS - 1),
        "status": st.sampled_from(["active", "active", "draft", "suspended", "ended"]),
        "period": st.sampled_from(PERIODS[:5]),
        "list_period": st.sampled_from([(None, None), (None, None), (-5, -1)]),
        "priority": st.sampled_from([0, 0, 2]),
        "currency": st.sampled_from(["GBP", "GBP", "EUR"]),
        "items": items,
    }
)
quotes = st.fixed_dictionaries(
    {
        "organisation": st.integers(0, N_ORGS - 1),
        "status": st.sampled_from(["accepted", "accepted", "answered", "rejected", "superseded"]),
        "expires": st.sampled_from([-1, 0, 30]),
        "lines": st.dictionaries(
            st.integers(0, N_PRODUCTS - 1), st.tuples(st.integers(1, 60), prices), min_size=1
        ),
    }
)
worlds = st.fixed_dictionaries(
    {
        "parents": st.lists(st.integers(-1, N_ORGS - 1), min_size=N_ORGS, max_size=N_ORGS),
        "base": items,
        "retail": items,
        "lists": st.lists(price_lists, max_size=4),
        "contracts": st.lists(contracts, max_size=4),
        "quotes": st.lists(quotes, max_size=3),
        "buyer": st.integers(-1, N_ORGS - 1),
        "buyer_segments": st.sets(st.sampled_from(SEGMENTS)),
        "area": st.sampled_from(AREAS),
        "quantity": st.sampled_from([1, 4, 5, 9, 10, 30, 50, 60, 61]),
    }
)


def _day(offset):
    return None if offset is None else today() + datetime.timedelta(days=offset)


def _valid_today(period) -> bool:
    start, end = period
    return (start is None or start <= 0) and (end is None or end >= 0)


def _parents(world) -> list[int | None]:
    """Parent of each organisation; only an earlier one may be a parent, so there are no cycles."""
    return [p if 0 <= p < i else None for i, p in enumerate(world["parents"])]


# ---- the oracle: plain Python over the world description -------------------------------------


def _tier(tier_prices: dict, quantity: int):
    eligible = [m for m in tier_prices if m <= quantity]
    return tier_prices[max(eligible)] if eligible else None


def _best(candidates):
    """(priority, currency, price, …): higher priority, then GBP, then lowest price."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (-c[0], c[1] != "GBP", c[2]))


def oracle(world, product: int) -> tuple[str, Decimal, str] | None:
    quantity, buyer = world["quantity"], world["buyer"]
    parents = _parents(world)
    path = []
    node = buyer if buyer >= 0 else None
    while node is not None:
        path.append(node)
        node = parents[node]
    if buyer >= 0:
        quoted = [
            (0, "GBP", line[1], "quote")
            for q in world["quotes"]
            if q["organisation"] == buyer and q["status"] == "accepted" and q["expires"] >= 0
            for p, line in q["lines"].items()
            if p == product and quantity <= line[0]
        ]
        if quoted:
            best = min(quoted, key=lambda c: c[2])
            return ("quote", best[2], "GBP")
        for org in path:
            found = []
            for c in world["contracts"]:
                if c["organisation"] != org or c["status"] != "active":
                    continue
                if not (_valid_today(c["period"]) and _valid_today(c["list_period"])):
                    continue
                amount = _tier(c["items"].get(product, {}), quantity)
                if amount is not None:
                    found.append((c["priority"], c["currency"], amount, "contract"))
            if found:
                best = _best(found)
                return ("contract", best[2], best[1])
    reached = []
    territories = {t for t, areas in TERRITORY_AREAS.items() if world["area"] in areas}
    for pl in world["lists"]:
        if not pl["active"] or not _valid_today(pl["period"]):
            continue
        if not (
            pl["segments"] & world["buyer_segments"]
            or pl["organisations"] & set(path)
            or pl["territories"] & territories
        ):
            continue
        amount = _tier(pl["items"].get(product, {}), quantity)
        if amount is not None:
            reached.append((pl["priority"], pl["currency"], amount, pl["kind"]))
    if reached:
        best = _best(reached)
        return (best[3], best[2], best[1])
    base_kind = "list" if buyer >= 0 else "retail"
    amount = _tier(world["base" if buyer >= 0 else "retail"].get(product, {}), quantity)
    return None if amount is None else (base_kind, amount, "GBP")


# ---- building the world in the database ------------------------------------------------------


def _list(code, kind, currency="GBP", priority=0, active=True, period=(None, None)):
    return PriceList.objects.create(
        code=code,
        name=code,
        kind=kind,
        currency=currency,
        priority=priority,
        is_active=active,
        valid_from=_day(period[0]),
        valid_to=_day(period[1]),
    )


def _items(price_list, spec, products):
    PriceListItem.objects.bulk_create(
        PriceListItem(price_list=price_list, product=products[p], min_quantity=m, unit_price=v)
        for p, tier_prices in spec.items()
        for m, v in tier_prices.items()
    )


def build(world, fixed):
    products, segments, territories = fixed["products"], fixed["segments"], fixed["territories"]
    organisations = []
    for i, parent in enumerate(_parents(world)):
        organisations.append(
            OrganisationFactory(
                name=f"Org {i}", parent=organisations[parent] if parent is not None else None
            )
        )
    _items(_list("base", "list"), world["base"], products)
    _items(_list("retail", "retail"), world["retail"], products)
    for n, spec in enumerate(world["lists"]):
        pl = _list(
            f"assigned-{n}",
            spec["kind"],
            spec["currency"],
            spec["priority"],
            spec["active"],
            spec["period"],
        )
        pl.segments.set([segments[s] for s in spec["segments"]])
        pl.organisations.set([organisations[o] for o in spec["organisations"]])
        pl.territories.set([territories[t] for t in spec["territories"]])
        _items(pl, spec["items"], products)
    for n, spec in enumerate(world["contracts"]):
        pl = _list(
            f"contract-{n}",
            "contract",
            spec["currency"],
            spec["priority"],
            period=spec["list_period"],
        )
        _items(pl, spec["items"], products)
        Contract.objects.create(
            organisation=organisations[spec["organisation"]],
            reference=f"REF-{n}",
            status=spec["status"],
            price_list=pl,
            valid_from=_day(spec["period"][0]) or today() - datetime.timedelta(days=400),
            valid_to=_day(spec["period"][1]),
        )
    for n, spec in enumerate(world["quotes"]):
        quote = Quote.objects.create(
            organisation=organisations[spec["organisation"]],
            number=f"Q-{n}",
            status=spec["status"],
            expires_on=_day(spec["expires"]),
        )
        QuoteLine.objects.bulk_create(
            QuoteLine(quote=quote, product=products[p], quantity=q, unit_price=v)
            for p, (q, v) in spec["lines"].items()
        )
    if world["buyer"] < 0:
        return b2c(segments=world["buyer_segments"], area=world["area"])
    return b2b(organisations[world["buyer"]], segments=world["buyer_segments"], area=world["area"])


@pytest.fixture
def fixed(db):
    areas = {code: PostcodeAreaFactory(code=code, name=code) for code in ("SE", "PL", "LS")}
    return {
        "products": [make_product() for _ in range(N_PRODUCTS)],
        "segments": {code: SegmentFactory(code=code) for code in SEGMENTS},
        "territories": {
            code: TerritoryFactory(code=code, areas=[areas[a] for a in codes])
            for code, codes in TERRITORY_AREAS.items()
        },
    }


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds)
def test_engine_agrees_with_the_oracle_on_random_worlds(fixed, world):
    with transaction.atomic():
        buyer = build(world, fixed)
        products = fixed["products"]

        result = prices_for(buyer, products, world["quantity"])

        got = {
            i: (r.source, r.unit_price, r.currency)
            for i, p in enumerate(products)
            if (r := result.get(p.pk))
        }
        expected = {i: e for i in range(N_PRODUCTS) if (e := oracle(world, i))}
        transaction.set_rollback(True)
    assert got == expected
