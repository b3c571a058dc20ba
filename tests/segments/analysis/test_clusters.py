"""Clustering: planted groups of buyers are found again, the same seed gives the same clusters and
names, staff's names and segments follow a cluster through a refit, and the cost of a fit does not
grow with the number of buyers."""

import datetime
import itertools
import random
from decimal import Decimal

import numpy as np
import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from sklearn.metrics import silhouette_score

from accounts.models import OrganisationKind, SizeBand
from segments.analysis import clusters as clusters_module
from segments.analysis.clusters import cadence_word, cluster_segment_create, fit_clusters
from segments.models import Audience, BuyerFacts, Cluster, ComputedBasis, Segment, SegmentKind
from tests.catalog.factories import CategoryFactory
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.analysis_clusters import (
    AS_OF,
    BuyerCategoryFactsFactory,
    BuyerFactsFactory,
    NoOrdersFactsFactory,
)

pytestmark = pytest.mark.django_db

TRUSTS = "large NHS trusts · weekly · wound care heavy"
CLINICS = "small private clinics · quarterly · surgical instruments heavy"
CARE_HOMES = "micro care homes · monthly · mixed"


@pytest.fixture
def categories():
    wound = CategoryFactory(name="Wound care", slug="wound-care")
    surgical = CategoryFactory(name="Surgical instruments", slug="surgical-instruments")
    return {
        "wound": wound,
        "foam": CategoryFactory(name="Foam dressings", slug="foam-dressings", parent=wound),
        "blades": CategoryFactory(name="Blades", slug="blades", parent=surgical),
        "continence": CategoryFactory(name="Continence", slug="continence"),
        "mobility": CategoryFactory(name="Mobility aids", slug="mobility-aids"),
    }


# Three kinds of organisation that buy very differently: (kind, size band, orders in 12 months,
# revenue, days since the last order, cadence, {category: share of revenue}).
GROUPS = {
    "trusts": (OrganisationKind.NHS_TRUST, SizeBand.LARGE, 50, 200_000, 3, 7,
               {"foam": 0.8, "blades": 0.2}),
    "clinics": (OrganisationKind.PRIVATE_CLINIC, SizeBand.SMALL, 4, 2_000, 60, 90,
                {"blades": 0.9, "wound": 0.1}),
    "care_homes": (OrganisationKind.CARE_HOME, SizeBand.MICRO, 12, 6_000, 15, 30,
                   {"wound": 0.35, "continence": 0.35, "mobility": 0.3}),
}


def _jitter(rng, value):
    return value * rng.uniform(0.85, 1.15)


def _buyer(rng, categories, group, *, consumer=False):
    kind, band, orders, revenue, recency, cadence, mix = GROUPS[group]
    owner = (
        {"organisation": None, "user": UserFactory()}
        if consumer
        else {"organisation": OrganisationFactory(kind=kind, size_band=band)}
    )
    orders = max(1, round(_jitter(rng, orders)))
    revenue = Decimal(str(round(_jitter(rng, revenue), 2)))
    facts = BuyerFactsFactory(
        **owner, orders_12m=orders, revenue_12m=revenue,
        last_order_at=AS_OF - datetime.timedelta(days=_jitter(rng, recency)),
        cadence_days=_jitter(rng, cadence),
    )
    for name, share in mix.items():
        BuyerCategoryFactsFactory(
            facts=facts, category=categories[name],
            revenue_12m=(revenue * Decimal(str(share))).quantize(Decimal("0.01")),
        )
    return facts


def _world(categories, sizes, *, seed=1, consumer=False):
    """{facts id: planted group} for `sizes` = {group: how many buyers}."""
    rng = random.Random(seed)
    return {
        _buyer(rng, categories, group, consumer=consumer).pk: group
        for group, size in sizes.items()
        for _ in range(size)
    }


def _assignments(ids) -> dict[int, int | None]:
    rows = BuyerFacts.objects.filter(pk__in=ids).values_list("pk", "cluster__number")
    return dict(rows)


def _pairwise_agreement(planted: dict, found: dict) -> float:
    """The share of pairs of buyers on which both groupings agree (same group or not)."""
    pairs = list(itertools.combinations(sorted(planted), 2))
    agree = sum((planted[a] == planted[b]) == (found[a] == found[b]) for a, b in pairs)
    return agree / len(pairs)


