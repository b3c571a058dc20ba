"""availability_for, the category page and the product page agree with an oracle written from the
territory rules (docs/territories.md, DESIGN.md) on random worlds: random rights (exclusive or not,
validity windows around today, products or categories, territories sharing postcode areas) and
restrictions, for guests, trusts and distributors in random postcode areas. Validation is checked
too: every right the service accepted conflicts with none accepted before it, and every right it
refused conflicts with one of them."""

import datetime
import os
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Site
from accounts.services import site_save
from segments.models import Audience, SegmentKind
from territories import services
from territories.models import DistributorProfile, Territory, TerritoryRestriction, TerritoryRight
from territories.rules import availability_for
from tests.catalog.factories import CatalogFactory, CategoryFactory, ProductFactory
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    SegmentFactory,
    UserFactory,
)

from .conftest import buyer_in, region, today

pytestmark = pytest.mark.django_db

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
EXAMPLES = 300 if THOROUGH else 30
PAGE_EXAMPLES = 100 if THOROUGH else 15

# The fixed shape of every world, as plain data for the oracle.
CATEGORY_PARENT = {"A": None, "A1": "A", "A2": "A", "B": None}
PRODUCT_CATEGORY = {0: "A1", 1: "A1", 2: "A2", 3: "B"}
DISTRIBUTORS = ("Avon Medical Ltd", "Brent Surgical Ltd", "Calder Healthcare Ltd")
TERRITORY_AREAS = {  # the test areas each territory holds
    "london": {"SE"},
    "north-east-and-yorkshire": {"LS"},
    "south-west": {"PL"},
    "scotland": {"G"},
    "terr-x": {"SE", "LS"},
}
AREA_POSTCODE = {"SE": "SE1 7EH", "LS": "LS9 6TA", "PL": "PL4 0DQ", "G": "G3 7RZ", "": ""}
PERIODS = [(-30, None), (-30, 0), (-30, -1), (0, None), (1, None), (0, 0), (-5, 5)]
LINES = [("product", p) for p in PRODUCT_CATEGORY] + [("category", c) for c in CATEGORY_PARENT]

rights = st.fixed_dictionaries({
    "holder": st.integers(0, len(DISTRIBUTORS) - 1),
    "territory": st.sampled_from(sorted(TERRITORY_AREAS)),
    "line": st.sampled_from(LINES),
    "exclusive": st.booleans(),
    "period": st.sampled_from(PERIODS),
})
restrictions = st.fixed_dictionaries({
    "territory": st.sampled_from(sorted(TERRITORY_AREAS)),
    "line": st.sampled_from(LINES),
    "period": st.sampled_from(PERIODS),
})
worlds = st.fixed_dictionaries({
    "rights": st.lists(rights, max_size=6),
    "restrictions": st.lists(restrictions, max_size=2),
    "buyer": st.sampled_from(["guest", "trust", "distributor"]),  # a guest with an area: a consumer
    "holder": st.integers(0, len(DISTRIBUTORS) - 1),
    "area": st.sampled_from(sorted(AREA_POSTCODE)),
})


# ---- the oracle: plain Python over the world description -------------------------------------


def _under(category: str, ancestor: str) -> bool:
    while category is not None:
        if category == ancestor:
            return True
        category = CATEGORY_PARENT[category]
    return False


def covers(line, product: int) -> bool:
    kind, value = line
    return value == product if kind == "product" else _under(PRODUCT_CATEGORY[product], value)


def lines_overlap(a, b) -> bool:
    return any(covers(a, p) and covers(b, p) for p in PRODUCT_CATEGORY)


def valid_today(period) -> bool:
    start, end = period
    return start <= 0 and (end is None or end >= 0)


def periods_overlap(a, b) -> bool:
    return (a[1] is None or b[0] <= a[1]) and (b[1] is None or a[0] <= b[1])


