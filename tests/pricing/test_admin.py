"""Account managers edit only the pricing of their organisations; superusers everything."""

import pytest
from django.urls import reverse

from pricing.models import Contract, PriceListKind
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

from .conftest import accepted_quote, make_contract, make_list, make_product, price

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    manager = UserFactory(is_staff=True)
    other_manager = UserFactory(is_staff=True)
    riverside = OrganisationFactory(name="Riverside", account_manager=manager)
    northgate = OrganisationFactory(name="Northgate", account_manager=other_manager)
    ours, theirs = (
        make_list("riverside-c", PriceListKind.CONTRACT),
        make_list("northgate-c", PriceListKind.CONTRACT),
    )
    product = make_product()
    price(ours, product, "6.00")
    price(theirs, product, "6.50")
    return {
        "manager": manager,
        "superuser": UserFactory(is_staff=True, is_superuser=True),
        "ours": make_contract(riverside, "NHS-2025-118", ours),
        "theirs": make_contract(northgate, "NHS-2025-240", theirs),
        "our_quote": accepted_quote(riverside, [(product, 10, "5.00")]),
        "their_quote": accepted_quote(northgate, [(product, 10, "5.10")]),
        "list_price": make_list("list"),
        "riverside": riverside,
        "product": product,
    }


@pytest.mark.parametrize(
    "user, url_name, target, expected",
    [
        ("manager", "admin:pricing_contract_change", "ours", 200),
        ("manager", "admin:pricing_contract_change", "theirs", 302),
        ("manager", "admin:pricing_quote_change", "our_quote", 200),
        ("manager", "admin:pricing_quote_change", "their_quote", 302),
        ("manager", "admin:pricing_pricelist_change", "list_price", 302),
        ("superuser", "admin:pricing_contract_change", "theirs", 200),
        ("superuser", "admin:pricing_pricelist_change", "list_price", 200),
    ],
)
def test_change_pages_by_scope(client, world, user, url_name, target, expected):
    client.force_login(world[user])

    response = client.get(reverse(url_name, args=[world[target].pk]))

    assert response.status_code == expected  # out of scope: admin redirects "does not exist"


def test_manager_list_shows_only_own_organisations_contracts(client, world):
    client.force_login(world["manager"])

    page = client.get(reverse("admin:pricing_contract_changelist")).content.decode()

    assert "NHS-2025-118" in page and "NHS-2025-240" not in page


def test_manager_cannot_change_another_organisations_contract(client, world):
    client.force_login(world["manager"])
    theirs = world["theirs"]

    client.post(
        reverse("admin:pricing_contract_change", args=[theirs.pk]),
        {
            "organisation": world["riverside"].pk,
            "reference": "HIJACK",
            "lot": "",
            "valid_from": "2025-01-01",
            "status": "active",
            "price_list": theirs.price_list_id,
        },
    )

    assert Contract.objects.get(pk=theirs.pk).reference == "NHS-2025-240"


def test_manager_sees_own_contract_price_list_but_not_others(client, world):
    client.force_login(world["manager"])

    page = client.get(reverse("admin:pricing_pricelist_changelist")).content.decode()

    assert "riverside-c" in page and "northgate-c" not in page


def test_preview_as_buyer_shows_the_resolved_price_and_explanation(client, world):
    from segments.models import Segment

    from .conftest import EVERYONE, open_catalogue

    open_catalogue(
        segments=[Segment.objects.get(code=EVERYONE)], organisations=[world["riverside"]]
    )
    MembershipFactory(organisation=world["riverside"])
    client.force_login(world["manager"])

    page = client.get(
        reverse("admin:pricing_preview"),
        {
            "organisation": world["riverside"].pk,
            "skus": world["product"].sku,
            "quantity": 5,
        },
    ).content.decode()

    assert "Contract NHS-2025-118" in page and "6.0000" in page
    assert "Quote" in page  # the quote covers 10: at 5 it wins
