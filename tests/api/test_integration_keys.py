"""Integration keys: an organisation admin issues one at Account → API keys with an API role of its
own and a member responsible for it; its orders are recorded as placed through the key by that
member and go through the organisation's approval rules as that role's would, unless the
organisation says otherwise. Personal keys of requisitioners follow their own orders; staff keys
fulfil but never order."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.keys import ApiKey, ApiKeyKind, ApiScope
from accounts.models import Membership
from accounts.services import membership_remove
from ordering.models import ApprovalRule, Order, OrderState
from tests.api.conftest import (
    issue_integration_key,
    issue_key,
    issue_staff_key,
    key_client,
    session_client,
)
from tests.factories import UserFactory
from tests.ordering.builders import make_order
from tests.ordering.conftest import build_world

ORDERING = [ApiScope.CATALOGUE_READ, ApiScope.ORDERS_WRITE]
THRESHOLD = Decimal("500.00")


@pytest.fixture
def world(db):
    """The ordering world, whose trust asks an approver only for orders of £500 or more."""
    world = build_world()
    ApprovalRule.objects.filter(organisation=world.trust).update(min_total=THRESHOLD)
    return world


def issue_through_page(client, admin, **fields) -> tuple[ApiKey, str]:
    """The organisation admin issues a key at Account → API keys; the key and its token."""
    client.force_login(admin)
    response = client.post("/account/api-keys/issue/", {
        "kind": "integration", "name": "Oracle ERP", "role": "buyer", "scopes": ORDERING,
        **fields,
    })
    assert response.status_code == 200, response.context["form"].errors
    token = response.context["token"]
    return ApiKey.objects.get(prefix=token.split(".")[0]), token


def body(world, quantity: int, po: str) -> dict:
    """`quantity` foam dressings at £12.50 (£11.00 from 50) to the cost centre W7210."""
    return {
        "lines": [{"sku": "WC-10001", "quantity": quantity}], "po_number": po,
        "cost_centre": "W7210",
        "requested_delivery_date": str(timezone.localdate() + datetime.timedelta(days=7)),
    }


def place(client, world, quantity: int, po: str):
    return client.post("/api/v1/orders/", body(world, quantity, po), format="json")


@pytest.mark.django_db
def test_an_org_admin_who_does_not_buy_issues_a_key_that_orders_in_the_keys_name(client, world):
    admin = world.user("org_admin")
    key, token = issue_through_page(client, admin)
    erp = key_client(token)

    me = erp.get("/api/v1/me/").json()
    placed = place(erp, world, 10, "PO-INT-1")
    listed = erp.get("/api/v1/orders/")

    assert placed.status_code == 201, placed.json()
    (answer,) = placed.json()["orders"]
    order = Order.objects.get(number=answer["number"])
    assert (key.kind, key.role, key.user, key.created_by) == ("integration", "buyer", admin, admin)
    assert me["roles"] == ["buyer"] and me["key"]["kind"] == "integration"
    assert me["key"]["person"] == admin.email and me["organisation"]["id"] == world.trust.pk
    assert (order.placed_by, order.api_key) == (admin, key)
    assert answer["placed_by"] == admin.email
    assert answer["placed_via_key"] == {"name": "Oracle ERP", "prefix": key.prefix,
                                        "kind": "integration", "role": "buyer"}
    assert "Oracle ERP" in order.events.get(action="place").actor_label
    assert listed.status_code == 200
    assert [row["number"] for row in listed.json()["results"]] == [order.number]


@pytest.mark.django_db
def test_the_responsible_member_can_be_another_member_and_the_role_is_the_keys(client, world):
    key, token = issue_through_page(client, world.user("org_admin"), role="requisitioner",
                                    responsible=Membership.objects.get(
                                        user=world.user("approver")).pk)

    me = key_client(token).get("/api/v1/me/").json()

    assert key.user == world.user("approver")
    assert me["roles"] == ["requisitioner"]
    assert "approve_order" not in me["permissions"]  # the member's approval is theirs alone


@pytest.mark.django_db
@pytest.mark.parametrize("role,quantity,waits", [
    ("buyer", 10, False),  # £125: under the trust's £500 rule, released at once
    ("buyer", 60, True),  # £660
    ("requisitioner", 10, True),  # a requisition always waits for an approver
])
def test_the_approval_rules_apply_as_for_the_keys_role(world, role, quantity, waits):
    erp = key_client(issue_integration_key(world.trust, world.user("org_admin"), role=role))

    placed = place(erp, world, quantity, "PO-INT-2")

    assert placed.status_code == 201, placed.json()
    (order,) = placed.json()["orders"]
    assert (order["state"] == OrderState.PENDING_APPROVAL) is waits
    assert bool(order["approvals"]) is waits


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["buyer", "requisitioner"])
def test_an_organisation_may_let_integration_orders_skip_its_approval_rules(client, world, role):
    erp = key_client(issue_integration_key(world.trust, world.user("org_admin"), role=role))
    personal = key_client(issue_key(world.trust, world.user("buyer"), scopes=ORDERING))
    client.force_login(world.user("org_admin"))

    switched = client.post("/account/api-keys/integration-approval/", {"skip": "on"})
    through_key = place(erp, world, 60, "PO-INT-3")
    by_person = place(personal, world, 60, "PO-INT-4")

    world.trust.refresh_from_db()
    assert switched.status_code == 302 and world.trust.integration_orders_skip_approval
    assert through_key.json()["orders"][0]["approvals"] == []
    assert through_key.json()["orders"][0]["state"] != OrderState.PENDING_APPROVAL
    assert by_person.json()["orders"][0]["state"] == OrderState.PENDING_APPROVAL


@pytest.mark.django_db
def test_only_an_org_admin_may_change_the_approval_setting(client, world):
    client.force_login(world.user("buyer"))

    refused = client.post("/account/api-keys/integration-approval/", {"skip": "on"})

    world.trust.refresh_from_db()
    assert refused.status_code == 403
    assert not world.trust.integration_orders_skip_approval


@pytest.mark.django_db
def test_an_integration_key_sees_the_orders_placed_through_it_only(world):
    admin = world.user("org_admin")
    first = key_client(issue_integration_key(world.trust, admin, name="ERP 1"))
    second = key_client(issue_integration_key(world.trust, admin, name="ERP 2"))
    mine = place(first, world, 10, "PO-INT-5").json()["orders"][0]["number"]
    theirs = place(second, world, 10, "PO-INT-6").json()["orders"][0]["number"]
    by_buyer = make_order(world, OrderState.SUBMITTED, placed_by="buyer")

    listed = [row["number"] for row in first.get("/api/v1/orders/").json()["results"]]

    assert listed == [mine]
    assert first.get(f"/api/v1/orders/{theirs}/").status_code == 404
    assert first.get(f"/api/v1/orders/{by_buyer.number}/").status_code == 404
    assert first.post(f"/api/v1/orders/{mine}/cancel/", {"comment": "wrong ward"},
                      format="json").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("leaves", ["removed", "deactivated"])
def test_a_key_stops_when_its_responsible_member_leaves(world, leaves):
    buyer = world.user("buyer")
    erp = key_client(issue_integration_key(world.trust, buyer))
    membership = Membership.objects.get(user=buyer, organisation=world.trust)
    if leaves == "removed":
        membership_remove(membership=membership)
    else:
        Membership.objects.filter(pk=membership.pk).update(is_active=False)

    refused = place(erp, world, 10, "PO-INT-7")

    assert refused.status_code == 401
    assert "responsible for this integration key no longer belongs" in (
        refused.json()["error"]["message"])
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("fields,error", [
    ({"role": "org_admin"}, "role"),
    ({"role": "approver"}, "role"),
    ({"role": ""}, "role"),
    ({"scopes": [ApiScope.WEBHOOKS_MANAGE]}, "scopes"),
])
def test_an_integration_key_never_holds_an_admins_or_approvers_rights(client, world, fields,
                                                                       error):
    client.force_login(world.user("org_admin"))

    response = client.post("/account/api-keys/issue/", {
        "kind": "integration", "name": "Oracle ERP", "role": "buyer", "scopes": ORDERING,
        **fields,
    })

    assert response.status_code == 400
    assert error in response.context["form"].errors
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_the_responsible_member_must_belong_to_the_organisation(client, world):
    client.force_login(world.user("org_admin"))
    outsider = Membership.objects.get(user=world.user("distributor"))

    response = client.post("/account/api-keys/issue/", {
        "kind": "integration", "name": "Oracle ERP", "role": "buyer", "scopes": ORDERING,
        "responsible": outsider.pk,
    })

    assert response.status_code == 400
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_a_requisitioners_own_key_follows_its_own_orders_and_raises_requisitions(world):
    requisitioner = key_client(issue_key(world.trust, world.user("requisitioner"),
                                         scopes=ORDERING))
    others = make_order(world, OrderState.SUBMITTED, placed_by="buyer")

    placed = place(requisitioner, world, 10, "PO-REQ-1")
    listed = requisitioner.get("/api/v1/orders/")

    assert placed.status_code == 201, placed.json()
    (order,) = placed.json()["orders"]
    assert order["state"] == OrderState.PENDING_APPROVAL
    assert order["placed_via_key"]["kind"] == "personal"
    assert listed.status_code == 200
    assert [row["number"] for row in listed.json()["results"]] == [order["number"]]
    assert requisitioner.get(f"/api/v1/orders/{others.number}/").status_code == 404


@pytest.mark.django_db
def test_a_staff_key_fulfils_but_never_orders(world):
    staff = UserFactory(is_staff=True, is_superuser=True)
    maker = key_client(issue_staff_key(staff))
    allocated = make_order(world, OrderState.ALLOCATED, placed_by="buyer")

    fulfil = maker.get("/api/v1/fulfilment/orders/")
    ordering = place(maker, world, 10, "PO-STAFF-1")
    listing = maker.get("/api/v1/orders/")
    me = maker.get("/api/v1/me/").json()

    assert fulfil.status_code == 200
    assert [row["number"] for row in fulfil.json()["results"]] == [allocated.number]
    assert ordering.status_code == listing.status_code == 403
    assert me["key"]["kind"] == "staff" and me["organisation"] is None
    assert me["permissions"] == []
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_the_key_is_shown_on_the_order_in_the_admin_and_the_storefront(client, world):
    admin = world.user("org_admin")
    key, token = issue_through_page(client, admin)
    number = place(key_client(token), world, 10, "PO-INT-8").json()["orders"][0]["number"]
    order = Order.objects.get(number=number)
    staff = UserFactory(is_staff=True, is_superuser=True)

    on_page = session_client(admin).get(f"/orders/{number}/").content.decode()
    client.force_login(staff)
    in_admin = client.get(f"/admin/ordering/order/{order.pk}/change/").content.decode()

    assert "through the API key “Oracle ERP”" in on_page
    assert "Oracle ERP" in in_admin


@pytest.mark.django_db
def test_the_key_list_says_what_each_key_acts_as(client, world):
    admin = world.user("org_admin")
    issue_integration_key(world.trust, world.user("buyer"), role="requisitioner", name="Ward ERP")
    issue_key(world.trust, admin, scopes=[ApiScope.CATALOGUE_READ], name="Mine")
    client.force_login(admin)

    page = client.get("/account/api-keys/").content.decode()
    form = client.get("/account/api-keys/issue/").content.decode()

    assert "Integration (requisitioner)" in page and "Personal" in page
    assert "skip our approval rules" in page
    assert "Responsible member" in form and world.user("buyer").email in form
    assert "orders:fulfil" not in form and "prices:import" not in form
    assert f"responsible: {world.user('buyer').email}" in page
    assert ApiKeyKind.STAFF.label not in page
