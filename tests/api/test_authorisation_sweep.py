"""Every endpoint with an id, for every kind of caller: only the allowed succeed; the others get
401 (no or dead credentials), 403 (no scope or role) or 404 (someone else's object), and a refused
call changes nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.keys import STAFF_SCOPES, ApiKey, ApiScope
from pricing.models import PriceListItem, Quote, QuoteLine, QuoteStatus
from storefront.api.services import api_key_revoke
from tests.api.conftest import issue_key, issue_staff_key, key_client, session_client
from tests.factories import UserFactory

READ = [ApiScope.CATALOGUE_READ]
IMPORT = [ApiScope.PRICES_IMPORT]


def _prefix(token: str) -> str:
    return token.split(".")[0]


def _issue(organisation, user, scopes, created_by) -> str:
    """An organisation's key for `user`; for the staff scopes, a staff key of `created_by`."""
    if set(scopes) <= set(STAFF_SCOPES):
        return issue_staff_key(created_by, scopes=scopes)
    return issue_key(organisation, user, scopes=scopes, created_by=created_by)


def caller(world, who: str, scopes) -> APIClient:
    """A client for one kind of caller, with a key holding `scopes` where it has a key."""
    if who == "anonymous":
        return APIClient()
    if who == "owner":
        return key_client(_issue(world.trust, world.trust_buyer, scopes, world.staff))
    if who == "same_org_other_role":
        return key_client(_issue(world.trust, world.trust_requisitioner, scopes,
                                 world.manager_of_clinic))
    if who == "other_org":
        return key_client(_issue(world.clinic, world.clinic_buyer, scopes,
                                 world.manager_of_clinic))
    if who == "without_scope":
        return key_client(issue_key(world.trust, world.trust_buyer,
                                    scopes=[ApiScope.ORDERS_WRITE], created_by=world.staff))
    token = _issue(world.trust, world.trust_buyer, scopes, world.staff)
    if who == "revoked_key":
        api_key_revoke(key=ApiKey.objects.get(prefix=_prefix(token)))
    elif who == "expired_key":
        ApiKey.objects.filter(prefix=_prefix(token)).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    return key_client(token)


@pytest.fixture
def sweep_world(world):
    world.staff = UserFactory(email="pricing@maker.test", is_staff=True, is_superuser=True)
    world.manager_of_clinic = UserFactory(email="am@maker.test", is_staff=True)
    world.clinic.account_manager = world.manager_of_clinic
    from accounts.services import organisation_save

    organisation_save(organisation=world.clinic)
    world.quote = Quote.objects.create(
        organisation=world.trust, number="Q-API-1", status=QuoteStatus.ACCEPTED,
        expires_on=timezone.localdate() + datetime.timedelta(days=20),
    )
    QuoteLine.objects.create(quote=world.quote, product=world.shared, quantity=100,
                             unit_price="7.10")
    return world


READS = {
    "product": lambda w: f"/api/v1/products/{w.trust_only.sku}/",
    "contract": lambda w: f"/api/v1/contracts/{w.contract.pk}/",
    "quote": lambda w: f"/api/v1/quotes/{w.quote.pk}/",
}
READ_EXPECTED = {
    "owner": 200,
    "same_org_other_role": 200,
    "other_org": 404,
    "anonymous": 401,
    "revoked_key": 401,
    "expired_key": 401,
    "without_scope": 403,
}


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", sorted(READS))
@pytest.mark.parametrize("who", sorted(READ_EXPECTED))
def test_reads_of_one_object(sweep_world, endpoint, who):
    client = caller(sweep_world, who, READ)

    response = client.get(READS[endpoint](sweep_world))

    assert response.status_code == READ_EXPECTED[who]
    if response.status_code != 200:
        assert set(response.json()["error"]) == {"code", "message", "fields"}


UPSERT_EXPECTED = {
    "owner": 200,  # a superuser's prices:import key
    "same_org_other_role": 404,  # an account manager's, who does not manage this list
    "other_org": 404,
    "anonymous": 401,
    "revoked_key": 401,
    "expired_key": 401,
    "without_scope": 403,
}


def _items(price_list):
    return sorted(
        PriceListItem.objects.filter(price_list=price_list)
        .values_list("product_id", "min_quantity", "unit_price")
    )


@pytest.mark.django_db
@pytest.mark.parametrize("who", sorted(UPSERT_EXPECTED))
def test_bulk_upsert_of_one_price_list(sweep_world, who):
    client = caller(sweep_world, who, IMPORT)
    before = _items(sweep_world.contract_list)

    response = client.post(
        f"/api/v1/price-lists/{sweep_world.contract_list.code}/items/bulk-upsert/",
        {"items": [{"sku": "WC-SHARED", "unit_price": "1.00"}]}, format="json",
    )

    assert response.status_code == UPSERT_EXPECTED[who]
    if response.status_code != 200:
        assert _items(sweep_world.contract_list) == before


@pytest.mark.django_db
def test_an_organisations_key_cannot_import_prices(sweep_world):
    with pytest.raises(ValidationError):
        issue_key(sweep_world.trust, sweep_world.trust_admin, scopes=IMPORT)
    client = key_client(issue_key(sweep_world.trust, sweep_world.trust_admin, scopes=READ))
    before = _items(sweep_world.contract_list)

    response = client.post(
        f"/api/v1/price-lists/{sweep_world.contract_list.code}/items/bulk-upsert/",
        {"items": [{"sku": "WC-SHARED", "unit_price": "1.00"}]}, format="json",
    )

    assert response.status_code == 403
    assert _items(sweep_world.contract_list) == before


@pytest.mark.django_db
def test_a_staff_session_may_upsert_and_a_buyer_session_may_not(sweep_world):
    path = f"/api/v1/price-lists/{sweep_world.list_prices.code}/items/bulk-upsert/"
    body = {"items": [{"sku": "WC-TRUST", "unit_price": "19.00"}]}

    refused = session_client(sweep_world.trust_buyer).post(path, body, format="json")
    allowed = session_client(sweep_world.staff).post(path, body, format="json")

    assert refused.status_code == 403
    assert allowed.status_code == 200


LISTS = ["/api/v1/products/", "/api/v1/contracts/", "/api/v1/quotes/?state=accepted"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
def test_lists_hold_only_the_callers_own_rows(sweep_world, path):
    trust = caller(sweep_world, "owner", READ).get(path).json()["results"]
    clinic = caller(sweep_world, "other_org", READ).get(path).json()["results"]

    trust_ids = {row.get("sku") or row.get("id") for row in trust}
    clinic_ids = {row.get("sku") or row.get("id") for row in clinic}
    assert trust_ids
    if path == "/api/v1/products/":
        assert trust_ids - clinic_ids == {"WC-TRUST"}
    else:
        assert clinic_ids == set()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "revoked_key", "expired_key"])
@pytest.mark.parametrize(
    "method,path",
    [("get", "/api/v1/products/"), ("get", "/api/v1/contracts/"), ("get", "/api/v1/quotes/"),
     ("get", "/api/v1/me/"), ("post", "/api/v1/prices/quote-basket/")],
)
def test_every_list_refuses_dead_credentials(sweep_world, who, method, path):
    response = getattr(caller(sweep_world, who, READ), method)(path, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.django_db
def test_a_key_stops_working_when_its_member_leaves(sweep_world):
    from accounts.models import Membership
    from accounts.services import membership_remove

    client = caller(sweep_world, "owner", READ)
    assert client.get("/api/v1/me/").status_code == 200

    membership_remove(membership=Membership.objects.get(user=sweep_world.trust_buyer))

    assert client.get("/api/v1/me/").status_code == 401
