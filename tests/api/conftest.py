"""A small world for the API tests: an NHS trust and a private clinic that see different products
at different prices, members in several roles, and keys issued through the service."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.keys import STAFF_SCOPES, ApiKey, ApiKeyKind, ApiRole, ApiScope
from accounts.models import OrganisationKind, VerificationStatus
from pricing.models import Contract, ContractStatus, PriceList, PriceListItem, PriceListKind
from pricing.services import contract_save, price_list_item_save, price_list_save
from storefront.api.services import api_key_issue, authorization_header
from tests.catalog.factories import CatalogFactory, CategoryFactory, ProductFactory
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    UserFactory,
)

ALL_SCOPES = [ApiScope.CATALOGUE_READ, ApiScope.ORDERS_WRITE]


def price_list(code: str, kind: str = PriceListKind.LIST) -> PriceList:
    return price_list_save(price_list=PriceList(code=code, name=code.title(), kind=kind))


def price(price_list: PriceList, product, unit_price: str, min_quantity: int = 1, **extra):
    return price_list_item_save(item=PriceListItem(
        price_list=price_list, product=product, unit_price=Decimal(unit_price),
        min_quantity=min_quantity, **extra,
    ))


def issue_key(organisation, user, *, scopes=ALL_SCOPES, created_by=None, **extra) -> str:
    key = ApiKey(organisation=organisation, user=user, name=extra.pop("name", "ERP"),
                 scopes=list(scopes), **extra)
    _, token = api_key_issue(key=key, created_by=created_by or user)
    return token


def issue_staff_key(staff, *, scopes=STAFF_SCOPES, name="Maker ERP", created_by=None) -> str:
    """A staff key of `staff` (no organisation), issued by `created_by` (themselves by default)."""
    key = ApiKey(kind=ApiKeyKind.STAFF, user=staff, name=name, scopes=list(scopes))
    _, token = api_key_issue(key=key, created_by=created_by or staff)
    return token


def issue_integration_key(organisation, responsible, *, role=ApiRole.BUYER, scopes=ALL_SCOPES,
                          name="Integration ERP", created_by=None) -> str:
    """An integration key of `organisation` with its own API `role`, `responsible` for it."""
    key = ApiKey(kind=ApiKeyKind.INTEGRATION, organisation=organisation, user=responsible,
                 role=role, name=name, scopes=list(scopes))
    _, token = api_key_issue(key=key, created_by=created_by or responsible)
    return token


def key_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization_header(token))
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@dataclass
class World:
    trust: object
    clinic: object
    trust_buyer: object
    trust_admin: object
    trust_requisitioner: object
    clinic_buyer: object
    shared: object
    trust_only: object
    clinic_only: object
    hidden: object
    list_prices: PriceList
    contract_list: PriceList
    contract: Contract
    category: object


@pytest.fixture
def world(db) -> World:
    nhs = SegmentFactory(code="api-nhs")
    clinics = SegmentFactory(code="api-clinics")
    trust = OrganisationFactory(
        name="Riverside University Hospitals NHS Foundation Trust",
        kind=OrganisationKind.NHS_TRUST, professional_status=VerificationStatus.VERIFIED,
    )
    clinic = OrganisationFactory(
        name="Harbour Physiotherapy Clinic", kind=OrganisationKind.PRIVATE_CLINIC,
        postcode="BS1 4DJ", town="Bristol",
    )
    SegmentMembershipFactory(segment=nhs, organisation=trust)
    SegmentMembershipFactory(segment=clinics, organisation=clinic)
    category = CategoryFactory(name="Wound care", slug="wound-care")
    shared = ProductFactory(sku="WC-SHARED", category=category)
    trust_only = ProductFactory(sku="WC-TRUST", category=category)
    clinic_only = ProductFactory(sku="WC-CLINIC", category=category)
    hidden = ProductFactory(sku="WC-HIDDEN", category=category)
    CatalogFactory(code="api-nhs", products=[shared, trust_only], segments=[nhs])
    CatalogFactory(code="api-clinics", products=[shared, clinic_only], segments=[clinics])

    list_prices = price_list("api-b2b-list")
    for product, amount in ((shared, "12.00"), (trust_only, "20.00"), (clinic_only, "31.50"),
                            (hidden, "99.00")):
        price(list_prices, product, amount)
    price(list_prices, shared, "11.00", min_quantity=10)
    contract_list = price_list("api-nhs-contract", PriceListKind.CONTRACT)
    price(contract_list, shared, "8.40")
    price(contract_list, shared, "7.90", min_quantity=50)
    contract = contract_save(contract=Contract(
        organisation=trust, reference="NHS-2025-118", lot="3", status=ContractStatus.ACTIVE,
        price_list=contract_list, valid_from=timezone.localdate() - datetime.timedelta(days=10),
    ))

    trust_buyer = MembershipFactory(organisation=trust, user=UserFactory(
        email="buyer@riverside.test")).user
    trust_admin = MembershipFactory(organisation=trust, is_org_admin=True, user=UserFactory(
        email="admin@riverside.test")).user
    trust_requisitioner = MembershipFactory(
        organisation=trust, is_buyer=False, is_requisitioner=True,
        user=UserFactory(email="ward@riverside.test"),
    ).user
    clinic_buyer = MembershipFactory(organisation=clinic, is_org_admin=True, user=UserFactory(
        email="buyer@harbour.test")).user
    return World(
        trust=trust, clinic=clinic, trust_buyer=trust_buyer, trust_admin=trust_admin,
        trust_requisitioner=trust_requisitioner, clinic_buyer=clinic_buyer, shared=shared,
        trust_only=trust_only, clinic_only=clinic_only, hidden=hidden, list_prices=list_prices,
        contract_list=contract_list, contract=contract, category=category,
    )
