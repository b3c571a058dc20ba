"""Generated worlds for the guarantees suite: a hypothesis strategy that draws a world as plain
Python data (`WorldSpec`), and `build(spec)` that writes it through the project's factories and
services. The oracle reads only the spec; the probes read the database only through the surfaces.

Every contract and quote price is distinctive: an odd number of pennies between £834 and £999,
unique within the world. A sum of two such prices has even pennies or passes £1,000 (rendered
with a thousands separator), VAT on one stays under £200 and list and retail prices are whole or
half pounds, so a price found as a token in a response body can only be that contract's or
quote's price."""

import datetime
import itertools
import os
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from hypothesis import strategies as st

from accounts.keys import ApiKey, ApiScope
from accounts.models import OrganisationKind, VerificationStatus
from accounts.services import organisation_save
from ordering.models import ApprovalRule
from pricing.models import Contract, PriceList, PriceListItem, PriceListKind
from pricing.services import contract_save, price_list_item_save, price_list_save
from segments.models import Audience, SegmentKind
from storefront.api.services import api_key_issue
from territories.models import Territory
from tests.catalog.factories import CatalogFactory, CategoryFactory, ProductFactory, StockFactory
from tests.factories import (
    BudgetFactory,
    CostCentreFactory,
    MembershipFactory,
    OrganisationFactory,
    SegmentConditionFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    SiteFactory,
    UserFactory,
)
from tests.pricing.conftest import accepted_quote
from tests.territories.conftest import distributor as distributor_with_contact
from tests.territories.conftest import grant, restrict

# Postcode areas with a real postcode in each, and the suite's own territories over them (disjoint,
# so each area lies in exactly one of them).
AREA_POSTCODE = {
    "SE": "SE1 7EH", "BS": "BS1 4DJ", "PL": "PL4 0DQ",
    "LS": "LS9 6TA", "M": "M1 1AE", "PR": "PR2 5BL",
    "G": "G3 7RZ",
}
TERRITORY_AREAS = {
    "gt-south": ("SE", "BS", "PL"),
    "gt-north": ("LS", "M", "PR"),
    "gt-scotland": ("G",),
}
AREAS = tuple(AREA_POSTCODE)
CONTRACT_STATES = ("active", "expired", "suspended", "draft", "future")
CONTRACT_HOLDERS = ("ics", "trust0", "trust1", "clinic")
QUOTE_HOLDERS = ("trust0", "trust1", "clinic", "ics")
DISTRIBUTORS = ("dist0", "dist1")


_serial = itertools.count(1)


def unique_tag() -> str:
    """A tag no earlier world of this process used, so that codes, names and the buyers' cache keys
    of two examples never meet (a rolled-back example leaves its cached fragments behind)."""
    return f"{os.getpid() % 1000:03d}{next(_serial):04d}"


@dataclass(frozen=True)
class ProductSpec:
    index: int
    nhs: bool
    clinic: bool
    consumer: bool
    professional_only: bool
    restricted_in: tuple[str, ...]
    list_price: Decimal
    retail_price: Decimal
    clinic_price: Decimal | None

    @property
    def sku(self) -> str:
        return f"GT-{self.index:03d}"


@dataclass(frozen=True)
class OrgSpec:
    key: str
    kind: str
    parent: str | None
    site_areas: tuple[str, ...]
    verified: bool
    approval_rule: bool = False
    approver_limit: Decimal = Decimal("50000.00")


@dataclass(frozen=True)
class ContractSpec:
    holder: str
    state: str
    reference: str
    items: tuple[tuple[int, Decimal], ...]


@dataclass(frozen=True)
class QuoteSpec:
    holder: str
    number: str
    items: tuple[tuple[int, Decimal], ...]


@dataclass(frozen=True)
class RightSpec:
    distributor: str
    territory: str
    product: int
    exclusive: bool


@dataclass(frozen=True)
class WorldSpec:
    tag: str
    products: tuple[ProductSpec, ...]
    organisations: tuple[OrgSpec, ...]
    consumers: tuple[str, ...]  # each consumer's home postcode area
    contracts: tuple[ContractSpec, ...]
    quotes: tuple[QuoteSpec, ...]
    rights: tuple[RightSpec, ...]

    def org(self, key: str) -> OrgSpec | None:
        return next((o for o in self.organisations if o.key == key), None)


class _Prices:
    """Distinctive prices and references for one world (see the module docstring)."""

    def __init__(self, offset: int):
        self.offset, self.n = offset, 0

    def next(self) -> Decimal:
        k = self.n
        self.n += 1
        pounds = 834 + (self.offset + 37 * k) % 166
        pennies = 2 * ((self.offset + 13 * k) % 50) + 1
        return Decimal(f"{pounds}.{pennies:02d}")


