"""Computed memberships: who enters, leaves and stays, with the inputs and movements kept, per
basis and per audience, and a change seen by exactly the buyers it concerns."""
import datetime

import pytest
from django.utils import timezone

from accounts.models import User
from segments.analysis.memberships import sync_computed_memberships
from segments.models import (
    Audience,
    BuyerFacts,
    ComputedBasis,
    ComputedMembership,
    Segment,
    SegmentKind,
    SegmentMovement,
    SegmentRun,
)
from segments.resolver import resolve
from segments.versioning import rules_version, versions_for
from tests.catalog.factories import CategoryFactory
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.factories.segment_runs import (
    buyer_facts,
    cluster,
    computed_segment,
    propensity,
    propensity_model,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 5, 2, 30, tzinfo=datetime.UTC)


def champion(organisation=None, user=None, **fields):
    values = {"rfm_group": "champions", "recency_score": 5, "frequency_score": 5,
              "monetary_score": 5, "days_since_last_order": 3, "orders_12m": 14,
              "revenue_12m": "12500.00", **fields}
    return buyer_facts(organisation=organisation, user=user, now=NOW, **values)


def members(segment) -> dict:
    return {
        m.organisation_id or m.user_id: m
        for m in ComputedMembership.objects.filter(segment=segment)
    }


def stored(segment, buyer, inputs, days_ago=1):
    field = "organisation" if buyer._meta.model_name == "organisation" else "user"
    return ComputedMembership.objects.create(
        segment=segment, inputs=inputs, computed_at=NOW - datetime.timedelta(days=days_ago),
        **{field: buyer},
    )


def test_entrants_are_added_leavers_removed_and_stayers_renewed_with_their_inputs():
    champions = computed_segment("champions", ComputedBasis.RFM_GROUP, "champions")
    newcomer, regular, slipping = (OrganisationFactory() for _ in range(3))
    champion(newcomer, frequency_score=4, days_since_last_order=3)
    champion(regular, monetary_score=4, days_since_last_order=10, orders_12m=20,
             revenue_12m="8000.5")
    champion(slipping, rfm_group="loyal", recency_score=4, frequency_score=4, monetary_score=3,
             days_since_last_order=20, orders_12m=9, revenue_12m="3000")
    stored(champions, regular, {"rfm_group": "champions", "days_since_last_order": 9})
    stored(champions, slipping, {"rfm_group": "champions", "days_since_last_order": 2})
    run = SegmentRun.objects.create()

    result = sync_computed_memberships(run=run, now=NOW)

    assert (result.entered, result.exited, result.stayed, result.renewed) == (1, 1, 1, 1)
    assert result.organisation_ids == {newcomer.pk, slipping.pk}
    assert result.user_ids == set()
    now_in = members(champions)
    assert set(now_in) == {newcomer.pk, regular.pk}
    assert now_in[newcomer.pk].inputs == {
        "rfm_group": "champions", "recency_score": 5, "frequency_score": 4, "monetary_score": 5,
        "last_order_on": "2026-12-02", "orders_12m": 14, "revenue_12m": "12500.00",
    }
    assert now_in[regular.pk].inputs == {
        "rfm_group": "champions", "recency_score": 5, "frequency_score": 5, "monetary_score": 4,
        "last_order_on": "2026-11-25", "orders_12m": 20, "revenue_12m": "8000.50",
    }
    assert {m.computed_at for m in now_in.values()} == {NOW}
    moves = {
        (m.organisation_id, m.direction): m
        for m in SegmentMovement.objects.filter(segment=champions)
    }
    assert set(moves) == {(newcomer.pk, "entered"), (slipping.pk, "exited")}
    assert moves[(newcomer.pk, "entered")].inputs == now_in[newcomer.pk].inputs
    assert moves[(slipping.pk, "exited")].inputs["rfm_group"] == "loyal"
    assert moves[(slipping.pk, "exited")].inputs["last_order_on"] == "2026-11-15"
    assert {(m.at, m.run_id) for m in moves.values()} == {(NOW, run.pk)}


def test_a_later_sync_moves_nobody_and_rewrites_only_the_inputs_that_changed():
    champions = computed_segment("champions", ComputedBasis.RFM_GROUP, "champions")
    steady, busier = OrganisationFactory(), OrganisationFactory()
    champion(steady)
    facts = champion(busier)
    sync_computed_memberships(now=NOW)
    facts.orders_12m = 15
    facts.save()
    a_day_later = NOW + datetime.timedelta(days=1)

    again = sync_computed_memberships(now=a_day_later)

    assert (again.entered, again.exited, again.stayed, again.renewed) == (0, 0, 2, 1)
    assert (again.organisation_ids, again.user_ids) == (set(), set())
    assert SegmentMovement.objects.filter(segment=champions).count() == 2
    now_in = members(champions)
    assert (now_in[steady.pk].computed_at, now_in[busier.pk].computed_at) == (NOW, a_day_later)
    assert now_in[steady.pk].inputs["last_order_on"] == "2026-12-02"  # a day, not "days ago"
    assert now_in[busier.pk].inputs["orders_12m"] == 15


