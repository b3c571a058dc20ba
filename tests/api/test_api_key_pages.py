"""API keys in the storefront and the admin: org admins issue keys shown once and stored hashed,
revoke them, and touch only their own organisation's keys; staff issue keys with any scope."""

import pytest
from django.core.exceptions import ValidationError

from accounts.keys import ApiKey, ApiKeyKind, ApiScope, secret_digest
from storefront.api.services import api_key_issue
from tests.api.conftest import issue_key, key_client
from tests.factories import UserFactory


@pytest.mark.django_db
def test_an_org_admin_issues_a_key_that_is_shown_once_and_stored_hashed(client, world):
    client.force_login(world.trust_admin)

    response = client.post("/account/api-keys/issue/", {
        "kind": "personal", "name": "Oracle ERP", "scopes": [ApiScope.CATALOGUE_READ],
    })

    key = ApiKey.objects.get(name="Oracle ERP")
    token = response.context["token"]
    assert response.status_code == 200
    assert token.startswith(f"{key.prefix}.") and token in response.content.decode()
    assert key.secret_hash == secret_digest(token.split(".", 1)[1])
    assert token.split(".", 1)[1] not in str(ApiKey.objects.values().get(pk=key.pk))
    assert (key.user, key.organisation, key.scopes) == (world.trust_admin, world.trust,
                                                        ["catalogue:read"])
    assert token not in client.get("/account/api-keys/").content.decode()
    assert key_client(token).get("/api/v1/products/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["integration", "personal"])
@pytest.mark.parametrize("scope", [ApiScope.PRICES_IMPORT, ApiScope.ORDERS_FULFIL])
def test_an_org_admin_cannot_grant_a_staff_scope(client, world, kind, scope):
    client.force_login(world.trust_admin)

    response = client.post("/account/api-keys/issue/", {
        "kind": kind, "name": "Importer", "role": "buyer",
        "scopes": [ApiScope.CATALOGUE_READ, scope],
    })

    assert response.status_code == 400
    assert "scopes" in response.context["form"].errors
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [ApiKeyKind.INTEGRATION, ApiKeyKind.PERSONAL])
@pytest.mark.parametrize("scope", [ApiScope.PRICES_IMPORT, ApiScope.ORDERS_FULFIL])
def test_no_customer_key_carries_a_staff_scope_even_issued_by_staff(world, kind, scope):
    staff = UserFactory(is_staff=True, is_superuser=True)
    key = ApiKey(kind=kind, organisation=world.trust, user=world.trust_buyer, name="Feed",
                 role="buyer" if kind == ApiKeyKind.INTEGRATION else "", scopes=[scope])

    with pytest.raises(ValidationError) as refused:
        api_key_issue(key=key, created_by=staff)

    assert "scopes" in refused.value.message_dict
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_a_staff_key_carries_only_staff_scopes_and_no_organisation(world):
    staff = UserFactory(is_staff=True, is_superuser=True)
    ordering = ApiKey(kind=ApiKeyKind.STAFF, user=staff, name="Feed",
                      scopes=[ApiScope.ORDERS_FULFIL, ApiScope.ORDERS_WRITE])
    bound = ApiKey(kind=ApiKeyKind.STAFF, organisation=world.trust, user=staff, name="Feed",
                   scopes=[ApiScope.ORDERS_FULFIL])
    customer = ApiKey(kind=ApiKeyKind.STAFF, user=world.trust_buyer, name="Feed",
                      scopes=[ApiScope.ORDERS_FULFIL])

    for key, field in ((ordering, "scopes"), (bound, "organisation"), (customer, "user")):
        with pytest.raises(ValidationError) as refused:
            api_key_issue(key=key, created_by=staff)
        assert field in refused.value.message_dict
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_revoking_stops_the_key_at_once(client, world):
    token = issue_key(world.trust, world.trust_admin)
    key = ApiKey.objects.get()
    client.force_login(world.trust_admin)

    client.post(f"/account/api-keys/{key.pk}/revoke/")

    key.refresh_from_db()
    assert key.is_revoked
    assert key_client(token).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["trust_buyer", "clinic_buyer"])