@st.composite
def worlds(draw) -> WorldSpec:
    offset = draw(st.integers(0, 165))
    tag = unique_tag()
    prices = _Prices(offset)
    n_products = draw(st.integers(3, 6))
    products = []
    for i in range(n_products):
        products.append(ProductSpec(
            index=i,
            nhs=draw(st.booleans()) or i == 0,
            clinic=draw(st.booleans()),
            consumer=draw(st.booleans()) or i == 1,
            professional_only=draw(st.sampled_from([False, False, True])),
            restricted_in=tuple(draw(st.lists(st.sampled_from(sorted(TERRITORY_AREAS)),
                                              max_size=1, unique=True))),
            list_price=Decimal(f"{20 + 10 * i + draw(st.integers(0, 50)) * 10}.00"),
            retail_price=Decimal(f"{30 + 10 * i + draw(st.integers(0, 40)) * 10}.50"),
            clinic_price=draw(st.sampled_from([None, Decimal(f"{15 + 10 * i}.00")])),
        ))
    sites = st.lists(st.sampled_from(AREAS), min_size=1, max_size=3, unique=True)
    organisations = (
        OrgSpec("ics", OrganisationKind.INTEGRATED_CARE_SYSTEM, None, tuple(draw(sites)), True),
        OrgSpec("trust0", OrganisationKind.NHS_TRUST, "ics", tuple(draw(sites)), True,
                approval_rule=draw(st.booleans()),
                approver_limit=draw(st.sampled_from([Decimal("500.00"), Decimal("50000.00")]))),
        OrgSpec("trust1", OrganisationKind.NHS_TRUST, draw(st.sampled_from(["ics", None])),
                tuple(draw(sites)), True, approval_rule=draw(st.booleans())),
        OrgSpec("clinic", OrganisationKind.PRIVATE_CLINIC, None,
                (draw(st.sampled_from(AREAS)),), draw(st.booleans())),
        OrgSpec("dist0", OrganisationKind.DISTRIBUTOR, None, tuple(draw(sites)), True),
        OrgSpec("dist1", OrganisationKind.DISTRIBUTOR, None, tuple(draw(sites)), True),
    )
    indexes = st.lists(st.integers(0, n_products - 1), min_size=1, max_size=n_products,
                       unique=True)
    contracts = []
    for holder in CONTRACT_HOLDERS:
        for _ in range(draw(st.integers(0, 2))):
            items = tuple((i, prices.next()) for i in sorted(draw(indexes)))
            contracts.append(ContractSpec(
                holder=holder, state=draw(st.sampled_from(CONTRACT_STATES)),
                reference=f"GX{offset:03d}{tag}-{len(contracts):02d}", items=items,
            ))
    quotes = []
    for holder in QUOTE_HOLDERS:
        if draw(st.booleans()):
            items = tuple((i, prices.next()) for i in sorted(draw(indexes))[:2])
            quotes.append(QuoteSpec(holder, f"QG{tag}{len(quotes):02d}", items))
    rights, taken = [], set()
    for spec in draw(st.lists(st.tuples(
        st.sampled_from(DISTRIBUTORS), st.sampled_from(sorted(TERRITORY_AREAS)),
        st.integers(0, n_products - 1), st.booleans(),
    ), max_size=5)):
        if (spec[1], spec[2]) not in taken:  # one right per line and territory: no conflicts
            taken.add((spec[1], spec[2]))
            rights.append(RightSpec(*spec))
    consumers = tuple(draw(st.lists(st.sampled_from(AREAS), min_size=1, max_size=2)))
    return WorldSpec(tag, tuple(products), organisations, consumers, tuple(contracts),
                     tuple(quotes), tuple(rights))


# ---- building the world in the database -------------------------------------------------------


@dataclass
class Person:
    key: str
    user: object
    org_key: str | None  # None: a retail consumer
    roles: tuple[str, ...] = ()


@dataclass
class BuiltWorld:
    spec: WorldSpec
    products: dict = field(default_factory=dict)  # index -> Product
    organisations: dict = field(default_factory=dict)  # key -> Organisation
    sites: dict = field(default_factory=dict)  # (org key, area) -> Site
    cost_centres: dict = field(default_factory=dict)  # org key -> CostCentre
    people: dict = field(default_factory=dict)  # person key -> Person
    api_tokens: dict = field(default_factory=dict)  # org key -> token
    staff: dict = field(default_factory=dict)  # staff key -> (user, managed org keys)
    quotes: dict = field(default_factory=dict)  # number -> Quote

    def person(self, key: str) -> Person:
        return self.people[key]

    def buyers(self) -> list[Person]:
        return [p for p in self.people.values() if "buyer" in p.roles or p.org_key is None]