def test_members_are_buyers_of_the_segments_audience_only():
    for_organisations = computed_segment("champions", ComputedBasis.RFM_GROUP, "champions")
    for_consumers = computed_segment("consumer-champions", ComputedBasis.RFM_GROUP, "champions",
                                     audience=Audience.CONSUMERS)
    trust = OrganisationFactory()
    closed = OrganisationFactory(is_active=False)
    patient = UserFactory()
    joined = UserFactory()  # bought as a consumer, now buys for an organisation
    MembershipFactory(user=joined, organisation=trust)
    gone = UserFactory(is_active=False)
    for buyer in (trust, closed):
        champion(buyer)
    for user in (patient, joined, gone):
        champion(user=user)

    result = sync_computed_memberships(now=NOW)

    assert set(members(for_organisations)) == {trust.pk}
    assert set(members(for_consumers)) == {patient.pk}
    assert (result.organisation_ids, result.user_ids) == ({trust.pk}, {patient.pk})


def test_value_tiers_margin_tiers_and_lapsing():
    concierge = computed_segment("concierge", ComputedBasis.VALUE_TIER, "concierge")
    margin = computed_segment("margin-self-service", ComputedBasis.MARGIN_TIER, "self_service")
    lapsed = computed_segment("lapsed", ComputedBasis.LAPSED)
    big, thin, quiet = (OrganisationFactory() for _ in range(3))
    buyer_facts(organisation=big, now=NOW, value_tier="concierge", margin_tier="concierge",
                revenue_12m="90000", margin_12m="21000.25", orders_12m=40,
                days_since_last_order=2)
    buyer_facts(organisation=thin, now=NOW, value_tier="standard", margin_tier="self_service",
                revenue_12m="5000", margin_12m="120", orders_12m=5, days_since_last_order=12)
    buyer_facts(organisation=quiet, now=NOW, value_tier="self_service", lapsed=True,
                cadence_days=30.04, orders_total=6, days_since_last_order=95)

    sync_computed_memberships(now=NOW)

    assert {k: m.inputs for k, m in members(concierge).items()} == {
        big.pk: {"value_tier": "concierge", "revenue_12m": "90000.00", "orders_12m": 40}
    }
    assert {k: m.inputs for k, m in members(margin).items()} == {
        thin.pk: {"margin_tier": "self_service", "margin_12m": "120.00",
                  "revenue_12m": "5000.00"}
    }
    assert {k: m.inputs for k, m in members(lapsed).items()} == {
        quiet.pk: {"lapsed": True, "last_order_on": "2026-09-01", "cadence_days": 30.0,
                   "orders_total": 6}
    }


def test_cluster_segments_follow_the_current_cluster_by_its_link_or_number():
    large = cluster(0, "Large, frequent, wound care")
    occasional = cluster(1, "Occasional, small baskets")
    old = cluster(1, "Last week's cluster 1", is_current=False)
    by_number = computed_segment("cluster-1", ComputedBasis.CLUSTER, "1")
    linked = computed_segment("named-cluster", ComputedBasis.CLUSTER, "0")
    occasional_linked = cluster(2, "Linked to a named segment", segment=linked)
    a, b, c, d = (OrganisationFactory() for _ in range(4))
    buyer_facts(organisation=a, now=NOW, cluster=large)
    buyer_facts(organisation=b, now=NOW, cluster=occasional, orders_12m=2, revenue_12m="310",
                days_since_last_order=41)
    buyer_facts(organisation=c, now=NOW, cluster=old)
    buyer_facts(organisation=d, now=NOW, cluster=occasional_linked)

    sync_computed_memberships(now=NOW)

    assert {k: m.inputs for k, m in members(by_number).items()} == {
        b.pk: {"cluster": 1, "cluster_name": "Occasional, small baskets",
               "last_order_on": "2026-10-25", "orders_12m": 2, "revenue_12m": "310.00"}
    }
    assert set(members(linked)) == {d.pk}  # the link wins over the number


