"""Two trusts, two distributors and the contracts between them, for the rule on what a distributor
sees of a routed order's prices: Pennine holds the exclusive right to the dressing in London and
Solent to the frame. Riverside's contract names Solent as an authorised fulfiller (it invoices at
the contract price) but not Pennine; Northgate's names Pennine. Each distributor buys at its own
price list. Orders are placed through the real checkout."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.models import OrganisationKind
from ordering.models import ApprovalRule, Order
from ordering.services.carts import cart_add
from ordering.services.checkout import (
    InstitutionalDetails,
    checkout_institutional,
    checkout_review,
)
from pricing.models import Contract, ContractStatus, PriceListKind
from pricing.services import contract_save
from territories.lookup import region_for_area
from tests.catalog.factories import CatalogFactory
from tests.factories import (
    BudgetFactory,
    CostCentreFactory,
    MembershipFactory,
    OrganisationFactory,
    SiteFactory,
)
from tests.pricing.conftest import make_list, price
from tests.territories.conftest import distributor, grant

from .conftest import build_world, financial_year

# Riverside's contract price of the dressing, and what four of them cost it: never Pennine's to see.
RIVERSIDE_DRESSING = "9.35"
RIVERSIDE_DRESSING_LINE = "37.40"
RIVERSIDE_FRAME = "33.10"
NORTHGATE_DRESSING = "9.80"
PENNINE_DRESSING = "6.15"
PENNINE_DRESSING_LINE = "24.60"
SOLENT_FRAME = "27.45"
RIVERSIDE_CONTRACT = "NHS-2031-777"
NORTHGATE_CONTRACT = "NHS-2031-888"


@dataclass
class RoutedWorld:
    base: object
    riverside: object
    northgate: object
    pennine: object
    solent: object
    riverside_contract: Contract
    northgate_contract: Contract
    people: dict

    def user(self, key: str):
        return self.people[key]


def contract(organisation, reference, lot, prices: dict) -> Contract:
    contract_list = make_list(f"{reference.lower()}-lot-{lot}", PriceListKind.CONTRACT)
    for product, amount in prices.items():
        price(contract_list, product, amount)
    return contract_save(contract=Contract(
        organisation=organisation, reference=reference, lot=lot, status=ContractStatus.ACTIVE,
        price_list=contract_list, valid_from=timezone.localdate() - datetime.timedelta(days=10),
    ))


def build_routed_world() -> RoutedWorld:
    base = build_world()
    ApprovalRule.objects.filter(organisation=base.trust).delete()
    riverside, pennine = base.trust, base.distributor
    london = region_for_area("SE")
    solent = distributor("Solent Test Distribution", postcode="SO15 1AA",
                         credit_limit=Decimal("100000.00"))
    northgate = OrganisationFactory(
        name="Northgate Test Hospitals NHS Trust", kind=OrganisationKind.NHS_TRUST,
        credit_limit=Decimal("100000.00"),
    )
    SiteFactory(organisation=northgate, name="Theatre 3", postcode="SE1 7EH")
    cost_centre = CostCentreFactory(organisation=northgate, code="T3100")
    start, end = financial_year()
    BudgetFactory(cost_centre=cost_centre, period_start=start, period_end=end,
                  amount=Decimal("20000.00"))
    CatalogFactory(code="routed-northgate", products=[base.dressing, base.frame],
                   organisations=[northgate])
    CatalogFactory(code="routed-solent", products=[base.frame], organisations=[solent])

    grant(pennine, london, product=base.dressing)
    grant(solent, london, product=base.frame)
    price(make_list("pennine-trade", PriceListKind.SEGMENT, organisations=[pennine]),
          base.dressing, PENNINE_DRESSING)
    price(make_list("solent-trade", PriceListKind.SEGMENT, organisations=[solent]),
          base.frame, SOLENT_FRAME)

    riverside_contract = contract(riverside, RIVERSIDE_CONTRACT, "2", {
        base.dressing: RIVERSIDE_DRESSING, base.frame: RIVERSIDE_FRAME})
    riverside_contract.authorised_fulfillers.set([solent])
    northgate_contract = contract(northgate, NORTHGATE_CONTRACT, "1", {
        base.dressing: NORTHGATE_DRESSING})
    northgate_contract.authorised_fulfillers.set([pennine])

    people = {
        "riverside": base.user("buyer"),
        "pennine": base.user("distributor"),
        "northgate": MembershipFactory(organisation=northgate,
                                       user__email="buyer@northgate.test").user,
        "solent": MembershipFactory(organisation=solent, user__email="desk@solent.test").user,
    }
    return RoutedWorld(base, riverside, northgate, pennine, solent, riverside_contract,
                       northgate_contract, people)


def place(buyer, items, po_number: str) -> dict[int | None, Order]:
    """Place `items` ((product, quantity) pairs) through the cart and institutional checkout;
    the orders placed, by fulfiller id (None for the direct order)."""
    for product, quantity in items:
        cart_add(buyer=buyer, product_id=product.pk, quantity=quantity)
    cost_centre = CostCentreFactory._meta.model.objects.filter(
        organisation_id=buyer.organisation_id).order_by("id").first()
    orders = checkout_institutional(
        buyer=buyer,
        details=InstitutionalDetails(
            po_number=po_number, cost_centre_id=cost_centre.pk,
            requested_delivery_date=timezone.localdate() + datetime.timedelta(days=5),
        ),
        expected_token=checkout_review(buyer=buyer).price_token,
    )
    return {order.fulfiller_id: order for order in orders}
