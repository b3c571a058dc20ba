"""Who may open and change an organisation in the admin. Denied rows change nothing."""
import pytest
from django.urls import reverse

from tests.admin.forms import post_data
from tests.factories import OrganisationFactory, UserFactory

ALLOWED = "allowed"
LOGIN = "sent to the admin login"
FORBIDDEN = "forbidden"
NOT_FOUND = "sent to the admin index as not found"


def _who(name, manager):
    if name == "anonymous":
        return None
    if name == "plain user":
        return UserFactory(email="clinic.buyer@demo.test")
    if name == "manager without assignment":
        return UserFactory(email="manager.south@demo.test", is_staff=True)
    if name == "manager of another organisation":
        elsewhere = UserFactory(email="manager.north@demo.test", is_staff=True)
        OrganisationFactory(name="Pennine Medical Supplies", account_manager=elsewhere)
        return elsewhere
    if name == "manager with assignment":
        return manager
    return UserFactory(email="admin2@demo.test", is_staff=True, is_superuser=True)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", LOGIN),
        ("plain user", LOGIN),
        ("manager without assignment", FORBIDDEN),
        ("manager of another organisation", NOT_FOUND),
        ("manager with assignment", ALLOWED),
        ("superuser", ALLOWED),
    ],
)
def test_organisation_change_page(client, superuser, manager, riverside, who, expected):
    url = reverse("admin:accounts_organisation_change", args=[riverside.pk])
    client.force_login(superuser)
    data = post_data(client.get(url))
    data["name"] = "Renamed Hospitals NHS FT"
    client.logout()
    user = _who(who, manager)
    if user is not None:
        client.force_login(user)

    page = client.get(url)
    change = client.post(url, data)

    riverside.refresh_from_db()
    if expected == ALLOWED:
        assert page.status_code == 200
        assert change.status_code == 302
        assert riverside.name == "Renamed Hospitals NHS FT"
        return
    assert riverside.name == "Riverside University Hospitals NHS FT"
    assert b"Riverside" not in page.content
    if expected == FORBIDDEN:
        assert (page.status_code, change.status_code) == (403, 403)
    else:
        target = reverse("admin:login") if expected == LOGIN else reverse("admin:index")
        assert (page.status_code, change.status_code) == (302, 302)
        assert page.url.startswith(target)
        assert change.url.startswith(target)