def test_three_planted_kinds_of_organisation_are_found_again(categories):
    planted = _world(categories, {"trusts": 12, "clinics": 11, "care_homes": 10})

    clusters = fit_clusters()

    assert [(c.audience, c.number, c.size) for c in clusters] == [
        (Audience.ORGANISATIONS, 1, 12), (Audience.ORGANISATIONS, 2, 11),
        (Audience.ORGANISATIONS, 3, 10),
    ]
    assert _pairwise_agreement(planted, _assignments(planted)) == 1.0


def test_each_cluster_has_a_readable_name_and_profile(categories):
    planted = _world(categories, {"trusts": 12, "clinics": 11, "care_homes": 10})

    clusters = {c.number: c for c in fit_clusters()}

    assert [clusters[n].generated_name for n in (1, 2, 3)] == [TRUSTS, CLINICS, CARE_HOMES]
    trusts = clusters[1].profile
    assert trusts["size"] == 12
    assert trusts["share_of_audience"] == round(12 / 33, 3)
    assert [c["name"] for c in trusts["top_categories"]] == ["Wound care", "Surgical instruments"]
    assert trusts["top_categories"][0]["share"] == pytest.approx(0.8, abs=0.005)
    assert trusts["kinds"] == [{"code": "nhs_trust", "label": "NHS trust", "share": 1.0}]
    assert trusts["size_bands"][0]["code"] == "large"
    members = [pk for pk, group in planted.items() if group == "trusts"]
    facts = BuyerFacts.objects.filter(pk__in=members)
    revenues = sorted(f.revenue_12m for f in facts)
    assert Decimal(trusts["medians"]["revenue_12m"]) == (revenues[5] + revenues[6]) / 2
    orders = sorted(f.orders_12m for f in facts)
    assert trusts["medians"]["orders_12m"] == (orders[5] + orders[6]) / 2
    days = sorted((f.computed_at - f.last_order_at).total_seconds() / 86400 for f in facts)
    assert trusts["medians"]["recency_days"] == pytest.approx((days[5] + days[6]) / 2, abs=0.05)
    care_homes = clusters[3].profile
    assert [c["name"] for c in care_homes["top_categories"]] == [
        "Wound care", "Continence", "Mobility aids",
    ]


def test_a_large_audience_is_fitted_on_a_sample_then_on_every_row(categories, monkeypatch):
    monkeypatch.setattr(clusters_module, "SILHOUETTE_SAMPLE", 15)
    monkeypatch.setattr(clusters_module, "MINI_BATCH_ABOVE", 20)
    planted = _world(categories, {"trusts": 12, "clinics": 11, "care_homes": 10})

    clusters = fit_clusters()

    assert sorted(c.size for c in clusters) == [10, 11, 12]
    assert _pairwise_agreement(planted, _assignments(planted)) == 1.0