def test_propensity_segments_use_the_newest_used_model_and_the_threshold():
    dressings, gloves = CategoryFactory(), CategoryFactory()
    older = propensity_model(days_ago=10)
    newest_used = propensity_model(days_ago=1)
    not_used = propensity_model(used=False)
    likely = computed_segment("likely-dressings", ComputedBasis.PROPENSITY,
                              f"{dressings.pk} 0.5")
    keen, borderline, unlikely = (OrganisationFactory() for _ in range(3))
    propensity(newest_used, dressings, 0.8, organisation=keen)
    propensity(newest_used, dressings, 0.5, organisation=borderline)
    propensity(newest_used, dressings, 0.49, organisation=unlikely)
    propensity(newest_used, gloves, 0.9, organisation=unlikely)
    propensity(older, dressings, 0.9, organisation=unlikely)
    propensity(not_used, dressings, 0.95, organisation=unlikely)
    stored(likely, unlikely, {"probability": 0.7})

    sync_computed_memberships(now=NOW)

    now_in = members(likely)
    assert set(now_in) == {keen.pk, borderline.pk}
    assert now_in[keen.pk].inputs == {
        "category_id": dressings.pk, "category": dressings.name, "probability": 0.8,
        "min_probability": 0.5, "model_id": newest_used.pk,
        "model_trained_at": newest_used.trained_at.isoformat(),
    }
    exit_ = SegmentMovement.objects.get(segment=likely, direction="exited")
    assert (exit_.organisation_id, exit_.inputs["probability"]) == (unlikely.pk, 0.49)


def test_inactive_segments_and_segments_without_a_basis_are_left_as_they_are():
    paused = computed_segment("paused", ComputedBasis.LAPSED, is_active=False)
    unset = Segment.objects.create(code="unset", name="Unset", kind=SegmentKind.COMPUTED)
    trust = OrganisationFactory()
    buyer_facts(organisation=trust, now=NOW)  # lapsed is false: it would leave either
    stored(paused, trust, {"lapsed": True})
    stored(unset, trust, {"note": "kept"})

    result = sync_computed_memberships(now=NOW)

    assert (result.segments, result.skipped, result.exited) == (0, 1, 0)
    assert set(members(paused)) == set(members(unset)) == {trust.pk}


def test_the_inputs_of_many_stayers_are_rewritten_in_batches():
    segment = computed_segment("lapsed-consumers", ComputedBasis.LAPSED,
                               audience=Audience.CONSUMERS)
    users = User.objects.bulk_create(
        [User(email=f"consumer{i}@demo.test", full_name=f"Consumer {i}") for i in range(1100)]
    )
    BuyerFacts.objects.bulk_create([
        BuyerFacts(user=u, lapsed=True, orders_total=i % 7, computed_at=NOW)
        for i, u in enumerate(users)
    ])
    ComputedMembership.objects.bulk_create([
        ComputedMembership(segment=segment, user=u, inputs={"stale": True}, computed_at=NOW)
        for u in users
    ])

    result = sync_computed_memberships(now=NOW)

    assert (result.entered, result.exited, result.stayed) == (0, 0, 1100)
    inputs = dict(
        ComputedMembership.objects.filter(segment=segment).values_list("user_id", "inputs")
    )
    assert len(inputs) == 1100
    assert all(
        inputs[u.pk] == {"lapsed": True, "last_order_on": None, "cadence_days": None,
                         "orders_total": i % 7}
        for i, u in enumerate(users)
    )


def test_a_change_shows_on_the_next_request_and_other_buyers_stay_cached(
    django_assert_num_queries,
):
    computed_segment("champions", ComputedBasis.RFM_GROUP, "champions")
    rising, steady = OrganisationFactory(), OrganisationFactory()
    rising_buyer = MembershipFactory(organisation=rising).user
    steady_buyer = MembershipFactory(organisation=steady).user
    patient = UserFactory()
    facts = champion(rising, rfm_group="potential_loyalists")
    champion(steady, rfm_group="loyal")
    before = resolve(rising_buyer)
    steady_before, patient_before = resolve(steady_buyer), resolve(patient)
    version = rules_version()
    own_versions = versions_for(steady_buyer.pk), versions_for(patient.pk)
    facts.rfm_group = "champions"
    facts.save()

    sync_computed_memberships(now=NOW)

    assert rules_version() == version
    assert (versions_for(steady_buyer.pk), versions_for(patient.pk)) == own_versions
    with django_assert_num_queries(0):
        assert resolve(steady_buyer) == steady_before
        assert resolve(patient) == patient_before
    assert "champions" not in before.segments
    assert "champions" in resolve(rising_buyer).segments

    facts.rfm_group = "at_risk"
    facts.save()
    sync_computed_memberships(now=NOW + datetime.timedelta(days=1))

    assert "champions" not in resolve(rising_buyer).segments
    with django_assert_num_queries(0):
        resolve(steady_buyer)


def test_computed_at_defaults_to_now():
    lapsed = computed_segment("lapsed", ComputedBasis.LAPSED)
    buyer_facts(organisation=OrganisationFactory(), lapsed=True)
    before = timezone.now()

    sync_computed_memberships()

    assert members(lapsed).popitem()[1].computed_at >= before
