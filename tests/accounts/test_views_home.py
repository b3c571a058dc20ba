import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_guest_is_invited_to_sign_in(client):
    response = client.get(reverse("home"))

    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("login") in page
    assert "Buying for" not in page


def test_an_nhs_buyer_is_greeted_with_their_trust_and_ward(client):
    trust = OrganisationFactory(name="Riverside University Hospitals NHS Foundation Trust")
    SiteFactory(organisation=trust, name="Ward 7", postcode="se17eh")
    buyer = MembershipFactory(organisation=trust, is_requisitioner=True).user
    client.force_login(buyer)

    response = client.get(reverse("home"))

    page = response.content.decode()
    assert "Buying for <strong>Riverside University Hospitals NHS Foundation Trust</strong>" in page
    assert "delivery to <strong>Ward 7, SE1 7EH</strong>" in page
    assert reverse("account") in page
    assert reverse("member_list") not in page
    assert "private" in response["Cache-Control"]


def test_a_clinic_admin_is_greeted_with_their_clinic_and_admin_links(client):
    clinic = OrganisationFactory(name="Harbour Physiotherapy Clinic", kind="private_clinic")
    SiteFactory(organisation=clinic, name="Reception", kind="clinic", postcode="PL1 2AA")
    admin = MembershipFactory(organisation=clinic, is_org_admin=True).user
    client.force_login(admin)

    page = client.get(reverse("home")).content.decode()

    assert "Buying for <strong>Harbour Physiotherapy Clinic</strong>" in page
    assert "Reception, PL1 2AA" in page
    assert "Riverside" not in page
    assert reverse("member_list") in page


def test_a_retail_consumer_is_greeted_as_buying_for_themselves(client):
    client.force_login(UserFactory(postcode="CF10 1EP"))

    page = client.get(reverse("home")).content.decode()

    assert "Buying for yourself — delivery to <strong>CF10 1EP</strong>" in page
