import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.factories.accounts import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_sign_in_page_labels_email_and_password(client):
    page = client.get(reverse("login")).content.decode()

    assert '<label for="id_username">Email address' in page
    assert '<label for="id_password">Password' in page
    assert 'href="#main"' in page


def test_a_wrong_password_shows_a_clear_error_and_signs_nobody_in(client):
    UserFactory(email="nhs.buyer@demo.test")

    response = client.post(
        reverse("login"), {"username": "nhs.buyer@demo.test", "password": "wrong-password"}
    )

    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_single_organisation_buyer_goes_home_and_email_case_does_not_matter(client):
    MembershipFactory(user__email="clinic.buyer@demo.test")

    response = client.post(
        reverse("login"), {"username": "Clinic.Buyer@Demo.Test", "password": DEMO_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_a_member_of_two_organisations_chooses_one_after_sign_in(client):
    user = UserFactory(email="multi@demo.test")
    MembershipFactory(user=user, organisation=OrganisationFactory(name="Riverside"))
    MembershipFactory(user=user, organisation=OrganisationFactory(name="Harbour Clinic"))

    response = client.post(reverse("login"), {"username": user.email, "password": DEMO_PASSWORD})

    assert response["Location"] == reverse("choose_organisation")
    page = client.get(response["Location"]).content.decode()
    assert "Riverside" in page and "Harbour Clinic" in page


def test_sign_out_is_a_post_and_ends_the_session(client):
    client.force_login(UserFactory())

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
