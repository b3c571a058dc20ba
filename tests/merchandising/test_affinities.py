"""The figures of "often ordered together" against a hand-computed basket history: support,
confidence and lift, the basket cap, the minimum support and lift, the peer favourites, the
scopes that have enough orders, and the recompute run by the segment job."""

import pytest

from merchandising.models import EVERYONE, PeerFavourite, ProductAffinity, segment_scope
from merchandising.services import AffinitySettings, recompute_affinities
from segments.models import RunStatus
from segments.services import recompute_segments
from tests.catalog.factories import ProductFactory
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    UserFactory,
)
from tests.factories.orders import history_order

pytestmark = pytest.mark.django_db

# Every consumer below places one order, so orders and buyers count alike.
BASKETS = ["AB", "AB", "ABC", "AC", "BC", "D"]
BIG_BASKET = "ABCDE"  # over a cap of 4 distinct products: not a basket, left out
KNOBS = AffinitySettings(basket_cap=4, min_support=2, min_scope_orders=3, min_lift=0.0)


@pytest.fixture
def products():
    return {letter: ProductFactory(name=f"Product {letter}") for letter in "ABCDE"}


def _consumer_orders(products, baskets, **kwargs):
    for letters in baskets:
        history_order(products=[products[x] for x in letters], user=UserFactory(), **kwargs)


@pytest.fixture
def history(products):
    _consumer_orders(products, BASKETS)
    _consumer_orders(products, [BIG_BASKET])
    _consumer_orders(products, ["AB", "AB"], state="cancelled")
    _consumer_orders(products, ["AB"], state="pending_approval")
    _consumer_orders(products, ["AB", "AB"], days_ago=800)  # before the 730 days looked at
    return products


def _pairs(products, scope=EVERYONE) -> dict:
    names = {p.pk: letter for letter, p in products.items()}
    return {
        names[a.product_id] + names[a.other_id]: (a.support, round(a.confidence, 4),
                                                   round(a.lift, 4), a.scope_orders)
        for a in ProductAffinity.objects.filter(scope=scope)
    }


def test_support_confidence_and_lift_match_the_hand_computed_figures(history):
    recompute_affinities(knobs=KNOBS)

    # Six baskets count: A in 4, B in 4, C in 3; A+B in 3, A+C in 2, B+C in 2.
    assert _pairs(history) == {
        "AB": (3, 0.75, 1.125, 6), "BA": (3, 0.75, 1.125, 6),
        "AC": (2, 0.5, 1.0, 6), "CA": (2, round(2 / 3, 4), 1.0, 6),
        "BC": (2, 0.5, 1.0, 6), "CB": (2, round(2 / 3, 4), 1.0, 6),
    }


def test_only_pairs_ordered_together_more_than_by_chance_are_kept(history):
    recompute_affinities(knobs=AffinitySettings(basket_cap=4, min_support=2))

    assert set(_pairs(history)) == {"AB", "BA"}


def test_the_minimum_support_drops_rarer_pairs(history):
    recompute_affinities(knobs=AffinitySettings(basket_cap=4, min_support=3, min_lift=0.0))

    assert set(_pairs(history)) == {"AB", "BA"}


def test_a_basket_over_the_cap_is_left_out_and_counts_once_the_cap_allows_it(history):
    recompute_affinities(knobs=KNOBS)
    assert not {pair for pair in _pairs(history) if "E" in pair or "D" in pair}

    recompute_affinities(knobs=AffinitySettings(basket_cap=5, min_support=2, min_lift=0.0))

    # Seven baskets now: A in 5, B in 5, A+B in 4; D in 2, D+E once (below the support).
    assert _pairs(history)["AB"] == (4, 0.8, round(4 * 7 / 25, 4), 7)
    assert not {pair for pair in _pairs(history) if "E" in pair}


def test_peer_favourites_count_buyers_and_their_share(history):
    recompute_affinities(knobs=KNOBS)

    names = {p.pk: letter for letter, p in history.items()}
    shares = {names[f.product_id]: (f.buyers, round(f.share, 4), f.lift)
              for f in PeerFavourite.objects.filter(scope=EVERYONE)}
    assert shares == {"A": (4, round(4 / 6, 4), 1.0), "B": (4, round(4 / 6, 4), 1.0),
                      "C": (3, 0.5, 1.0)}


def test_a_segment_is_a_scope_only_with_enough_orders(products):
    big, small = SegmentFactory(code="framework-a"), SegmentFactory(code="framework-b")
    for segment, baskets in ((big, ["AB", "AB", "AB", "C"]), (small, ["AB", "AB"])):
        organisation = OrganisationFactory()
        SegmentMembershipFactory(segment=segment, organisation=organisation)
        user = MembershipFactory(organisation=organisation).user
        for letters in baskets:
            history_order(products=[products[x] for x in letters], user=user,
                          organisation=organisation)

    recompute_affinities(knobs=KNOBS)

    # framework-a: four orders, A and B in three of them, together in three: lift 3 × 4 / 9.
    assert _pairs(products, segment_scope("framework-a"))["AB"] == (3, 1.0, round(4 / 3, 4), 4)
    assert _pairs(products, segment_scope("framework-b")) == {}
    assert _pairs(products)["AB"][0] == 5


def test_recompute_replaces_the_previous_figures(history):
    recompute_affinities(knobs=KNOBS)
    recompute_affinities(knobs=AffinitySettings(basket_cap=4, min_support=9))

    assert not ProductAffinity.objects.exists()


def test_the_segment_job_recomputes_the_affinities(history, settings):
    settings.MERCHANDISING_BASKET_CAP = 4
    settings.MERCHANDISING_MIN_SUPPORT = 2

    run = recompute_segments(full=True)

    assert run.status == RunStatus.DONE, run.error
    assert "affinities" in run.timings
    assert run.counts["affinities"]["pairs"] == ProductAffinity.objects.count() == 2
    assert set(_pairs(history)) == {"AB", "BA"}


def test_a_nightly_incremental_run_keeps_the_figures_of_the_last_full_run(history, settings):
    settings.MERCHANDISING_BASKET_CAP = 4
    settings.MERCHANDISING_MIN_SUPPORT = 2
    recompute_segments(full=True)
    history_order(products=[history["D"], history["E"]], user=UserFactory())
    before = list(ProductAffinity.objects.values_list("scope", "product", "other", "support"))

    run = recompute_segments(full=False)

    assert run.status == RunStatus.DONE, run.error
    assert run.counts["affinities"] == {}
    assert list(ProductAffinity.objects.values_list("scope", "product", "other",
                                                    "support")) == before
