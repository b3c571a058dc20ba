"""Who may manage an organisation: its org admins only, and only while it is their active one."""

import pytest
from django.urls import reverse

from accounts.models import CostCentre, Membership, Site, User
from segments.middleware import ACTIVE_ORGANISATION_SESSION_KEY
from tests.factories import (
    CostCentreFactory,
    MembershipFactory,
    OrganisationFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db

SITE_DATA = {
    "name": "Renamed ward",
    "kind": "ward",
    "address_line1": "1 Hospital Road",
    "town": "London",
    "postcode": "SE1 7EH",
    "gln": "",
    "is_active": "on",
}

REQUESTS = [
    ("get", "member_list", None, None),
    ("get", "member_edit", "member", None),
    ("post", "member_edit", "member", {"roles": ["approver"], "approval_limit": "100"}),
    ("get", "member_remove", "member", None),
    ("post", "member_remove", "member", {}),
    ("get", "site_list", None, None),
    ("get", "site_edit", "site", None),
    ("post", "site_edit", "site", SITE_DATA),
    ("post", "site_deactivate", "site", {}),
    ("get", "cost_centre_list", None, None),
    ("get", "cost_centre_edit", "cost_centre", None),
    ("post", "cost_centre_edit", "cost_centre", {"code": "NEW1", "name": "Renamed"}),
    (
        "post",
        "member_add",
        None,
        {"email": "new@demo.test", "full_name": "New", "roles": ["buyer"]},
    ),
    ("post", "site_add", None, {**SITE_DATA, "name": "New ward"}),
    ("post", "cost_centre_add", None, {"code": "NEW2", "name": "New centre"}),
]

# Expected status per actor: (GET, POST). An admin of the other organisation finds no object of A;
# on list and add pages they act on their own organisation, which the tests below check separately.
ACTORS = {
    "anonymous": (302, 302),
    "buyer_of_a": (403, 403),
    "admin_of_b": (404, 404),
    "admin_of_a": (200, 302),
}


@pytest.fixture
def world():
    riverside = OrganisationFactory(name="Riverside University Hospitals NHS Foundation Trust")
    harbour = OrganisationFactory(name="Harbour Physiotherapy Clinic", kind="private_clinic")
    return {
        "a": riverside,
        "b": harbour,
        "admin_of_a": MembershipFactory(organisation=riverside, is_org_admin=True).user,
        "buyer_of_a": MembershipFactory(organisation=riverside).user,
        "admin_of_b": MembershipFactory(organisation=harbour, is_org_admin=True).user,
        "member": MembershipFactory(organisation=riverside, is_requisitioner=True),
        "site": SiteFactory(organisation=riverside, name="Ward 7"),
        "cost_centre": CostCentreFactory(organisation=riverside, code="RV100"),
        "b_member": MembershipFactory(organisation=harbour),
        "b_site": SiteFactory(organisation=harbour, name="Clinic rooms", kind="clinic"),
        "b_cost_centre": CostCentreFactory(organisation=harbour, code="HB100"),
    }


def _snapshot():
    return (
        list(Membership.objects.order_by("pk").values()),
        list(Site.objects.order_by("pk").values()),
        list(CostCentre.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values_list("pk", "email")),
    )


def _url(name, target, world):
    return reverse(name, args=[world[target].pk]) if target else reverse(name)


CASES = [
    (actor, *request)
    for actor in ACTORS
    for request in REQUESTS
    if not (actor == "admin_of_b" and request[2] is None)
]


@pytest.mark.parametrize(("actor", "method", "name", "target", "data"), CASES)
def test_permission_table(client, world, actor, method, name, target, data):
    if actor != "anonymous":
        client.force_login(world[actor])
    before = _snapshot()

    response = getattr(client, method)(_url(name, target, world), data or {})

    expected = ACTORS[actor][0 if method == "get" else 1]
    assert response.status_code == expected
    if actor == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    if actor == "admin_of_a" and method == "post":
        assert _snapshot() != before
    else:
        assert _snapshot() == before


def test_the_admin_of_b_sees_and_adds_only_in_b(client, world):
    client.force_login(world["admin_of_b"])

    lists = [client.get(reverse(n)).content.decode() for n in ("member_list", "site_list")]
    lists.append(client.get(reverse("cost_centre_list")).content.decode())
    client.post(reverse("site_add"), {**SITE_DATA, "name": "Gym"})
    client.post(reverse("cost_centre_add"), {"code": "HB200", "name": "Gym"})
    client.post(
        reverse("member_add"), {"email": "new@demo.test", "full_name": "New", "roles": ["buyer"]}
    )

    assert all("Riverside" not in page for page in lists)
    assert world["member"].user.email not in lists[0]
    assert "Ward 7" not in lists[1] and "Clinic rooms" in lists[1]
    assert "RV100" not in lists[2] and "HB100" in lists[2]
    assert Site.objects.get(name="Gym").organisation == world["b"]
    assert CostCentre.objects.get(code="HB200").organisation == world["b"]
    assert Membership.objects.get(user__email="new@demo.test").organisation == world["b"]


def test_an_admin_of_both_active_in_a_cannot_touch_bs_objects(client, world):
    MembershipFactory(user=world["admin_of_a"], organisation=world["b"], is_org_admin=True)
    client.force_login(world["admin_of_a"])
    session = client.session
    session[ACTIVE_ORGANISATION_SESSION_KEY] = world["a"].pk
    session.save()
    before = _snapshot()

    statuses = [
        client.get(reverse("member_edit", args=[world["b_member"].pk])).status_code,
        client.post(reverse("member_remove", args=[world["b_member"].pk])).status_code,
        client.post(reverse("site_edit", args=[world["b_site"].pk]), SITE_DATA).status_code,
        client.post(reverse("site_deactivate", args=[world["b_site"].pk])).status_code,
        client.post(
            reverse("cost_centre_edit", args=[world["b_cost_centre"].pk]),
            {"code": "X", "name": "X"},
        ).status_code,
    ]

    assert statuses == [404] * 5
    assert _snapshot() == before


def test_an_admin_of_a_who_is_only_a_buyer_in_b_cannot_manage_b(client, world):
    MembershipFactory(user=world["admin_of_a"], organisation=world["b"])
    client.force_login(world["admin_of_a"])
    client.post(reverse("organisation_switch"), {"organisation": world["b"].pk})
    before = _snapshot()

    listing = client.get(reverse("member_list"))
    removal = client.post(reverse("member_remove", args=[world["b_member"].pk]))
    own_removal = client.post(reverse("member_remove", args=[world["member"].pk]))

    assert (listing.status_code, removal.status_code, own_removal.status_code) == (403, 403, 403)
    assert _snapshot() == before
