import pytest
from django.urls import reverse

from segments.middleware import ACTIVE_ORGANISATION_SESSION_KEY, ACTIVE_SITE_SESSION_KEY
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def multi():
    """A consultant buying for Riverside and Harbour Clinic, and an organisation they are not in."""
    user = UserFactory(email="multi@demo.test")
    riverside = OrganisationFactory(name="Riverside University Hospitals NHS Foundation Trust")
    harbour = OrganisationFactory(
        name="Harbour Physiotherapy Clinic", kind="private_clinic", postcode="PL1 2AA"
    )
    northgate = OrganisationFactory(name="Northgate Hospitals NHS Trust", postcode="LS1 3EX")
    ward = SiteFactory(organisation=riverside, name="Ward 7", postcode="SE1 7EH")
    theatre = SiteFactory(
        organisation=riverside, name="Theatre 2", kind="theatre", postcode="SE1 9RT"
    )
    SiteFactory(organisation=harbour, name="Clinic rooms", kind="clinic", postcode="PL4 6AB")
    foreign_site = SiteFactory(
        organisation=northgate, name="Stores", kind="stores", postcode="LS1 3EX"
    )
    MembershipFactory(user=user, organisation=riverside)
    MembershipFactory(user=user, organisation=harbour)
    return {
        "user": user,
        "riverside": riverside,
        "harbour": harbour,
        "northgate": northgate,
        "ward": ward,
        "theatre": theatre,
        "foreign_site": foreign_site,
    }


def _account_page(client) -> str:
    return client.get(reverse("account")).content.decode()


def test_the_organisation_switcher_shows_only_for_several_memberships(client, multi):
    single = MembershipFactory(organisation=multi["northgate"]).user

    client.force_login(multi["user"])
    assert 'id="switch-organisation"' in client.get(reverse("home")).content.decode()
    client.force_login(single)
    assert 'id="switch-organisation"' not in client.get(reverse("home")).content.decode()


def test_switching_organisation_shows_only_the_other_one(client, multi):
    client.force_login(multi["user"])
    client.post(reverse("organisation_switch"), {"organisation": multi["riverside"].pk})
    client.post(reverse("site_switch"), {"site": multi["theatre"].pk})
    assert 'data-fact="organisation">Riverside' in _account_page(client)

    response = client.post(
        reverse("organisation_switch"), {"organisation": multi["harbour"].pk, "next": "/account/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert client.session[ACTIVE_ORGANISATION_SESSION_KEY] == multi["harbour"].pk
    assert ACTIVE_SITE_SESSION_KEY not in client.session
    page = _account_page(client)
    assert 'data-fact="organisation">Harbour Physiotherapy Clinic' in page
    assert "Clinic rooms, PL4 6AB" in page
    assert "Ward 7" not in page and "Theatre 2" not in page
    assert "selected>Riverside" not in page


def test_switching_to_an_organisation_you_are_not_in_is_a_404_and_changes_nothing(client, multi):
    client.force_login(multi["user"])
    client.post(reverse("organisation_switch"), {"organisation": multi["harbour"].pk})
    before = dict(client.session)

    response = client.post(reverse("organisation_switch"), {"organisation": multi["northgate"].pk})
    garbage = client.post(reverse("organisation_switch"), {"organisation": "not-a-number"})

    assert response.status_code == 404
    assert garbage.status_code == 404
    assert dict(client.session) == before
    assert "Northgate" not in _account_page(client)


def test_an_open_redirect_is_refused_after_switching(client, multi):
    client.force_login(multi["user"])

    response = client.post(
        reverse("organisation_switch"),
        {"organisation": multi["harbour"].pk, "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("home")


def test_the_site_switcher_changes_the_delivery_site(client, multi):
    client.force_login(multi["user"])
    client.post(reverse("organisation_switch"), {"organisation": multi["riverside"].pk})

    client.post(reverse("site_switch"), {"site": multi["theatre"].pk})

    assert client.session[ACTIVE_SITE_SESSION_KEY] == multi["theatre"].pk
    assert "Theatre 2, SE1 9RT" in _account_page(client)


def test_another_organisations_site_is_a_404_and_changes_nothing(client, multi):
    client.force_login(multi["user"])
    client.post(reverse("organisation_switch"), {"organisation": multi["harbour"].pk})
    before = dict(client.session)

    foreign = client.post(reverse("site_switch"), {"site": multi["foreign_site"].pk})
    other_membership_site = client.post(reverse("site_switch"), {"site": multi["ward"].pk})

    assert foreign.status_code == 404
    assert other_membership_site.status_code == 404
    assert dict(client.session) == before


def test_switchers_need_a_signed_in_user(client, multi):
    response = client.post(reverse("organisation_switch"), {"organisation": multi["harbour"].pk})

    assert response.status_code == 302
    assert ACTIVE_ORGANISATION_SESSION_KEY not in client.session
