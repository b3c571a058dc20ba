"""The service tier: from the value tier unless a contract or staff set it (a contract's tier
wins, the better of two contracts wins), with the reason, and the same answer in SQL for queues."""

import itertools

import pytest
from django.urls import reverse

from accounts.models import Organisation
from accounts.services import organisation_save
from segments.resolver import resolve
from segments.service_levels import (
    by_service_rank,
    decide_service_level,
    service_level_for,
    service_levels_of_organisations,
)
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.factories.segment_runs import buyer_facts
from tests.factories.service_levels import contract_promising

TIERS = ["", "concierge", "standard", "self_service"]


def _buyer_of(organisation):
    return resolve(MembershipFactory(organisation=organisation).user)


@pytest.mark.django_db
def test_the_value_tier_decides_when_nothing_is_set():
    top = OrganisationFactory(name="Top Trust")
    low = OrganisationFactory(name="Low Clinic")
    buyer_facts(organisation=top, value_tier="concierge", revenue_12m="250000.00")
    buyer_facts(organisation=low, value_tier="self_service", revenue_12m="300.00")

    top_level, low_level = service_level_for(buyer=_buyer_of(top)), service_level_for(
        buyer=_buyer_of(low))

    assert top_level.tier == "concierge"
    assert top_level.reason == (
        "Concierge: top 20% by revenue in the last 12 months (£250,000.00)")
    assert low_level.tier == "self_service"
    assert "bottom 20% by revenue" in low_level.reason


@pytest.mark.django_db
def test_a_tier_set_on_a_contract_beats_the_value_tier_and_staff(client):
    trust = OrganisationFactory(name="Contract Trust", service_tier="standard")
    buyer_facts(organisation=trust, value_tier="self_service", revenue_12m="100.00")

    contract_promising(trust, "concierge", reference="NHS-2024-118")
    buyer = _buyer_of(trust)

    level = service_level_for(buyer=buyer)
    assert (level.tier, level.reason) == ("concierge", "Concierge: set on contract NHS-2024-118")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:accounts_user_explain", args=[buyer.user_id]))
    assert "Concierge: set on contract NHS-2024-118" in page.content.decode()


@pytest.mark.django_db
def test_staff_set_the_tier_where_no_contract_does_and_a_child_inherits_its_parents_contract():
    parent = OrganisationFactory(name="North ICS")
    child = OrganisationFactory(name="North Trust", parent=parent, service_tier="self_service")
    assert service_levels_of_organisations([child.pk])[child.pk].reason == (
        "Self-service: set by staff on the organisation")

    contract_promising(parent, "concierge")

    assert service_levels_of_organisations([child.pk])[child.pk].tier == "concierge"


@pytest.mark.django_db
def test_of_two_contracts_with_different_tiers_the_better_one_wins():
    trust = OrganisationFactory(name="Two Contracts Trust")
    contract_promising(trust, "self_service", reference="LOT-A")
    contract_promising(trust, "concierge", reference="LOT-B")

    level = service_levels_of_organisations([trust.pk])[trust.pk]

    assert (level.tier, level.reason) == ("concierge", "Concierge: set on contract LOT-B")


@pytest.mark.django_db
def test_an_ended_contract_no_longer_sets_the_tier():
    trust = OrganisationFactory(name="Ended Trust")
    buyer_facts(organisation=trust, value_tier="self_service", revenue_12m="10.00")
    contract = contract_promising(trust, "concierge")
    contract.status = "ended"
    from pricing.services import contract_save

    contract_save(contract=contract)

    assert service_level_for(buyer=_buyer_of(trust)).tier == "self_service"


@pytest.mark.django_db
def test_a_consumer_gets_the_tier_of_their_value_tier():
    patient = UserFactory(email="low.patient@demo.test", postcode="SE5 9RS")
    carer = UserFactory(email="top.carer@demo.test", postcode="CF10 1AA")
    buyer_facts(user=patient, value_tier="self_service", revenue_12m="12.00")
    buyer_facts(user=carer, value_tier="concierge", revenue_12m="900.00")

    assert resolve(patient).service_tier == "self_service"
    assert resolve(carer).service_tier == "concierge"


@pytest.mark.django_db
def test_the_queue_ranking_in_sql_agrees_with_the_one_definition():
    organisations = []
    for n, (contract, staff, value) in enumerate(itertools.product(TIERS, TIERS, TIERS)):
        organisation = OrganisationFactory(name=f"Parity {n}", service_tier=staff)
        Organisation.objects.filter(pk=organisation.pk).update(
            contract_service_tier=contract, contract_service_reference="REF" if contract else "")
        if value:
            buyer_facts(organisation=organisation, value_tier=value)
        organisations.append(organisation.pk)

    ranked = dict(by_service_rank(Organisation.objects.filter(pk__in=organisations))
                  .values_list("pk", "service_rank"))
    decided = service_levels_of_organisations(organisations)

    assert ranked == {pk: level.rank for pk, level in decided.items()}


def test_the_precedence_reads_contract_then_staff_then_value_tier():
    assert decide_service_level(contract_tier="standard", contract_reference="X",
                                staff_tier="concierge", value_tier="concierge").tier == "standard"
    assert decide_service_level(staff_tier="self_service", value_tier="concierge").tier == (
        "self_service")
    assert decide_service_level().reason.startswith("Standard: the analysis has not placed")


@pytest.mark.django_db
def test_a_staff_tier_change_shows_on_the_next_request():
    trust = OrganisationFactory(name="Changing Trust")
    buyer = _buyer_of(trust)
    assert buyer.service_tier == "standard"

    trust.service_tier = "concierge"
    organisation_save(organisation=trust)

    assert resolve(buyer.user).service_tier == "concierge"
