import pytest
from django.urls import reverse
from stdnum import ean

from accounts.models import Site
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Ward 9",
    "kind": "ward",
    "address_line1": "Westminster Bridge Road",
    "town": "London",
    "postcode": "se1 7eh",
    "gln": "",
}


def _gln(body12: str) -> str:
    return body12 + ean.calc_check_digit(body12)


@pytest.fixture
def riverside():
    return OrganisationFactory(name="Riverside University Hospitals NHS Foundation Trust")


@pytest.fixture
def admin(client, riverside):
    user = MembershipFactory(organisation=riverside, is_org_admin=True).user
    client.force_login(user)
    return user


def _sites():
    return list(Site.objects.order_by("pk").values())


def test_the_site_list_shows_this_organisations_sites_only(client, admin, riverside):
    SiteFactory(organisation=riverside, name="Ward 7", postcode="SE1 7EH")
    SiteFactory(organisation=OrganisationFactory(name="Harbour"), name="Clinic rooms")

    page = client.get(reverse("site_list")).content.decode()

    assert "Ward 7" in page and "SE1 7EH" in page
    assert "Clinic rooms" not in page


def test_adding_a_site_normalises_its_postcode(client, admin, riverside):
    gln = _gln("501234567890")

    response = client.post(reverse("site_add"), {**VALID, "gln": gln})

    assert response.status_code == 302
    site = Site.objects.get(name="Ward 9")
    assert (site.organisation, site.postcode, site.postcode_area, site.gln) == (
        riverside,
        "SE1 7EH",
        "SE",
        gln,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postcode", "SE1 7E", "Enter a valid UK postcode"),
        ("postcode", "ZZ99 9ZZ", "Enter a valid UK postcode"),
        ("gln", "12345", "13 digits"),
        (
            "gln",
            _gln("501234567890")[:-1] + "0" if _gln("501234567890")[-1] != "0" else "5012345678901",
            "check digit",
        ),
    ],
)
def test_a_bad_postcode_or_gln_is_a_field_error_and_creates_nothing(
    client, admin, field, value, message
):
    before = _sites()

    response = client.post(reverse("site_add"), {**VALID, field: value})

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert _sites() == before


def test_a_duplicate_site_name_is_an_error_and_creates_nothing(client, admin, riverside):
    SiteFactory(organisation=riverside, name="Ward 9")
    before = _sites()

    response = client.post(reverse("site_add"), VALID)

    assert response.status_code == 400
    assert "already has a site with this name" in response.content.decode()
    assert _sites() == before


def test_editing_and_deactivating_a_site(client, admin, riverside):
    site = SiteFactory(organisation=riverside, name="Ward 7")

    client.post(
        reverse("site_edit", args=[site.pk]), {**VALID, "name": "Ward 7A", "is_active": "on"}
    )
    site.refresh_from_db()
    assert site.name == "Ward 7A" and site.is_active
    client.post(reverse("site_deactivate", args=[site.pk]))

    site.refresh_from_db()
    assert not site.is_active


def test_editing_with_a_bad_postcode_keeps_the_old_one(client, admin, riverside):
    site = SiteFactory(organisation=riverside, name="Ward 7", postcode="SE1 7EH")

    response = client.post(
        reverse("site_edit", args=[site.pk]), {**VALID, "name": "Ward 7", "postcode": "nope"}
    )

    assert response.status_code == 400
    site.refresh_from_db()
    assert site.postcode == "SE1 7EH"
