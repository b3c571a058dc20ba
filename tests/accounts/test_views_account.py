import pytest
from django.urls import reverse

from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    PostcodeAreaFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    SiteFactory,
    TerritoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def personas():
    """An NHS org admin at Riverside (London) and a clinic buyer at Harbour (South West)."""
    london = TerritoryFactory(
        code="london", name="London", is_region=True, areas=[PostcodeAreaFactory(code="SE")]
    )
    south_west = TerritoryFactory(
        code="south-west",
        name="South West",
        is_region=True,
        areas=[PostcodeAreaFactory(code="PL", name="Plymouth")],
    )
    riverside = OrganisationFactory(
        name="Riverside University Hospitals NHS Foundation Trust", professional_status="verified"
    )
    harbour = OrganisationFactory(
        name="Harbour Physiotherapy Clinic", kind="private_clinic", postcode="PL1 2AA"
    )
    SiteFactory(organisation=riverside, name="Ward 7", postcode="SE1 7EH")
    SiteFactory(organisation=harbour, name="Treatment rooms", kind="clinic", postcode="PL4 6AB")
    SegmentMembershipFactory(
        segment=SegmentFactory(code="nhs-contract", name="NHS contract buyers"),
        organisation=riverside,
    )
    SegmentMembershipFactory(
        segment=SegmentFactory(code="clinics-list", name="Private clinics on list price"),
        organisation=harbour,
    )
    admin = MembershipFactory(
        organisation=riverside, user__full_name="Priya Admin", is_buyer=False, is_org_admin=True
    ).user
    clinic_buyer = MembershipFactory(organisation=harbour, user__full_name="Sam Clinic").user
    return {
        "admin": admin,
        "clinic_buyer": clinic_buyer,
        "london": london,
        "south_west": south_west,
    }


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("account"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_nhs_admin_sees_only_riverside_facts(client, personas):
    client.force_login(personas["admin"])

    response = client.get(reverse("account"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Riverside University Hospitals NHS Foundation Trust" in page
    assert "Organisation admin" in page
    assert "Institutional" in page and "B2B" in page
    assert "Ward 7, SE1 7EH" in page
    assert "London (london)" in page
    assert "nhs-contract" in page and "NHS contract buyers" in page
    assert ">Verified<" in page
    assert response.context["buyer"].cache_key[:12] in page
    assert "Harbour" not in page
    assert "clinics-list" not in page
    assert "private" in response["Cache-Control"]


def test_the_clinic_buyer_sees_only_harbour_facts(client, personas):
    client.force_login(personas["clinic_buyer"])

    response = client.get(reverse("account"))

    page = response.content.decode()
    assert "Harbour Physiotherapy Clinic" in page
    assert "Buyer" in page
    assert "Treatment rooms, PL4 6AB" in page
    assert "South West (south-west)" in page
    assert "clinics-list" in page and "Private clinics on list price" in page
    assert ">Not verified<" in page
    assert "Riverside" not in page
    assert "nhs-contract" not in page


def test_a_retail_consumer_sees_they_buy_for_themselves(client, personas):
    patient = UserFactory(full_name="Pat Patient", postcode="SE5 9RS")
    client.force_login(patient)

    response = client.get(reverse("account"))

    page = response.content.decode()
    assert "retail customer buying for yourself" in page
    assert "SE5 9RS" in page
    assert "B2C" in page and "Retail" in page
    assert "Riverside" not in page and "Harbour" not in page
    assert 'id="switch-organisation"' not in page
    assert 'id="switch-site"' not in page