def conflict(a, b) -> bool:
    if not (a["exclusive"] or b["exclusive"]):
        return False
    if not (a["exclusive"] and b["exclusive"]) and a["holder"] == b["holder"]:
        return False
    return (
        bool(TERRITORY_AREAS[a["territory"]] & TERRITORY_AREAS[b["territory"]])
        and periods_overlap(a["period"], b["period"])
        and lines_overlap(a["line"], b["line"])
    )


def applies(row, product: int, area: str) -> bool:
    return (
        area in TERRITORY_AREAS[row["territory"]]
        and valid_today(row["period"])
        and covers(row["line"], product)
    )


def oracle(world, accepted, product: int) -> tuple[str, int | None]:
    """(status, distributor index when routed)."""
    area, kind = world["area"], world["buyer"]
    if not area:
        return ("unavailable", None) if kind == "distributor" else ("direct", None)
    if any(applies(r, product, area) for r in world["restrictions"]):
        return ("unavailable", None)
    holding = [r for r in accepted if applies(r, product, area)]
    if kind == "distributor":
        own = [r for r in holding if r["holder"] == world["holder"]]
        others_exclusive = [r for r in holding if r["exclusive"] and r["holder"] != world["holder"]]
        if own and not (others_exclusive and not any(r["exclusive"] for r in own)):
            return ("direct", None)
        return ("unavailable", None)
    exclusive = [r for r in holding if r["exclusive"]]
    return ("via_distributor", exclusive[0]["holder"]) if exclusive else ("direct", None)


# ---- building the world in the database ------------------------------------------------------


@pytest.fixture
def fixed(db):
    categories = {}
    for name, parent in CATEGORY_PARENT.items():
        categories[name] = CategoryFactory(
            name=f"Category {name}", slug=f"category-{name.lower()}",
            parent=categories[parent] if parent else None,
        )
    products = {
        i: ProductFactory(sku=f"TR-{i:04d}", category=categories[c])
        for i, c in PRODUCT_CATEGORY.items()
    }
    distributors = []
    for name in DISTRIBUTORS:
        organisation = OrganisationFactory(name=name, kind="distributor", postcode="")
        services.distributor_profile_save(profile=DistributorProfile(
            organisation=organisation, contact_name="Orders desk", phone="0113 496 0000",
            email=f"orders.{organisation.pk}@demo.test",
        ))
        distributors.append(organisation)
    territories = {code: region(code) for code in TERRITORY_AREAS if code != "terr-x"}
    territories["terr-x"] = Territory.objects.create(code="terr-x", name="Territory X")
    territories["terr-x"].areas.add(*TERRITORY_AREAS["terr-x"])
    everyone = SegmentFactory(code="everyone", kind=SegmentKind.RULE, audience=Audience.CONSUMERS)
    catalog = CatalogFactory(categories=[categories["A"], categories["B"]], segments=[everyone],
                             organisations=distributors)
    return {"categories": categories, "products": products, "distributors": distributors,
            "territories": territories, "catalog": catalog}


def _day(offset):
    return None if offset is None else today() + datetime.timedelta(days=offset)


def _line_fields(line, fixed) -> dict:
    kind, value = line
    if kind == "product":
        return {"product": fixed["products"][value]}
    return {"category": fixed["categories"][value]}


def build(world, fixed) -> tuple[list, list]:
    """Save the rights through the service; return (accepted, refused) specs."""
    accepted, refused = [], []
    for spec in world["rights"]:
        right = TerritoryRight(
            distributor=fixed["distributors"][spec["holder"]],
            territory=fixed["territories"][spec["territory"]], exclusive=spec["exclusive"],
            valid_from=_day(spec["period"][0]), valid_to=_day(spec["period"][1]),
            **_line_fields(spec["line"], fixed),
        )
        try:
            services.territory_right_save(right=right)
            accepted.append(spec)
        except ValidationError:
            refused.append(spec)
    for spec in world["restrictions"]:
        services.territory_restriction_save(restriction=TerritoryRestriction(
            territory=fixed["territories"][spec["territory"]], reason="Not sold here",
            valid_from=_day(spec["period"][0]), valid_to=_day(spec["period"][1]),
            **_line_fields(spec["line"], fixed),
        ))
    return accepted, refused


