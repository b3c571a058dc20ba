"""A small ordering world: a trust with wards, roles and a budget, a distributor, a consumer, a
catalogue of three products with B2B and retail prices, and stock."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts.models import OrganisationKind
from ordering.models import ApprovalRule, Stock
from pricing.models import PriceListKind
from segments.resolver import resolve
from territories.lookup import region_for_area
from tests.catalog.factories import CatalogFactory, CategoryFactory, ProductFactory
from tests.factories import (
    BudgetFactory,
    CostCentreFactory,
    MembershipFactory,
    OrganisationFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    SiteFactory,
    UserFactory,
)
from tests.pricing.conftest import make_list, price
from tests.territories.conftest import grant


def financial_year(today=None):
    today = today or datetime.date.today()
    start = today.year if today.month >= 4 else today.year - 1
    return datetime.date(start, 4, 1), datetime.date(start + 1, 3, 31)


@dataclass
class World:
    trust: object
    ward_a: object
    ward_b: object
    cost_centre: object
    budget: object
    distributor: object
    depot: object
    dressing: object
    frame: object
    gloves: object
    people: dict
    b2b_list: object
    retail_list: object

    def buyer(self, key: str, site=None):
        user, organisation = self.people[key]
        return resolve(user, organisation=organisation, site=site)

    def user(self, key: str):
        return self.people[key][0]


def build_world(*, budget_amount="20000.00", stock=40) -> World:
    trust = OrganisationFactory(
        name="Riverside Test Hospitals NHS Trust", kind=OrganisationKind.NHS_TRUST,
        credit_limit=Decimal("100000.00"), customer_tier="A",
    )
    ward_a = SiteFactory(organisation=trust, name="Florence Ward", postcode="SE1 7EH")
    ward_b = SiteFactory(organisation=trust, name="Nightingale Ward", postcode="SE5 9RS")
    cost_centre = CostCentreFactory(organisation=trust, code="W7210")
    start, end = financial_year()
    budget = BudgetFactory(cost_centre=cost_centre, period_start=start, period_end=end,
                           amount=Decimal(budget_amount))
    distributor = OrganisationFactory(
        name="Pennine Test Supplies", kind=OrganisationKind.DISTRIBUTOR, postcode="M1 1AE",
        credit_limit=Decimal("100000.00"), customer_tier="B",
    )
    depot = SiteFactory(organisation=distributor, name="Manchester depot", postcode="M1 1AE",
                        kind="warehouse")
    people = {}

    def member(key, organisation, **roles):
        roles.setdefault("is_buyer", False)
        membership = MembershipFactory(organisation=organisation,
                                       user__email=f"{key}@ordering.test", **roles)
        people[key] = (membership.user, organisation)

    member("requisitioner", trust, is_requisitioner=True)
    member("buyer", trust, is_buyer=True)
    member("approver", trust, is_approver=True, approval_limit=Decimal("5000.00"))
    member("senior", trust, is_approver=True, approval_limit=Decimal("50000.00"))
    member("budget_holder", trust, is_budget_holder=True)
    member("org_admin", trust, is_org_admin=True)
    member("distributor", distributor, is_buyer=True)
    patient = UserFactory(email="patient@ordering.test", postcode="SE5 9RS",
                          full_name="Pat Patient")
    people["patient"] = (patient, None)

    consumers = SegmentFactory(code="ordering-consumers", audience="consumers")
    SegmentMembershipFactory(segment=consumers, user=patient)
    category = CategoryFactory(name="Ward consumables", slug="ward-consumables")
    dressing = ProductFactory(sku="WC-10001", name="Foam dressing 10 x 10 cm", category=category,
                              pack_size=10)
    frame = ProductFactory(sku="MA-20001", name="Folding walking frame", category=category,
                           pack_size=1, vat_category="relief",
                           vat_relief_item="VATA 1994 Sch 8 Group 12 item 2(g)")
    gloves = ProductFactory(sku="GL-30001", name="Nitrile gloves (box of 100)", category=category,
                            pack_size=1)
    CatalogFactory(code="ordering-all", categories=[category], organisations=[trust, distributor],
                   segments=[consumers])
    b2b_list = make_list("ordering-list", PriceListKind.LIST)
    price(b2b_list, dressing, "12.50")
    price(b2b_list, dressing, "11.00", min_quantity=50)
    price(b2b_list, frame, "40.00")
    price(b2b_list, gloves, "5.00", order_multiple=5, max_order_qty=500)
    retail_list = make_list("ordering-retail", PriceListKind.RETAIL)
    price(retail_list, dressing, "15.00")
    price(retail_list, frame, "50.00")
    price(retail_list, gloves, "7.50")
    for product in (dressing, frame, gloves):
        Stock.objects.create(product=product, on_hand=stock)
    ApprovalRule.objects.create(organisation=trust, name="Every requisition",
                                approver_role="approver", position=1)
    grant(distributor, region_for_area("M"), category=category, exclusive=False)
    return World(trust, ward_a, ward_b, cost_centre, budget, distributor, depot, dressing, frame,
                 gloves, people, b2b_list, retail_list)


@pytest.fixture
def world(db) -> World:
    return build_world()