def test_others_cannot_list_issue_or_revoke_the_trusts_keys(client, world, who):
    issue_key(world.trust, world.trust_admin)
    key = ApiKey.objects.get()
    client.force_login(getattr(world, who))

    listed = client.get("/account/api-keys/")
    revoked = client.post(f"/account/api-keys/{key.pk}/revoke/")

    key.refresh_from_db()
    # A trust member who is no admin is refused; the clinic's admin finds no such key.
    assert (listed.status_code, revoked.status_code) == (
        (403, 403) if who == "trust_buyer" else (200, 404)
    )
    assert key.prefix not in listed.content.decode()
    assert not key.is_revoked


@pytest.mark.django_db
def test_staff_issue_an_import_key_in_the_admin(client, world):
    staff = UserFactory(email="root@maker.test", is_staff=True, is_superuser=True)
    client.force_login(staff)

    response = client.post("/admin/accounts/apikey/add/", {
        "kind": ApiKeyKind.STAFF, "user": staff.pk, "name": "Price feed",
        "scopes": [ApiScope.PRICES_IMPORT],
    })

    key = ApiKey.objects.get(name="Price feed")
    token = response.context_data["token"]
    assert key.created_by == staff and key.matches(token.split(".", 1)[1])
    assert (key.kind, key.organisation, key.user) == (ApiKeyKind.STAFF, None, staff)
    assert client.get(f"/admin/accounts/apikey/{key.pk}/change/").status_code == 200
    assert token not in client.get("/admin/accounts/apikey/").content.decode()
    assert key_client(token).post(
        f"/api/v1/price-lists/{world.list_prices.code}/items/bulk-upsert/",
        {"items": [{"sku": "WC-TRUST", "unit_price": "19.50"}]}, format="json",
    ).status_code == 200


@pytest.mark.django_db
def test_an_account_manager_sees_only_their_organisations_keys_in_the_admin(client, world):
    from accounts.services import organisation_save

    manager = UserFactory(email="am@maker.test", is_staff=True)
    world.clinic.account_manager = manager
    organisation_save(organisation=world.clinic)
    issue_key(world.trust, world.trust_admin, name="Trust ERP")
    issue_key(world.clinic, world.clinic_buyer, name="Clinic ERP")
    client.force_login(manager)

    page = client.get("/admin/accounts/apikey/").content.decode()

    assert "Clinic ERP" in page and "Trust ERP" not in page


@pytest.mark.django_db
def test_staff_other_than_superusers_issue_and_see_only_their_own_staff_keys(client, world):
    from accounts.services import organisation_save
    from tests.api.conftest import issue_staff_key

    manager, colleague = (UserFactory(email=f"{who}@maker.test", is_staff=True)
                          for who in ("am", "colleague"))
    world.clinic.account_manager = manager
    organisation_save(organisation=world.clinic)
    issue_staff_key(colleague, name="Colleague feed")
    client.force_login(manager)

    own = client.post("/admin/accounts/apikey/add/", {
        "kind": ApiKeyKind.STAFF, "user": manager.pk, "name": "My feed",
        "scopes": [ApiScope.ORDERS_FULFIL],
    })
    for_colleague = client.post("/admin/accounts/apikey/add/", {
        "kind": ApiKeyKind.STAFF, "user": colleague.pk, "name": "Their feed",
        "scopes": [ApiScope.ORDERS_FULFIL],
    })
    page = client.get("/admin/accounts/apikey/").content.decode()

    assert own.status_code == 200 and ApiKey.objects.get(name="My feed").user == manager
    assert for_colleague.status_code == 403
    assert not ApiKey.objects.filter(name="Their feed").exists()
    assert "My feed" in page and "Colleague feed" not in page
