"""Sales reps by customer group: an account manager assigned to a segment or a territory sees
exactly the organisations the group holds in admin, loses them when the assignment or the
membership ends, and the organisation's own manager beats a segment, which beats a territory."""

import pytest
from django.urls import reverse

from accounts.services import organisation_save
from segments.coverage import account_coverage_sync, rep_assignment_remove
from segments.models import SegmentKind, SegmentMembership
from segments.service_levels import account_managers_of
from tests.factories import (
    OrganisationFactory,
    PostcodeAreaFactory,
    SegmentConditionFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    TerritoryFactory,
)
from tests.factories.service_levels import account_manager, assign_rep


def _admin_names(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:accounts_organisation_changelist"))
    if response.status_code == 403:  # no organisation at all in this staff member's scope
        return []
    assert response.status_code == 200
    return sorted(str(obj) for obj in response.context["cl"].result_list)


@pytest.fixture
def groups(db):
    north = TerritoryFactory(code="rep-north", name="Rep North",
                             areas=[PostcodeAreaFactory(code="LS", name="Leeds")])
    dental = SegmentFactory(code="dental-group", name="Dental group")
    clinics = SegmentFactory(code="clinic-kinds", kind=SegmentKind.RULE)
    SegmentConditionFactory(segment=clinics, field="kind", value="private_clinic")
    a = OrganisationFactory(name="Alder Dental", kind="private_clinic", postcode="SE1 7EH")
    b = OrganisationFactory(name="Birch Dental", postcode="SE5 9RS")
    c = OrganisationFactory(name="Cedar Trust", postcode="LS1 3EX")
    d = OrganisationFactory(name="Dale Trust", postcode="SE1 9RT")
    for organisation in (a, b):
        SegmentMembershipFactory(segment=dental, organisation=organisation)
    return {"north": north, "dental": dental, "clinics": clinics, "a": a, "b": b, "c": c, "d": d}


def test_a_rep_assigned_by_segment_sees_exactly_that_segments_accounts(client, groups):
    rep = account_manager("dental.rep@demo.test", "Dana Reed")
    other = account_manager("north.rep@demo.test", "Nils Oakes")
    assign_rep(rep, segment=groups["dental"])
    assign_rep(other, territory=groups["north"])

    assert _admin_names(client, rep) == ["Alder Dental", "Birch Dental"]
    assert _admin_names(client, other) == ["Cedar Trust"]
    change = client.get(reverse("admin:accounts_organisation_change", args=[groups["d"].pk]))
    assert change.status_code == 302


def test_a_rep_loses_an_account_when_its_membership_ends(client, groups):
    rep = account_manager("dental.rep@demo.test")
    assign_rep(rep, segment=groups["dental"])

    SegmentMembership.objects.filter(organisation=groups["b"]).delete()
    account_coverage_sync(organisation_ids=[groups["b"].pk])

    assert _admin_names(client, rep) == ["Alder Dental"]


def test_a_rep_loses_every_account_when_the_assignment_ends(client, groups):
    rep = account_manager("dental.rep@demo.test")
    assignment = assign_rep(rep, segment=groups["dental"])

    rep_assignment_remove(assignment=assignment)

    client.force_login(rep)
    response = client.get(reverse("admin:accounts_organisation_changelist"))
    assert response.status_code in (302, 403)
    assert b"Alder Dental" not in response.content


def test_a_rule_segment_covers_the_organisations_that_match_it(client, groups):
    rep = account_manager("clinic.rep@demo.test")

    assign_rep(rep, segment=groups["clinics"])

    assert _admin_names(client, rep) == ["Alder Dental"]


def test_organisation_beats_segment_beats_territory(client, groups):
    by_segment = account_manager("dental.rep@demo.test")
    by_territory = account_manager("north.rep@demo.test")
    own = account_manager("own@demo.test")
    cedar = groups["c"]
    SegmentMembershipFactory(segment=groups["dental"], organisation=cedar)
    assign_rep(by_territory, territory=groups["north"])
    assert account_managers_of([cedar.pk])[cedar.pk].email == by_territory.email

    assign_rep(by_segment, segment=groups["dental"])
    assert account_managers_of([cedar.pk])[cedar.pk].email == by_segment.email
    assert "Cedar Trust" not in _admin_names(client, by_territory)

    cedar.account_manager = own
    organisation_save(organisation=cedar)
    contact = account_managers_of([cedar.pk])[cedar.pk]
    assert (contact.email, contact.source) == (own.email, "organisation")
    assert "Cedar Trust" not in _admin_names(client, by_segment)
    assert _admin_names(client, own) == ["Cedar Trust"]

    cedar.account_manager = None
    organisation_save(organisation=cedar)
    assert "Cedar Trust" in _admin_names(client, by_segment)
    assert _admin_names(client, own) == []


def test_a_segment_recompute_brings_the_coverage_in_step(client, groups):
    from segments.services import recompute_segments

    rep = account_manager("dental.rep@demo.test")
    assign_rep(rep, segment=groups["dental"])
    SegmentMembershipFactory(segment=groups["dental"], organisation=groups["d"])
    assert "Dale Trust" not in _admin_names(client, rep)

    run = recompute_segments(full=False)

    assert run.counts["coverage_changed"] == 1
    assert _admin_names(client, rep) == ["Alder Dental", "Birch Dental", "Dale Trust"]