@pytest.mark.parametrize("labels", [
    [0, 0, 0, 1, 1, 1, 2, 2, 2, 2],
    [0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
    [3, 3, 3, 3, 3, 3, 3, 3, 3, 7],  # a cluster of one scores 0
    [0, 0, 1, 1, 2, 2, 3, 3, 4, 5],
])
def test_the_silhouette_score_is_sklearns(labels):
    rows = np.random.default_rng(4).normal(size=(10, 3)).astype(np.float32)

    mine = clusters_module.silhouette(clusters_module._distances(rows), np.array(labels))

    assert mine == pytest.approx(silhouette_score(rows.astype(np.float64), labels), abs=1e-4)


@pytest.mark.parametrize(
    ("days", "word"),
    [(None, "occasional"), (7, "weekly"), (10, "weekly"), (14, "fortnightly"), (30, "monthly"),
     (90, "quarterly"), (121, "occasional")],
)
def test_cadence_words(days, word):
    assert cadence_word(days) == word


def test_clusters_with_the_same_description_get_numbered_names(categories):
    # Two groups of consumers who buy the same things at the same pace, one spending far more.
    rng = random.Random(3)
    for revenue in [300] * 10 + [30_000] * 10:
        facts = BuyerFactsFactory(
            organisation=None, user=UserFactory(), orders_12m=12,
            revenue_12m=Decimal(round(_jitter(rng, revenue))), cadence_days=_jitter(rng, 30),
        )
        BuyerCategoryFactsFactory(facts=facts, category=categories["mobility"],
                                  revenue_12m=facts.revenue_12m)

    clusters = fit_clusters()

    assert sorted(c.generated_name for c in clusters) == [
        "consumers · monthly · mobility aids heavy", "consumers · monthly · mobility aids heavy 2",
    ]
    assert {c.audience for c in clusters} == {Audience.CONSUMERS}


def test_the_same_data_and_seed_give_the_same_clusters_and_names(categories):
    # No planted structure: what k-means finds depends on its seed alone.
    rng = random.Random(11)
    for _ in range(40):
        kind = rng.choice(list(OrganisationKind.values))
        facts = BuyerFactsFactory(
            organisation=OrganisationFactory(kind=kind, size_band=rng.choice(SizeBand.values)),
            orders_12m=rng.randint(1, 60), revenue_12m=Decimal(rng.randint(50, 90_000)),
            last_order_at=AS_OF - datetime.timedelta(days=rng.randint(1, 300)),
            cadence_days=rng.choice([None, rng.uniform(5, 200)]),
        )
        BuyerCategoryFactsFactory(facts=facts, category=rng.choice(list(categories.values())),
                                  revenue_12m=facts.revenue_12m)

    first = fit_clusters(seed=5)
    first_assignments = _assignments(BuyerFacts.objects.values("pk"))
    second = fit_clusters(seed=5)

    assert _assignments(BuyerFacts.objects.values("pk")) == {
        pk: number for pk, number in first_assignments.items()
    }
    assert [(c.number, c.generated_name, c.size, c.profile) for c in second] == [
        (c.number, c.generated_name, c.size, c.profile) for c in first
    ]
    assert Cluster.objects.filter(is_current=True).count() == len(second)
    assert Cluster.objects.filter(is_current=False).count() == len(first)


def test_a_staff_name_and_a_segment_follow_the_cluster_through_a_refit(categories):
    planted = _world(categories, {"trusts": 12, "clinics": 11, "care_homes": 10})
    first = {c.generated_name: c for c in fit_clusters()}
    trusts, clinics = first[TRUSTS], first[CLINICS]
    trusts.name = "Key trusts"
    trusts.save()
    segment = cluster_segment_create(cluster=clinics)
    assert (segment.kind, segment.audience, segment.basis, segment.basis_value) == (
        SegmentKind.COMPUTED, Audience.ORGANISATIONS, ComputedBasis.CLUSTER, "2",
    )
    # More care homes: they become cluster 1, and the clinics move from number 2 to 3.
    _world(categories, {"care_homes": 6}, seed=2)

    second = {c.generated_name: c for c in fit_clusters()}

    assert second[TRUSTS].name == "Key trusts"
    assert str(second[TRUSTS]) == "Key trusts"
    assert second[CLINICS].segment == segment
    assert second[CLINICS].number == 3
    segment.refresh_from_db()
    assert (segment.basis_value, segment.is_active) == ("3", True)
    assert second[CARE_HOMES].name == "" and second[CARE_HOMES].segment is None
    old = Cluster.objects.filter(is_current=False)
    assert sorted(c.pk for c in old) == sorted(c.pk for c in first.values())
    assert old.get(pk=trusts.pk).name == "Key trusts"
    clinic_ids = [pk for pk, group in planted.items() if group == "clinics"]
    assert set(_assignments(clinic_ids).values()) == {3}


def test_a_segment_whose_cluster_has_no_successor_is_switched_off(categories):
    planted = _world(categories, {"trusts": 12, "clinics": 11, "care_homes": 10})
    first = {c.generated_name: c for c in fit_clusters()}
    segment = cluster_segment_create(cluster=first[CARE_HOMES])
    kept = cluster_segment_create(cluster=first[TRUSTS])
    BuyerFacts.objects.filter(
        pk__in=[pk for pk, group in planted.items() if group == "care_homes"]
    ).delete()

    second = fit_clusters()

    assert sorted(c.generated_name for c in second) == sorted([TRUSTS, CLINICS])
    segment.refresh_from_db()
    kept.refresh_from_db()
    assert segment.is_active is False
    assert (kept.is_active, kept.basis_value, kept.cluster.is_current) == (True, "1", True)


def test_buyers_without_an_order_are_not_clustered(categories):
    planted = _world(categories, {"trusts": 12, "clinics": 11, "care_homes": 10})
    idle = [NoOrdersFactsFactory().pk for _ in range(5)]

    clusters = fit_clusters()

    assert sum(c.size for c in clusters) == len(planted)
    assert set(_assignments(idle).values()) == {None}


def test_too_few_buyers_in_an_audience_are_not_clustered(categories):
    planted = _world(categories, {"trusts": 6, "clinics": 6})
    _world(categories, {"trusts": 9}, consumer=True)
    organisations = fit_clusters()
    assert {c.audience for c in organisations} == {Audience.ORGANISATIONS}
    # Three organisations stop buying: nine with an order are too few to cluster.
    BuyerFacts.objects.filter(pk__in=sorted(planted)[:3]).update(orders_total=0)

    assert fit_clusters() == []
    assert not Cluster.objects.filter(is_current=True).exists()
    assert set(_assignments(planted).values()) == {None}


def _refit_queries() -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        fit_clusters()
    return [q["sql"] for q in queries.captured_queries]


def test_the_queries_of_a_fit_do_not_grow_with_the_buyers(categories):
    _world(categories, {"trusts": 4, "clinics": 4, "care_homes": 4})
    _world(categories, {"trusts": 6, "clinics": 6}, consumer=True)
    fit_clusters()
    small = _refit_queries()
    _world(categories, {"trusts": 20, "clinics": 20, "care_homes": 20}, seed=4)
    _world(categories, {"trusts": 15, "clinics": 15}, seed=5, consumer=True)

    large = _refit_queries()

    assert len(small) == len(large), "\n".join(["small:", *small, "large:", *large])


# Admin ------------------------------------------------------------------------------------------

@pytest.fixture
def fitted(categories):
    _world(categories, {"trusts": 12, "clinics": 11, "care_homes": 10})
    return {c.generated_name: c for c in fit_clusters()}


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True))
    return client


