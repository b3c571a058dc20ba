import pytest
from django.contrib.auth.models import AnonymousUser

from accounts import services
from accounts.permissions import Perm
from segments.models import Segment
from segments.resolver import Channel, Workflow, resolve
from segments.versioning import bump_rules_version
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    SegmentConditionFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """A small world: an ICS over a London trust, a clinic, a distributor and rule segments."""
    SegmentConditionFactory(segment__code="nhs-trusts", field="kind", value="nhs_trust")
    SegmentConditionFactory(segment__code="distributors", field="kind", value="distributor")
    SegmentConditionFactory(segment__code="in-london", field="region", value="london")
    SegmentFactory(code="retail-consumers", kind="rule", audience="consumers")
    SegmentConditionFactory(
        segment__code="consumers-wales",
        segment__audience="consumers",
        field="region",
        value="wales",
    )
    ics = OrganisationFactory(name="North Thames ICS", kind="ics", postcode="N1 9GU")
    SegmentConditionFactory(segment__code="north-thames", field="parent", value=str(ics.pk))
    trust = OrganisationFactory(
        name="Riverside", parent=ics, customer_tier="A", professional_status="verified"
    )
    clinic = OrganisationFactory(name="Harbour Physio", kind="private_clinic", postcode="PL1 2AA")
    pennine = OrganisationFactory(name="Pennine", kind="distributor", postcode="PR1 2HE")
    return {"ics": ics, "trust": trust, "clinic": clinic, "pennine": pennine}


def test_an_anonymous_visitor_is_the_retail_guest(world):
    guest = resolve(AnonymousUser())

    assert guest.is_guest
    assert guest.organisation_id is None
    assert (guest.channel, guest.workflow) == (Channel.B2C, Workflow.RETAIL)
    assert guest.segments == {"retail-consumers"}
    assert not guest.professional
    assert resolve(None).cache_key == guest.cache_key


def test_a_retail_consumer_gets_territory_and_segments_from_their_postcode(world):
    patient = UserFactory(postcode="SE5 9RS")
    carer = UserFactory(postcode="cf10 1ep")

    in_london, in_wales = resolve(patient), resolve(carer)

    assert (in_london.territory, in_wales.territory) == ("london", "wales")
    assert in_london.segments == {"retail-consumers"}
    assert in_wales.segments == {"retail-consumers", "consumers-wales"}
    assert in_wales.postcode == "CF10 1EP"
    assert in_london.can(Perm.PLACE_ORDER) and not in_london.can(Perm.APPROVE_ORDER)
    assert in_london.cache_key != in_wales.cache_key


def test_an_nhs_buyer_gets_their_organisation_roles_site_and_segments(world):
    trust = world["trust"]
    SiteFactory(organisation=trust, name="Ward 7", postcode="SE1 7EH")
    SiteFactory(organisation=trust, name="Theatres", postcode="E1 1BB", kind="theatre")
    requisitioner = MembershipFactory(
        organisation=trust, is_buyer=False, is_requisitioner=True
    ).user

    buyer = resolve(requisitioner)

    assert buyer.organisation_id == trust.pk
    assert buyer.organisation_path == (trust.pk, world["ics"].pk)
    assert (buyer.channel, buyer.workflow) == (Channel.B2B, Workflow.INSTITUTIONAL)
    assert buyer.roles == {"requisitioner"}
    assert buyer.can(Perm.RAISE_REQUISITION) and not buyer.can(Perm.PLACE_ORDER)
    assert buyer.site_name == "Theatres"  # first active site by name
    assert buyer.territory == "london"
    assert buyer.segments == {"nhs-trusts", "in-london", "north-thames"}
    assert buyer.professional
    assert buyer.customer_tier == "A"


def test_buyers_of_different_segments_get_different_contexts(world):
    nhs = resolve(MembershipFactory(organisation=world["trust"]).user)
    clinic = resolve(MembershipFactory(organisation=world["clinic"]).user)
    distributor = resolve(MembershipFactory(organisation=world["pennine"]).user)
    patient = resolve(UserFactory(postcode="SE5 9RS"))

    assert distributor.workflow == Workflow.DISTRIBUTOR
    assert distributor.segments == {"distributors"}
    assert clinic.segments == set()
    assert clinic.territory == "south-west"
    assert len({nhs.cache_key, clinic.cache_key, distributor.cache_key, patient.cache_key}) == 4


