"""One answer to "which contracts apply to this buyer": the API's contract list, the contracts the
checkout accepts and the contracts the price engine prices from are the same — active, valid today,
of the buyer's organisation or an ancestor. A suspended, ended, expired, not yet valid or draft
contract is in none of them."""

import datetime

import pytest
from django.utils import timezone

from accounts.keys import ApiScope
from ordering.errors import OrderError
from ordering.services.carts import cart_add
from ordering.services.checkout import (
    InstitutionalDetails,
    checkout_institutional,
    checkout_review,
)
from pricing.engine import prices_for
from pricing.models import ContractStatus, PriceListKind
from pricing.selectors import contracts_of
from tests.api.conftest import issue_key, key_client
from tests.ordering.conftest import build_world
from tests.pricing.conftest import make_contract, make_list, price

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def contracts(db):
    world = build_world()
    today = timezone.localdate()
    shapes = {
        "current": {},
        "suspended": {"status": ContractStatus.SUSPENDED},
        "ended": {"status": ContractStatus.ENDED},
        "draft": {"status": ContractStatus.DRAFT},
        "expired": {"valid_from": today - 60 * DAY, "valid_to": today - DAY},
        "not yet valid": {"valid_from": today + DAY},
        "last day": {"valid_from": today - 60 * DAY, "valid_to": today},
    }
    made = {}
    for n, (name, shape) in enumerate(shapes.items()):
        price_list = make_list(f"contract-{n}", PriceListKind.CONTRACT)
        price(price_list, world.frame, f"{30 + n}.00")
        made[name] = make_contract(world.trust, f"NHS-{n:03d}", price_list, **shape)
    return world, made


def _listed_by_the_api(world) -> set[int]:
    user, organisation = world.people["buyer"]
    client = key_client(issue_key(organisation, user, scopes=[ApiScope.CATALOGUE_READ]))
    return {row["id"] for row in client.get("/api/v1/contracts/").json()["results"]}


def _accepted_by_checkout(world, contract_ids) -> set[int]:
    buyer = world.buyer("buyer")
    cart_add(buyer=buyer, product_id=world.frame.pk, quantity=1)
    accepted = set()
    for n, contract_id in enumerate(sorted(contract_ids)):
        review = checkout_review(buyer=buyer, contract_id=contract_id)
        details = InstitutionalDetails(
            po_number=f"PO-C-{n}", cost_centre_id=world.cost_centre.pk,
            requested_delivery_date=timezone.localdate() + 7 * DAY, contract_id=contract_id,
        )
        try:
            checkout_institutional(buyer=buyer, details=details,
                                   expected_token=review.price_token)
        except OrderError as error:
            assert error.code == "bad_contract"
        else:
            accepted.add(contract_id)
            cart_add(buyer=buyer, product_id=world.frame.pk, quantity=1)
    return accepted


def _pricing(world, contract_ids) -> set[int]:
    buyer = world.buyer("buyer")
    found = set()
    for contract_id in contract_ids:
        resolved = prices_for(buyer, [world.frame.pk], contract_id=contract_id)[world.frame.pk]
        if resolved.contract_id == contract_id:
            found.add(contract_id)
    return found


def test_the_api_the_checkout_and_the_engine_agree_on_the_contracts_that_apply(contracts):
    world, made = contracts
    everything = {c.pk for c in made.values()}
    applicable = {made["current"].pk, made["last day"].pk}

    listed = _listed_by_the_api(world)
    pricing = _pricing(world, everything)
    accepted = _accepted_by_checkout(world, everything)

    assert listed == applicable
    assert pricing == applicable
    assert accepted == applicable
    assert set(contracts_of(buyer=world.buyer("buyer")).values_list("pk", flat=True)) == applicable


def test_the_checkout_page_offers_exactly_the_contracts_that_apply(contracts, client):
    world, made = contracts
    client.force_login(world.user("buyer"))
    cart_add(buyer=world.buyer("buyer"), product_id=world.frame.pk, quantity=1)

    page = client.get("/checkout/institutional/")

    offered = {value for value, _label in page.context["form"].fields["contract"].choices if value}
    assert offered == {made["current"].pk, made["last day"].pk}