def _today() -> datetime.date:
    return timezone.localdate()


def _days(n: int) -> datetime.date:
    return _today() + datetime.timedelta(days=n)


def _financial_year():
    today = _today()
    start = today.year if today.month >= 4 else today.year - 1
    return datetime.date(start, 4, 1), datetime.date(start + 1, 3, 31)


def _territories() -> dict:
    found = {}
    for code, areas in TERRITORY_AREAS.items():
        territory, _ = Territory.objects.get_or_create(code=code, defaults={"name": code.title()})
        territory.areas.add(*areas)
        found[code] = territory
    return found


def _organisation(spec: OrgSpec, world: BuiltWorld, tag: str):
    name = {
        "ics": "North Thames Test ICS", "trust0": "Riverside Test NHS Trust",
        "trust1": "Northgate Test NHS Trust", "clinic": "Harbour Test Physiotherapy",
        "dist0": "Pennine Test Supplies", "dist1": "Solent Test Distribution",
    }[spec.key]
    first = AREA_POSTCODE[spec.site_areas[0]]
    status = VerificationStatus.VERIFIED if spec.verified else VerificationStatus.UNVERIFIED
    extra = {"parent": world.organisations[spec.parent]} if spec.parent else {}
    if spec.kind == OrganisationKind.DISTRIBUTOR:
        organisation = distributor_with_contact(
            f"{name} {tag}", postcode=first, professional_status=status,
            credit_limit=Decimal("1000000.00"),
        )
    else:
        organisation = OrganisationFactory(
            name=f"{name} {tag}", kind=spec.kind, postcode=first, professional_status=status,
            credit_limit=Decimal("1000000.00"), **extra,
        )
    world.organisations[spec.key] = organisation
    for n, area in enumerate(spec.site_areas):
        world.sites[(spec.key, area)] = SiteFactory(
            organisation=organisation, name=f"Site {n} {area}", postcode=AREA_POSTCODE[area],
        )
    cost_centre = CostCentreFactory(organisation=organisation, code=f"GT{spec.key[:4].upper()}")
    start, end = _financial_year()
    BudgetFactory(cost_centre=cost_centre, period_start=start, period_end=end,
                  amount=Decimal("1000000.00"))
    world.cost_centres[spec.key] = cost_centre
    return organisation


def _people(spec: OrgSpec, world: BuiltWorld, tag: str) -> None:
    organisation = world.organisations[spec.key]
    roles = {
        "buyer": {"is_buyer": True},
        "requisitioner": {"is_buyer": False, "is_requisitioner": True},
        "approver": {"is_buyer": False, "is_approver": True,
                     "approval_limit": spec.approver_limit},
        "budget": {"is_buyer": False, "is_budget_holder": True},
        "admin": {"is_buyer": False, "is_org_admin": True},
    }
    for role, flags in roles.items():
        key = f"{spec.key}.{role}"
        membership = MembershipFactory(
            organisation=organisation, user__email=f"{spec.key}.{role}.{tag}@guarantees.test",
            **flags,
        )
        world.people[key] = Person(key, membership.user, spec.key, (role,))
    if spec.approval_rule:
        ApprovalRule.objects.create(organisation=organisation, name="Every requisition",
                                    approver_role="approver", position=1)


def _catalogues(spec: WorldSpec, world: BuiltWorld, tag: str) -> None:
    nhs = SegmentFactory(code=f"gt-nhs-{tag}", kind=SegmentKind.STATIC)
    for key in ("ics", "trust0", "trust1"):
        SegmentMembershipFactory(segment=nhs, organisation=world.organisations[key])
    clinics = SegmentFactory(code=f"gt-clinics-{tag}", kind=SegmentKind.RULE)
    SegmentConditionFactory(segment=clinics, field="kind", operator="is", value="private_clinic")
    consumers = SegmentFactory(code=f"gt-consumers-{tag}", kind=SegmentKind.RULE,
                               audience=Audience.CONSUMERS)
    products = world.products
    CatalogFactory(code=f"gt-nhs-{tag}", segments=[nhs],
                   products=[products[p.index] for p in spec.products if p.nhs])
    CatalogFactory(code=f"gt-clinics-{tag}", segments=[clinics],
                   products=[products[p.index] for p in spec.products if p.clinic])
    CatalogFactory(code=f"gt-consumers-{tag}", segments=[consumers],
                   products=[products[p.index] for p in spec.products if p.consumer])
    CatalogFactory(code=f"gt-trade-{tag}", products=list(products.values()),
                   organisations=[world.organisations[k] for k in DISTRIBUTORS])
    clinic_list = price_list_save(price_list=PriceList(
        code=f"gt-clinic-prices-{tag}", name="Clinic prices", kind=PriceListKind.SEGMENT))
    clinic_list.segments.set([clinics])
    for p in spec.products:
        if p.clinic_price is not None:
            _price(clinic_list, products[p.index], p.clinic_price)