def test_two_buyers_with_the_same_facts_share_a_cache_key(world):
    first = resolve(MembershipFactory(organisation=world["trust"]).user)
    second = resolve(
        MembershipFactory(organisation=world["trust"], is_buyer=False, is_org_admin=True).user
    )

    assert first.user_id != second.user_id
    assert first.roles != second.roles
    assert first.cache_key == second.cache_key


def test_a_user_in_two_organisations_sees_exactly_one_at_a_time(world):
    user = UserFactory()
    MembershipFactory(user=user, organisation=world["trust"])
    MembershipFactory(user=user, organisation=world["clinic"])

    default = resolve(user)
    at_clinic = resolve(user, organisation=world["clinic"])

    assert default.organisation_id == world["trust"].pk
    assert at_clinic.organisation_id == world["clinic"].pk
    assert at_clinic.segments == set()  # none of the trust's segments leak in
    assert default.segments == {"nhs-trusts", "in-london", "north-thames"}
    assert {org_id for org_id, _ in at_clinic.organisations} == {
        world["trust"].pk,
        world["clinic"].pk,
    }


def test_an_organisation_or_site_the_user_does_not_belong_to_is_ignored(world):
    user = MembershipFactory(organisation=world["clinic"]).user
    foreign_site = SiteFactory(organisation=world["trust"], name="Ward 1")

    buyer = resolve(user, organisation=world["trust"], site=foreign_site)

    assert buyer.organisation_id == world["clinic"].pk
    assert buyer.site_id != foreign_site.pk


def test_a_change_of_site_changes_territory_and_cache_key_at_once(world):
    trust = world["trust"]
    ward = SiteFactory(organisation=trust, name="A ward", postcode="SE1 7EH")
    user = MembershipFactory(organisation=trust).user
    before = resolve(user, site=ward)

    ward.postcode = "LS1 3EX"
    services.site_save(site=ward)
    after = resolve(user, site=ward)

    assert (before.territory, after.territory) == ("london", "north-east-and-yorkshire")
    assert after.postcode_area == "LS"
    assert "in-london" in after.segments  # region segments follow the registered address
    assert before.cache_key != after.cache_key


def test_a_change_of_membership_changes_the_context_at_once(world):
    membership = MembershipFactory(organisation=world["trust"])
    user = membership.user
    before = resolve(user)

    services.membership_remove(membership=membership)
    after = resolve(user)

    assert before.organisation_id == world["trust"].pk
    assert after.organisation_id is None
    assert after.workflow == Workflow.RETAIL
    assert before.cache_key != after.cache_key


def test_an_inactive_membership_or_organisation_gives_no_rights(world):
    membership = MembershipFactory(organisation=world["trust"])
    membership.is_active = False
    services.membership_save(membership=membership)

    assert resolve(membership.user).organisation_id is None

    other = MembershipFactory(organisation=world["pennine"])
    world["pennine"].is_active = False
    services.organisation_save(organisation=world["pennine"])

    assert resolve(other.user).organisation_id is None


def test_a_static_segment_assignment_shows_on_the_next_resolve(world):
    user = MembershipFactory(organisation=world["clinic"]).user
    assert "framework-pilot" not in resolve(user).segments

    SegmentMembershipFactory(segment__code="framework-pilot", organisation=world["clinic"])

    assert "framework-pilot" in resolve(user).segments


def test_inactive_segments_do_not_apply(world):
    user = MembershipFactory(organisation=world["pennine"]).user
    Segment.objects.filter(code="distributors").update(is_active=False)
    bump_rules_version()

    assert resolve(user).segments == set()


def test_resolving_is_a_fixed_number_of_queries_and_cached_afterwards(
    world, django_assert_num_queries
):
    user = MembershipFactory(organisation=world["trust"]).user
    SiteFactory(organisation=world["trust"])
    resolve(user)
    bump_rules_version()
    with django_assert_num_queries(7):
        resolve(user)
    for n in range(20):
        SegmentConditionFactory(segment__code=f"extra-{n}", field="customer_tier", value="A")
    bump_rules_version()
    with django_assert_num_queries(7):
        buyer = resolve(user)
    with django_assert_num_queries(0):
        assert resolve(user) == buyer
    assert {f"extra-{n}" for n in range(20)} <= buyer.segments


def test_a_lazily_loaded_request_user_resolves_like_the_user_itself(world):
    from django.utils.functional import SimpleLazyObject

    patient = UserFactory(postcode="SE5 9RS")
    buyer = MembershipFactory(organisation=world["trust"]).user

    assert resolve(SimpleLazyObject(lambda: patient)).segments == {"retail-consumers"}
    assert resolve(SimpleLazyObject(lambda: buyer)).organisation_id == world["trust"].pk
