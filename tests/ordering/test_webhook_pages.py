"""Webhook self-service for organisation admins, and the ordering admin for staff: who may see
and change which endpoints, deliveries, events and orders. Denied requests change nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import organisation_save
from ordering.models import DeliveryState, OutboxEvent, WebhookDelivery, WebhookEndpoint
from ordering.services.transitions import order_transition
from tests.factories import MembershipFactory, UserFactory
from tests.ordering.builders import make_order

pytestmark = pytest.mark.django_db

URL = "https://erp.riverside.example/hooks"


@pytest.fixture
def distributor_admin(world):
    return MembershipFactory(organisation=world.distributor, is_org_admin=True, is_buyer=False,
                             user__email="admin@pennine.test").user


@pytest.fixture
def trust_endpoint(world):
    return WebhookEndpoint.objects.create(organisation=world.trust, url=URL,
                                          description="Oracle ERP")


def _delivery(world, endpoint, state=DeliveryState.PENDING, **fields) -> WebhookDelivery:
    order = make_order(world, "allocated", fulfiller=fields.pop("fulfiller", None))
    order_transition(order=order, action="ship", actor_buyer=None)
    event = OutboxEvent.objects.filter(order=order, organisation=endpoint.organisation).get()
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint, state=state,
                                          next_attempt_at=timezone.now(), **fields)


def test_an_org_admin_adds_an_endpoint_and_sees_its_secret(client, world):
    admin = world.user("org_admin")
    client.force_login(admin)

    added = client.post("/account/webhooks/add/", {"url": URL, "description": "Oracle ERP"})

    endpoint = WebhookEndpoint.objects.get()
    assert added.status_code == 302 and added.url == f"/account/webhooks/{endpoint.pk}/"
    assert (endpoint.organisation, endpoint.created_by, endpoint.is_active) == (
        world.trust, admin, True
    )
    page = client.get(added.url)
    assert page.status_code == 200
    assert endpoint.secret in page.content.decode()
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    listing = client.get("/account/webhooks/").content.decode()
    assert URL in listing and endpoint.secret not in listing


@pytest.mark.parametrize("url", ["ftp://erp.example.com/hooks", "http://localhost/hooks",
                                 "http://192.168.1.20/hooks", "not a url"])
def test_an_org_admin_cannot_add_a_non_public_or_non_http_address(client, world, url):
    client.force_login(world.user("org_admin"))

    response = client.post("/account/webhooks/add/", {"url": url})

    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_the_same_address_twice_is_refused_on_the_form(client, world, trust_endpoint):
    client.force_login(world.user("org_admin"))

    response = client.post("/account/webhooks/add/", {"url": URL})

    assert response.status_code == 400
    assert "already receives your events" in response.content.decode()
    assert WebhookEndpoint.objects.count() == 1


def test_an_org_admin_switches_an_endpoint_off_and_on_sends_a_test_and_deletes_it(
    client, world, trust_endpoint
):
    client.force_login(world.user("org_admin"))
    base = f"/account/webhooks/{trust_endpoint.pk}"

    client.post(f"{base}/deactivate/")
    trust_endpoint.refresh_from_db()
    assert not trust_endpoint.is_active
    assert client.post(f"{base}/test/").status_code == 404  # nothing is sent to an inactive one
    client.post(f"{base}/activate/")
    pinged = client.post(f"{base}/test/")

    trust_endpoint.refresh_from_db()
    assert trust_endpoint.is_active and pinged.status_code == 302
    test_event = WebhookDelivery.objects.get(endpoint=trust_endpoint).event
    assert (test_event.type, test_event.organisation) == ("webhook.test", world.trust)
    assert test_event.dispatched_at is not None  # never dispatched to other endpoints
    assert "webhook.test" in client.get(f"{base}/").content.decode()
    deleted = client.post(f"{base}/delete/")
    assert deleted.status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_an_org_admin_rotates_the_signing_secret_and_sees_the_new_one(
    client, world, trust_endpoint
):
    old_secret = trust_endpoint.secret
    client.force_login(world.user("org_admin"))

    rotated = client.post(f"/account/webhooks/{trust_endpoint.pk}/rotate-secret/", follow=True)

    trust_endpoint.refresh_from_db()
    page = rotated.content.decode()
    assert trust_endpoint.secret != old_secret
    assert trust_endpoint.secret in page and old_secret not in page


ENDPOINT_PAGES = [
    ("get", "/account/webhooks/{pk}/"),
    ("post", "/account/webhooks/{pk}/deactivate/"),
    ("post", "/account/webhooks/{pk}/activate/"),
    ("post", "/account/webhooks/{pk}/test/"),
    ("post", "/account/webhooks/{pk}/rotate-secret/"),
    ("post", "/account/webhooks/{pk}/delete/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINT_PAGES)
@pytest.mark.parametrize(("who", "expected"), [
    ("anonymous", 302),  # sent to sign in
    ("buyer", 403),  # a member of the trust without the admin role
    ("patient", 403),  # a retail customer
    ("distributor_admin", 404),  # an admin of another organisation
])
def test_only_the_organisations_admins_reach_its_endpoints(
    client, world, trust_endpoint, distributor_admin, method, path, who, expected
):
    user = {"anonymous": None, "distributor_admin": distributor_admin}.get(who) or (
        world.user(who) if who != "anonymous" else None
    )
    if user is not None:
        client.force_login(user)

    response = getattr(client, method)(path.format(pk=trust_endpoint.pk))

    assert response.status_code == expected
    if expected == 302:
        assert "/account/login/" in response.url
    trust_endpoint.refresh_from_db()
    assert trust_endpoint.is_active
    assert not WebhookDelivery.objects.exists()
    if response.status_code != 404:
        assert trust_endpoint.secret not in response.content.decode()


@pytest.mark.parametrize("who", ["buyer", "distributor_admin"])
def test_others_neither_list_nor_add_the_trusts_endpoints(
    client, world, trust_endpoint, distributor_admin, who
):
    client.force_login(distributor_admin if who == "distributor_admin" else world.user(who))

    listed = client.get("/account/webhooks/")
    added = client.post("/account/webhooks/add/", {"url": "https://evil.example/hooks"})

    if who == "buyer":
        assert (listed.status_code, added.status_code) == (403, 403)
        assert WebhookEndpoint.objects.count() == 1
    else:  # the distributor's admin manages the distributor's own endpoints only
        assert listed.status_code == 200 and URL not in listed.content.decode()
        assert WebhookEndpoint.objects.get(url="https://evil.example/hooks").organisation == (
            world.distributor
        )


def test_the_webhook_list_runs_the_same_queries_for_few_and_many(client, world):
    client.force_login(world.user("org_admin"))

    def queries_for(count):
        for n in range(count):
            endpoint = WebhookEndpoint.objects.create(organisation=world.trust,
                                                      url=f"https://erp{n}.example/hooks")
            _delivery(world, endpoint)
        client.get("/account/webhooks/")  # the buyer's context is cached after the first page
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/account/webhooks/").status_code == 200
        WebhookEndpoint.objects.all().delete()
        return len(captured)

    assert queries_for(2) == queries_for(8)


def test_the_account_page_links_org_admins_to_webhooks(client, world):
    client.force_login(world.user("org_admin"))
    admin_page = client.get("/account/").content.decode()
    client.force_login(world.user("buyer"))
    buyer_page = client.get("/account/").content.decode()

    assert "/account/webhooks/" in admin_page
    assert "/account/webhooks/" not in buyer_page


# The admin --------------------------------------------------------------------------------------

@pytest.fixture
def superuser(db):
    return UserFactory(email="root@maker.test", is_staff=True, is_superuser=True)


@pytest.fixture
def trust_manager(world):
    manager = UserFactory(email="am.trust@maker.test", is_staff=True)
    world.trust.account_manager = manager
    organisation_save(organisation=world.trust)
    return manager


def test_staff_open_the_ordering_admin_pages(client, world, superuser, trust_endpoint):
    delivery = _delivery(world, trust_endpoint, last_error="HTTP 500 Internal Server Error")
    client.force_login(superuser)

    pages = [
        reverse("admin:ordering_order_changelist"),
        reverse("admin:ordering_order_change", args=[delivery.event.order_id]),
        reverse("admin:ordering_order_history", args=[delivery.event.order_id]),
        reverse("admin:ordering_outboxevent_changelist"),
        reverse("admin:ordering_outboxevent_change", args=[delivery.event_id]),
        reverse("admin:ordering_webhookdelivery_changelist") + "?state__exact=pending",
        reverse("admin:ordering_webhookdelivery_change", args=[delivery.pk]),
        reverse("admin:ordering_webhookendpoint_changelist"),
        reverse("admin:ordering_webhookendpoint_add"),
        reverse("admin:ordering_webhookendpoint_change", args=[trust_endpoint.pk]),
    ]

    statuses = {page: client.get(page).status_code for page in pages}

    assert set(statuses.values()) == {200}, statuses
    event_page = client.get(pages[4]).content.decode()
    assert "&quot;type&quot;: &quot;order.ship&quot;" in event_page  # the payload, pretty
    assert trust_endpoint.secret in client.get(pages[9]).content.decode()
    assert client.get(reverse("admin:ordering_order_add")).status_code == 403


def test_orders_cannot_be_changed_or_deleted_in_the_admin(client, world, superuser):
    order = make_order(world, "allocated")
    client.force_login(superuser)
    url = reverse("admin:ordering_order_change", args=[order.pk])

    client.post(url, {"state": "cancelled", "total_net": "1.00", "total_gross": "1.00"})
    deleted = client.post(reverse("admin:ordering_order_delete", args=[order.pk]), {"post": "yes"})

    order.refresh_from_db()
    assert (order.state, str(order.total_net)) == ("allocated", "100.00")
    assert deleted.status_code == 403


def test_staff_add_an_endpoint_for_an_organisation(client, world, superuser):
    client.force_login(superuser)
    url = reverse("admin:ordering_webhookendpoint_add")

    refused = client.post(url, {"organisation": world.trust.pk, "url": "ftp://erp.example/x",
                                "is_active": "on"})
    added = client.post(url, {"organisation": world.trust.pk, "url": URL, "is_active": "on"})

    assert refused.status_code == 200 and "http://" in refused.content.decode()
    assert added.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.organisation, endpoint.url, endpoint.created_by) == (world.trust, URL,
                                                                          superuser)


def test_retry_now_makes_a_dead_delivery_due_keeping_its_attempts(
    client, world, superuser, trust_endpoint, django_capture_on_commit_callbacks
):
    dead = _delivery(world, trust_endpoint, state=DeliveryState.DEAD, attempts=8,
                     last_status_code=500)
    delivered = _delivery(world, trust_endpoint, state=DeliveryState.DELIVERED, attempts=1)
    client.force_login(superuser)

    with django_capture_on_commit_callbacks() as queued:
        client.post(reverse("admin:ordering_webhookdelivery_changelist"), {
            "action": "retry_now", "_selected_action": [dead.pk, delivered.pk],
        })

    dead.refresh_from_db()
    delivered.refresh_from_db()
    assert (dead.state, dead.attempts) == (DeliveryState.PENDING, 8)
    assert dead.next_attempt_at <= timezone.now()
    assert delivered.state == DeliveryState.DELIVERED
    assert len(queued) == 1


def test_an_account_manager_sees_only_their_organisations_rows(
    client, world, trust_manager, trust_endpoint
):
    other_endpoint = WebhookEndpoint.objects.create(organisation=world.distributor,
                                                    url="https://pennine.example/hooks")
    ours = _delivery(world, trust_endpoint)
    theirs = _delivery(world, other_endpoint, fulfiller=world.distributor)
    retail_free = make_order(world, "allocated", placed_by="buyer")
    client.force_login(trust_manager)

    def rows(model):
        page = client.get(reverse(f"admin:ordering_{model}_changelist"))
        assert page.status_code == 200
        return set(page.context["cl"].result_list)

    assert rows("webhookendpoint") == {trust_endpoint}
    assert rows("webhookdelivery") == {ours}
    assert rows("outboxevent") == set(OutboxEvent.objects.filter(organisation=world.trust))
    # the routed order is the trust's too (it placed it); the distributor's other rows are not
    assert rows("order") == {ours.event.order, theirs.event.order, retail_free}
    assert client.get(
        reverse("admin:ordering_webhookdelivery_change", args=[theirs.pk])
    ).status_code == 302  # "not found", back to the admin index
    assert client.get(
        reverse("admin:ordering_webhookendpoint_change", args=[other_endpoint.pk])
    ).status_code == 302


def test_a_distributors_manager_sees_the_orders_routed_to_it(client, world):
    manager = UserFactory(email="am.pennine@maker.test", is_staff=True)
    world.distributor.account_manager = manager
    organisation_save(organisation=world.distributor)
    routed = make_order(world, "routed", fulfiller=world.distributor)
    make_order(world, "allocated")
    client.force_login(manager)

    listed = client.get(reverse("admin:ordering_order_changelist"))
    opened = client.get(reverse("admin:ordering_order_change", args=[routed.pk]))

    assert set(listed.context["cl"].result_list) == {routed}
    assert opened.status_code == 200