def _price(price_list, product, amount: Decimal, min_quantity: int = 1):
    return price_list_item_save(item=PriceListItem(
        price_list=price_list, product=product, unit_price=amount, min_quantity=min_quantity,
    ))


def _contract(spec: ContractSpec, world: BuiltWorld, n: int, tag: str) -> None:
    price_list = price_list_save(price_list=PriceList(
        code=f"gt-contract-{tag}-{n}", name=f"Contract prices {tag} {n}",
        kind=PriceListKind.CONTRACT,
    ))
    for index, amount in spec.items:
        _price(price_list, world.products[index], amount)
    status, valid_from, valid_to = {
        "active": ("active", _days(-30), None),
        "expired": ("active", _days(-400), _days(-1)),
        "suspended": ("suspended", _days(-30), None),
        "draft": ("draft", _days(-30), None),
        "future": ("active", _days(5), None),
    }[spec.state]
    contract_save(contract=Contract(
        organisation=world.organisations[spec.holder], reference=spec.reference, lot="1",
        status=status, price_list=price_list, valid_from=valid_from, valid_to=valid_to,
    ))


def build(spec: WorldSpec) -> BuiltWorld:
    """Write the world through the project's factories and services."""
    world = BuiltWorld(spec)
    tag = spec.tag
    territories = _territories()
    category = CategoryFactory(name=f"Guarantee devices {tag}", slug=f"gt-devices-{tag}")
    list_prices = price_list_save(price_list=PriceList(
        code=f"gt-list-{tag}", name="List", kind=PriceListKind.LIST))
    retail_prices = price_list_save(price_list=PriceList(
        code=f"gt-retail-{tag}", name="Retail", kind=PriceListKind.RETAIL))
    for p in spec.products:
        product = ProductFactory(
            sku=f"GT{tag}-{p.index:03d}", name=f"Guarantee device {tag} {p.index}",
            category=category, professional_only=p.professional_only,
        )
        world.products[p.index] = product
        _price(list_prices, product, p.list_price)
        _price(retail_prices, product, p.retail_price)
        StockFactory(product=product, on_hand=10000)
        for code in p.restricted_in:
            restrict(territories[code], product=product)
    for org in spec.organisations:
        _organisation(org, world, tag)
        _people(org, world, tag)
    _catalogues(spec, world, tag)
    for n, contract in enumerate(spec.contracts):
        _contract(contract, world, n, tag)
    for quote in spec.quotes:
        world.quotes[quote.number] = accepted_quote(
            world.organisations[quote.holder],
            [(world.products[i], 50, amount) for i, amount in quote.items],
            number=quote.number,
        )
    for right in spec.rights:
        grant(world.organisations[right.distributor], territories[right.territory],
              product=world.products[right.product], exclusive=right.exclusive)
    for n, area in enumerate(spec.consumers):
        user = UserFactory(email=f"consumer{n}.{tag}@guarantees.test",
                           postcode=AREA_POSTCODE[area])
        world.people[f"consumer{n}"] = Person(f"consumer{n}", user, None, ("buyer",))
    for org in spec.organisations:
        world.api_tokens[org.key] = issue_api_key(
            world.organisations[org.key], world.people[f"{org.key}.buyer"].user,
            issued_by=world.people[f"{org.key}.admin"].user,
        )
    manager = UserFactory(email=f"manager.{tag}@guarantees.test", is_staff=True)
    managed = ("trust0", "clinic", "dist0")
    for key in managed:
        organisation = world.organisations[key]
        organisation.account_manager = manager
        organisation_save(organisation=organisation)
    world.staff["manager"] = (manager, managed)
    return world


def issue_api_key(organisation, user, *, issued_by) -> str:
    """A key for `user` with every scope, issued by the organisation's admin through the
    service."""
    key = ApiKey(organisation=organisation, user=user, name="ERP",
                 scopes=[ApiScope.CATALOGUE_READ, ApiScope.ORDERS_WRITE])
    _, token = api_key_issue(key=key, created_by=issued_by)
    return token
