"""Builders for pricing tests: products, price lists, items, contracts, quotes, buyers."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone
from stdnum import ean

from catalog.models import Catalog, Category, Manufacturer, Product
from pricing.models import (
    Contract,
    ContractStatus,
    PriceList,
    PriceListItem,
    PriceListKind,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from segments.resolver import BuyerContext, Channel, Workflow

_serial = itertools.count(1)
# Test buyers built here belong to this segment, which sees the whole test catalogue.
EVERYONE = "pricing-test-everyone"


def today() -> datetime.date:
    return timezone.localdate()


def make_product(sku: str | None = None, *, vat_category: str = "standard", **extra) -> Product:
    n = next(_serial)
    category = devices_category()
    maker = Manufacturer.objects.get_or_create(slug="acme-medical", defaults={"name": "Acme"})[0]
    base = f"5060990{n:05d}"
    product = Product(
        sku=sku or f"SKU-{n:05d}",
        name=f"Device {n}",
        slug=f"device-{n}",
        category=category,
        manufacturer=maker,
        gtin=base + ean.calc_check_digit(base),
        device_class="I",
        vat_category=vat_category,
        vat_relief_item="Group 12 item 2(g)" if vat_category == "relief" else "",
        **extra,
    )
    product.full_clean()
    product.save()
    return product


def devices_category() -> Category:
    category, created = Category.objects.get_or_create(
        slug="pricing-tests", defaults={"name": "Devices"}
    )
    if created:
        category.compute_path()
        category.save()
    return category


def open_catalogue(*, segments=(), organisations=()) -> Catalog:
    """A catalogue of every test product, for the given segments and organisations."""
    catalog, _ = Catalog.objects.get_or_create(code="pricing-tests", defaults={"name": "All"})
    catalog.categories.add(devices_category())
    catalog.segments.add(*segments)
    catalog.organisations.add(*organisations)
    return catalog


@pytest.fixture(autouse=True)
def _everything_visible_to_test_buyers(db):
    from segments.models import Segment

    everyone = Segment.objects.create(code=EVERYONE, name="Everyone", kind="static")
    open_catalogue(segments=[everyone])


def make_list(
    code: str,
    kind: str = PriceListKind.LIST,
    *,
    segments=(),
    organisations=(),
    territories=(),
    **extra,
) -> PriceList:
    price_list = PriceList(
        code=code, name=extra.pop("name", code.replace("-", " ").title()), kind=kind, **extra
    )
    price_list.full_clean()
    price_list.save()
    price_list.segments.set(segments)
    price_list.organisations.set(organisations)
    price_list.territories.set(territories)
    return price_list


def price(
    price_list: PriceList, product: Product, unit_price: str, min_quantity: int = 1, **extra
) -> PriceListItem:
    item = PriceListItem(
        price_list=price_list,
        product=product,
        min_quantity=min_quantity,
        unit_price=Decimal(unit_price),
        **extra,
    )
    item.full_clean()
    item.save()
    return item


def make_contract(
    organisation,
    reference: str,
    price_list: PriceList,
    *,
    lot: str = "",
    status: str = ContractStatus.ACTIVE,
    valid_from=None,
    valid_to=None,
) -> Contract:
    contract = Contract(
        organisation=organisation,
        reference=reference,
        lot=lot,
        status=status,
        price_list=price_list,
        valid_from=valid_from or today() - datetime.timedelta(days=30),
        valid_to=valid_to,
    )
    contract.full_clean()
    contract.save()
    return contract


def accepted_quote(organisation, lines, *, expires_on=None, number=None) -> Quote:
    """An accepted quote; `lines` are (product, quantity, unit price)."""
    quote = Quote.objects.create(
        organisation=organisation,
        number=number or f"Q-T{next(_serial):05d}",
        status=QuoteStatus.ACCEPTED,
        expires_on=expires_on or today() + datetime.timedelta(days=30),
        accepted_at=timezone.now(),
    )
    for product, quantity, unit_price in lines:
        QuoteLine.objects.create(
            quote=quote, product=product, quantity=quantity, unit_price=Decimal(unit_price)
        )
    return quote


def b2b(organisation=None, *, path=None, segments=(), area="", kind="nhs_trust") -> BuyerContext:
    """A business buyer's context, with exactly the facts given."""
    org_id = organisation.pk if organisation is not None else None
    if path is None and organisation is not None:
        path = (organisation.pk, *(a.pk for a in organisation.ancestors()))
    return BuyerContext(
        user_id=None,
        organisation_id=org_id,
        organisation_path=tuple(path or ()),
        organisation_kind=kind,
        channel=Channel.B2B,
        workflow=Workflow.DISTRIBUTOR if kind == "distributor" else Workflow.INSTITUTIONAL,
        segments=frozenset({*segments, EVERYONE}),
        postcode_area=area,
        professional=True,
        permissions=frozenset({"browse", "place_order", "raise_requisition"}),
        cache_key=f"test-b2b-{org_id}-{sorted(segments)}-{area}",
    )


def b2c(*, segments=("retail-consumers",), area="SE", professional=False) -> BuyerContext:
    return BuyerContext(
        user_id=None,
        channel=Channel.B2C,
        workflow=Workflow.RETAIL,
        segments=frozenset({*segments, EVERYONE}),
        postcode_area=area,
        professional=professional,
        permissions=frozenset({"browse", "place_order"}),
        cache_key=f"test-b2c-{area}",
    )


@pytest.fixture
def products(db):
    return [make_product() for _ in range(3)]
