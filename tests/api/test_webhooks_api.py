"""Webhook endpoints managed through the API with a key an organisation admin issues: add, list,
change, switch off, rotate the secret, send a test event that a real receiver verifies, read the
delivery log, delete — and nothing of another organisation's, nor without the scope or the role."""

import pytest

from accounts.keys import ApiScope
from ordering.models import WebhookDelivery, WebhookEndpoint
from ordering.services.webhooks import webhook_endpoint_create, webhook_endpoint_ping
from ordering.signing import webhook_signature_verify
from tests.api.conftest import issue_key, key_client, session_client
from tests.api.test_query_counts import queries_for
from tests.ordering.webhook_receiver import running_receiver

MANAGE = [ApiScope.WEBHOOKS_MANAGE]
URL = "https://erp.riverside.example/hooks"


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


def admin_client(world):
    return key_client(issue_key(world.trust, world.trust_admin, scopes=MANAGE))


def test_an_admin_key_adds_lists_reads_and_changes_an_endpoint(world):
    client = admin_client(world)

    added = client.post("/api/v1/webhooks/", {"url": URL, "description": "Oracle ERP"},
                        format="json")
    listed = client.get("/api/v1/webhooks/")
    endpoint_id = added.json()["id"]
    changed = client.patch(f"/api/v1/webhooks/{endpoint_id}/",
                           {"description": "Oracle ERP (live)", "is_active": False},
                           format="json")

    assert added.status_code == 201
    assert added.json()["secret"].startswith("whsec_")
    assert added.json()["created_by"] == world.trust_admin.email
    assert [row["url"] for row in listed.json()["results"]] == [URL]
    assert changed.status_code == 200
    stored = WebhookEndpoint.objects.get(pk=endpoint_id)
    assert (stored.organisation, stored.description, stored.is_active) == (
        world.trust, "Oracle ERP (live)", False)


def test_a_private_address_is_refused_at_its_field_and_nothing_is_added(world):
    client = admin_client(world)

    refused = client.post("/api/v1/webhooks/", {"url": "http://10.0.0.8/hooks"}, format="json")
    not_a_url = client.post("/api/v1/webhooks/", {"url": "erp"}, format="json")
    unknown = client.post("/api/v1/webhooks/", {"url": URL, "secret": "mine"}, format="json")

    assert refused.status_code == 422
    assert "url" in refused.json()["error"]["fields"]
    assert not_a_url.status_code == 400
    assert "url" in not_a_url.json()["error"]["fields"]
    assert unknown.status_code == 400
    assert "secret" in unknown.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_changing_to_a_private_address_changes_nothing(world):
    endpoint = webhook_endpoint_create(organisation=world.trust, url=URL)

    answer = admin_client(world).patch(f"/api/v1/webhooks/{endpoint.pk}/",
                                       {"url": "http://127.0.0.1:9/x", "description": "new"},
                                       format="json")

    assert answer.status_code == 422
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description) == (URL, "")


def test_rotating_the_secret_signs_the_next_delivery_with_the_new_one(
    world, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receiver listens on 127.0.0.1
    client = admin_client(world)
    endpoint = webhook_endpoint_create(organisation=world.trust, url=receiver.url)
    old_secret = endpoint.secret

    rotated = client.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/", {}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        tested = client.post(f"/api/v1/webhooks/{endpoint.pk}/test/", {}, format="json")
    log = client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()["results"]

    new_secret = rotated.json()["secret"]
    assert rotated.status_code == 200 and new_secret != old_secret
    assert tested.status_code == 202 and tested.json()["event_type"] == "webhook.test"
    [request] = receiver.requests
    signed = {"timestamp": request.headers["Webhook-Timestamp"], "body": request.body,
              "signature": request.headers["Webhook-Signature"]}
    assert webhook_signature_verify(secret=new_secret, **signed)
    assert not webhook_signature_verify(secret=old_secret, **signed)
    assert [(row["event_id"], row["state"]) for row in log] == [
        (request.headers["Webhook-Id"], "delivered")]


def test_a_switched_off_endpoint_gets_no_test_event(world):
    endpoint = webhook_endpoint_create(organisation=world.trust, url=URL)
    endpoint.is_active = False
    endpoint.save()

    answer = admin_client(world).post(f"/api/v1/webhooks/{endpoint.pk}/test/", {},
                                      format="json")

    assert answer.status_code == 404
    assert not WebhookDelivery.objects.exists()


def test_delete_removes_the_endpoint(world):
    endpoint = webhook_endpoint_create(organisation=world.trust, url=URL)

    answer = admin_client(world).delete(f"/api/v1/webhooks/{endpoint.pk}/")

    assert answer.status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("method, suffix, body", [
    ("get", "", None), ("patch", "", {"description": "x"}), ("delete", "", None),
    ("post", "rotate-secret/", {}), ("post", "test/", {}), ("get", "deliveries/", None),
])
def test_another_organisations_endpoint_does_not_exist_for_the_caller(
    world, method, suffix, body
):
    theirs = webhook_endpoint_create(organisation=world.clinic, url=URL)
    secret = theirs.secret
    client = admin_client(world)

    answer = getattr(client, method)(f"/api/v1/webhooks/{theirs.pk}/{suffix}", body,
                                     format="json")

    assert answer.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.secret, theirs.description, theirs.is_active) == (secret, "", True)
    assert not WebhookDelivery.objects.exists()
    assert client.get("/api/v1/webhooks/").json()["results"] == []


def test_without_the_scope_or_the_admin_role_nothing_is_added(world):
    no_scope = key_client(issue_key(world.trust, world.trust_admin, name="Catalogue sync",
                                    scopes=[ApiScope.CATALOGUE_READ]))
    buyer_key = key_client(issue_key(world.trust, world.trust_buyer, name="Ward ERP",
                                     scopes=MANAGE, created_by=world.trust_admin))
    buyer_session = session_client(world.trust_buyer)

    answers = [
        client.post("/api/v1/webhooks/", {"url": URL}, format="json")
        for client in (no_scope, buyer_key, buyer_session)
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    assert not WebhookEndpoint.objects.exists()


def test_an_admins_browser_session_manages_endpoints_too(world):
    answer = session_client(world.trust_admin).get("/api/v1/webhooks/")

    assert answer.status_code == 200


def test_the_delivery_log_lists_in_a_fixed_number_of_queries(world):
    client = admin_client(world)
    endpoint = webhook_endpoint_create(organisation=world.trust, url=URL)
    path = f"/api/v1/webhooks/{endpoint.pk}/deliveries/"
    for _ in range(2):
        webhook_endpoint_ping(endpoint=endpoint)
    small = queries_for(client, path)
    for _ in range(10):
        webhook_endpoint_ping(endpoint=endpoint)
    large = queries_for(client, path)

    assert (small[1], large[1]) == (2, 12)
    assert small[0] == large[0]


def test_options_on_an_action_answers_for_a_caller_with_its_scope(world):
    endpoint = webhook_endpoint_create(organisation=world.trust, url=URL)
    path = f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/"
    without = key_client(issue_key(world.trust, world.trust_admin, name="Catalogue sync",
                                   scopes=[ApiScope.CATALOGUE_READ]))

    allowed = admin_client(world).options(path)
    refused = without.options(path)

    assert allowed.status_code == 200
    assert "POST" in allowed["Allow"]
    assert refused.status_code == 403
