import pytest
from django.urls import reverse

from accounts.models import OrganisationKind
from accounts.services import organisation_save
from segments.models import Audience, SegmentKind
from segments.resolver import resolve
from segments.selectors import segment_explanations
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    PostcodeAreaFactory,
    SegmentConditionFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    SiteFactory,
    TerritoryFactory,
    UserFactory,
)


@pytest.fixture
def london(db):
    return TerritoryFactory(
        code="london", name="London", is_region=True,
        areas=[PostcodeAreaFactory(code="SE", name="London SE")],
    )


@pytest.fixture
def nhs_world(london, riverside):
    """Riverside under North Thames ICS, two ward sites, and the segments a trust meets."""
    ics = OrganisationFactory(
        name="North Thames ICS", kind=OrganisationKind.INTEGRATED_CARE_SYSTEM, ods_code="QMF"
    )
    riverside.parent = ics
    riverside.size_band = "enterprise"
    organisation_save(organisation=riverside)
    SiteFactory(organisation=riverside, name="Ward 5 Cardiology", postcode="SE1 7EH")
    SiteFactory(organisation=riverside, name="Main Theatres", kind="theatre", postcode="SE1 9RT")
    rule = {"kind": SegmentKind.RULE}
    SegmentConditionFactory(segment=SegmentFactory(code="nhs-trusts", **rule), value="nhs_trust")
    SegmentConditionFactory(
        segment=SegmentFactory(code="north-thames-ics", **rule), field="parent", value=str(ics.pk)
    )
    SegmentConditionFactory(
        segment=SegmentFactory(code="london-organisations", **rule), field="region", value="london"
    )
    SegmentConditionFactory(
        segment=SegmentFactory(code="tier-a", **rule), field="customer_tier", value="A"
    )
    SegmentMembershipFactory(
        segment=SegmentFactory(code="nhs-framework-2024"), organisation=riverside,
        note="Framework agreement NHS-2024-118",
    )
    SegmentFactory(code="dental-group")
    SegmentConditionFactory(
        segment=SegmentFactory(code="london-consumers", audience=Audience.CONSUMERS, **rule),
        field="region", value="london",
    )
    buyer = UserFactory(email="nhs.buyer@demo.test", full_name="Grace Okafor")
    MembershipFactory(user=buyer, organisation=riverside, is_buyer=False, is_requisitioner=True)
    return {"ics": ics, "buyer": buyer}


def test_explanations_follow_the_resolver_and_show_each_fact(nhs_world, riverside):
    buyer = resolve(nhs_world["buyer"], organisation=riverside)

    explanations = {e.code: e for e in segment_explanations(buyer=buyer)}

    assert {code for code, e in explanations.items() if e.applies} == set(buyer.segments) == {
        "nhs-trusts", "north-thames-ics", "london-organisations", "nhs-framework-2024",
    }
    assert set(explanations) == set(buyer.segments) | {"tier-a"}
    assert [(c.field, c.value, c.fact) for c in explanations["tier-a"].conditions] == [
        ("Customer tier", "A", "B"),
    ]
    ics = nhs_world["ics"]
    assert explanations["north-thames-ics"].conditions[0].fact == (
        f"within North Thames ICS (id {ics.pk})"
    )
    assert explanations["london-organisations"].conditions[0].fact == (
        "registered postcode area SE, in: london"
    )
    framework = explanations["nhs-framework-2024"]
    assert (framework.member_note, framework.conditions) == ("Framework agreement NHS-2024-118", ())
    assert framework.member_since is not None


def test_explain_page_shows_context_segments_conditions_and_sites(
    client, superuser, nhs_world, riverside
):
    client.force_login(superuser)

    response = client.get(reverse("admin:accounts_user_explain", args=[nhs_world["buyer"].pk]))

    assert response.status_code == 200
    (person,) = response.context["people"]
    (context,) = person["contexts"]
    assert context["buyer"].organisation_name == "Riverside University Hospitals NHS FT"
    assert [s.site_name for s, _codes in context["sites"]] == ["Main Theatres", "Ward 5 Cardiology"]
    html = response.content.decode()
    for text in (
        "requisitioner", "nhs-framework-2024", "Framework agreement NHS-2024-118",
        "NHS trust (nhs_trust)", "registered postcode area SE, in: london",
        "Customer tier is <code>A</code> — actual: B", "London (london)",
    ):
        assert text in html


def test_user_change_page_links_to_the_explanation(client, superuser, nhs_world):
    client.force_login(superuser)

    response = client.get(reverse("admin:accounts_user_change", args=[nhs_world["buyer"].pk]))

    assert reverse("admin:accounts_user_explain", args=[nhs_world["buyer"].pk]) in (
        response.content.decode()
    )


def test_explain_action_on_selected_people(client, superuser, nhs_world, london):
    patient = UserFactory(email="patient@demo.test", postcode="SE1 7EH")
    client.force_login(superuser)

    response = client.post(reverse("admin:accounts_user_changelist"), {
        "action": "explain_buyer", "_selected_action": [nhs_world["buyer"].pk, patient.pk],
    })

    assert response.status_code == 200
    people = {p["user"].email: p for p in response.context["people"]}
    (consumer,) = people["patient@demo.test"]["contexts"]
    assert consumer["buyer"].organisation_id is None
    (london_consumers,) = consumer["segments"]
    assert london_consumers.code == "london-consumers" and london_consumers.applies
    assert london_consumers.conditions[0].fact == "home postcode area SE, in: london"


def test_manager_explains_only_own_organisations_of_a_person(
    client, manager, nhs_world, riverside, northgate
):
    MembershipFactory(user=nhs_world["buyer"], organisation=northgate)
    client.force_login(manager)

    response = client.get(reverse("admin:accounts_user_explain", args=[nhs_world["buyer"].pk]))

    (person,) = response.context["people"]
    assert [c["buyer"].organisation_name for c in person["contexts"]] == [
        "Riverside University Hospitals NHS FT"
    ]
    assert person["hidden_organisations"] == 1
    assert b"Northgate" not in response.content


def test_manager_cannot_explain_someone_outside_their_organisations(
    client, manager, riverside, northgate
):
    trust2_buyer = UserFactory(email="trust2.buyer@demo.test")
    MembershipFactory(user=trust2_buyer, organisation=northgate)
    patient = UserFactory(email="patient@demo.test")
    client.force_login(manager)

    for person in (trust2_buyer, patient):
        response = client.get(reverse("admin:accounts_user_explain", args=[person.pk]))
        assert response.status_code == 404


def test_explain_page_is_for_staff_only(client, nhs_world):
    client.force_login(nhs_world["buyer"])

    response = client.get(reverse("admin:accounts_user_explain", args=[nhs_world["buyer"].pk]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_guest_explanation_has_no_facts_about_a_person(london):
    SegmentConditionFactory(
        segment=SegmentFactory(code="unregistered-visitors", kind=SegmentKind.RULE,
                               audience=Audience.CONSUMERS),
        field="professional", value="false",
    )

    (explanation,) = segment_explanations(buyer=resolve(None))

    assert explanation.applies
    assert explanation.conditions[0].fact == "false (not signed in)"