def buyer_organisation(world, fixed):
    """The organisation the buyer orders for (None for a guest), delivering to the world's area."""
    if world["buyer"] == "guest":
        return None
    if world["buyer"] == "trust":
        organisation = OrganisationFactory(name="Example Hospitals NHS Trust", postcode="")
        fixed["catalog"].organisations.add(organisation)
    else:
        organisation = fixed["distributors"][world["holder"]]
    if world["area"]:
        site_save(site=Site(organisation=organisation, name="Main stores", kind="stores",
                            address_line1="1 Example Road", town="Example",
                            postcode=AREA_POSTCODE[world["area"]]))
    return organisation


def expected_all(world, accepted):
    return {p: oracle(world, accepted, p) for p in PRODUCT_CATEGORY}


def _got(answers, fixed):
    distributor_index = {d.pk: i for i, d in enumerate(fixed["distributors"])}
    return {
        i: (a.status, distributor_index.get(a.distributor_id))
        for i, p in fixed["products"].items()
        if (a := answers[p.pk])
    }


def _check_validation(accepted, refused, world):
    for n, spec in enumerate(accepted):
        assert not any(conflict(spec, earlier) for earlier in accepted[:n])
    for spec in refused:
        assert any(conflict(spec, kept) for kept in accepted)


def _settings(examples: int):
    return settings(
        max_examples=examples, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@_settings(EXAMPLES)
@given(world=worlds)
def test_availability_agrees_with_the_oracle(fixed, world):
    with transaction.atomic():
        accepted, refused = build(world, fixed)
        organisation = None if world["buyer"] == "guest" else fixed["distributors"][world["holder"]]
        if world["buyer"] == "trust":
            organisation = OrganisationFactory(name="Example Hospitals NHS Trust", postcode="")
        buyer = buyer_in(world["area"], organisation=organisation,
                         distributor_buyer=world["buyer"] == "distributor")

        got = _got(availability_for(buyer, fixed["products"].values()), fixed)
        transaction.set_rollback(True)

    _check_validation(accepted, refused, world)
    assert got == expected_all(world, accepted)


def _rows_by_sku(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-sku="([^"]+)"(.*?)</(?:tr|li)>', html, flags=re.S))


def _page_says(fragment: str, status: str, holder: int | None) -> bool:
    if status == "via_distributor":
        return f"Available through {DISTRIBUTORS[holder]}" in fragment
    return "Available through" not in fragment


@_settings(PAGE_EXAMPLES)
@given(world=worlds)
def test_category_and_product_pages_agree_with_the_oracle(fixed, world, client):
    with transaction.atomic():
        accepted, _refused = build(world, fixed)
        organisation = buyer_organisation(world, fixed)
        client.logout()
        if organisation is not None:
            client.force_login(MembershipFactory(organisation=organisation).user)
        elif world["area"]:  # a retail consumer with a home postcode in the area
            client.force_login(UserFactory(postcode=AREA_POSTCODE[world["area"]]))
        expected = expected_all(world, accepted)

        listed = {}
        for root in ("A", "B"):
            response = client.get(reverse("category_browse", args=[f"category-{root.lower()}"]))
            listed |= _rows_by_sku(response.content.decode()) if response.status_code == 200 else {}
        pages = {
            i: client.get(reverse("product_detail", args=[p.slug]))
            for i, p in fixed["products"].items()
        }
        transaction.set_rollback(True)

    for i, product in fixed["products"].items():
        status, holder = expected[i]
        hidden = status == "unavailable" and (
            world["buyer"] == "distributor"
            or any(applies(r, i, world["area"]) for r in world["restrictions"])
        )
        assert (product.sku in listed) is not hidden, (i, expected[i])
        assert pages[i].status_code == (404 if hidden else 200), (i, expected[i])
        if not hidden:
            assert _page_says(listed[product.sku], status, holder), (i, expected[i])
            assert _page_says(pages[i].content.decode(), status, holder), (i, expected[i])