def _act(client, cluster):
    return client.post(
        reverse("admin:segments_cluster_changelist"),
        {"action": "make_segment", "_selected_action": [cluster.pk]}, follow=True,
    )


def test_the_admin_makes_a_segment_of_a_cluster_once(admin_client, fitted):
    clinics = fitted[CLINICS]

    made = _act(admin_client, clinics)
    again = _act(admin_client, clinics)

    segment = Segment.objects.get()
    clinics.refresh_from_db()
    assert clinics.segment == segment
    assert (segment.kind, segment.audience, segment.basis, segment.basis_value) == (
        SegmentKind.COMPUTED, Audience.ORGANISATIONS, ComputedBasis.CLUSTER, str(clinics.number),
    )
    assert "made the computed segment" in made.content.decode()
    assert "already has a segment" in again.content.decode()


def test_staff_without_the_right_to_add_segments_cannot_make_one(client, fitted):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_cluster", "change_cluster"]
    ))
    client.force_login(staff)

    answer = _act(client, fitted[CLINICS])

    assert answer.status_code == 200
    assert not Segment.objects.exists()


def test_the_change_page_shows_the_profile_and_staff_can_rename(admin_client, fitted):
    trusts = fitted[TRUSTS]
    url = reverse("admin:segments_cluster_change", args=[trusts.pk])

    page = admin_client.get(url).content.decode()
    renamed = admin_client.post(url, {"name": "Key trusts"})

    assert "Top categories by revenue" in page
    assert "Wound care 80%" in page or "Wound care 79%" in page or "Wound care 81%" in page
    assert "NHS trust 100%" in page
    assert renamed.status_code == 302
    trusts.refresh_from_db()
    assert (trusts.name, trusts.generated_name) == ("Key trusts", TRUSTS)


def test_the_changelist_lists_the_current_clusters_first(admin_client, fitted):
    fit_clusters()

    page = admin_client.get(reverse("admin:segments_cluster_changelist"))

    shown = list(page.context["cl"].result_list)
    assert [c.is_current for c in shown] == [True] * 3 + [False] * 3


def test_a_replaced_cluster_is_not_made_a_segment(fitted):
    fit_clusters()
    replaced = fitted[TRUSTS]

    with pytest.raises(ValidationError, match="replaced by a later fit"):
        cluster_segment_create(cluster=replaced)

    assert not Segment.objects.exists()


def test_staff_who_may_only_view_clusters_cannot_rename_one(client, fitted):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_cluster"))
    client.force_login(staff)
    trusts = fitted[TRUSTS]

    answer = client.post(reverse("admin:segments_cluster_change", args=[trusts.pk]),
                         {"name": "Key trusts"})

    assert answer.status_code == 403
    trusts.refresh_from_db()
    assert trusts.name == ""
