"""Each demo persona sees the price its segment and contracts give, with the explanation."""

import pytest

from accounts.models import User
from catalog.models import Product
from pricing.engine import prices_for
from pricing.models import PriceListItem
from segments.resolver import resolve
from storefront.demo.pricing import load_pricing

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo_world):
    """The demo world is slow to build, so one test checks every persona against it."""
    return demo_world


def buyer(email, **kwargs):
    return resolve(User.objects.get(email=email), **kwargs)


def _loading_twice_changes_nothing():
    before = sorted(
        PriceListItem.objects.values_list(
            "price_list__code", "product_id", "min_quantity", "unit_price"
        )
    )
    load_pricing()

    assert (
        sorted(
            PriceListItem.objects.values_list(
                "price_list__code", "product_id", "min_quantity", "unit_price"
            )
        )
        == before
    )


def _riverside_and_northgate_pay_their_own_contracts_for_the_same_product():
    product = Product.objects.order_by("sku")[5]

    riverside = prices_for(buyer("nhs.buyer@demo.test"), [product])[product.pk]
    northgate = prices_for(buyer("trust2.buyer@demo.test"), [product])[product.pk]

    assert riverside.explanation == "Contract NHS-2025-118 (lot 3)"
    assert northgate.explanation == "Contract NHS-2025-240 (lot 1)"
    assert riverside.unit_price < northgate.unit_price


def _other_north_thames_trusts_inherit_the_ics_framework():
    product = Product.objects.order_by("sku")[70]

    riverside = prices_for(buyer("nhs.buyer@demo.test"), [product])[product.pk]
    eastbrook = prices_for(buyer("eastbrook.buyer@demo.test"), [product])[product.pk]

    assert (
        riverside.explanation
        == eastbrook.explanation
        == ("Contract NTICS-FW-2025, via North Thames ICS")
    )


def _riverside_accepted_quote_wins_up_to_its_quantity():
    product = Product.objects.order_by("sku")[0]
    nhs = buyer("nhs.buyer@demo.test")

    assert prices_for(nhs, [product], 500)[product.pk].source == "quote"
    assert prices_for(nhs, [product], 501)[product.pk].source == "contract"


def _clinic_gets_list_price_then_volume_tiers():
    clinic = buyer("clinic.buyer@demo.test")
    product = next(iter(prices_for(clinic, Product.objects.order_by("sku")[:40]).values()))
    pid = product.product_id

    assert prices_for(clinic, [pid], 1)[pid].source == "list"
    assert prices_for(clinic, [pid], 10)[pid].explanation == "Clinic volume prices, 10+ tier"
    assert prices_for(clinic, [pid], 50)[pid].explanation == "Clinic volume prices, 50+ tier"


def _patient_sees_retail_prices_including_vat_and_the_promotion():
    patient = buyer("patient@demo.test")

    result = prices_for(patient, Product.objects.all())

    assert result and {p.shown_label for p in result.values()} == {"inc VAT"}
    assert {p.source for p in result.values()} == {"retail", "promotion"}


def _distributor_sees_trade_prices():
    result = prices_for(buyer("distributor.north@demo.test"), Product.objects.all())

    assert result and {p.price_list_code for p in result.values()} == {"distributor-trade"}


def test_each_demo_persona_sees_the_price_its_segment_and_contracts_give(demo):
    _loading_twice_changes_nothing()
    _riverside_and_northgate_pay_their_own_contracts_for_the_same_product()
    _other_north_thames_trusts_inherit_the_ics_framework()
    _riverside_accepted_quote_wins_up_to_its_quantity()
    _clinic_gets_list_price_then_volume_tiers()
    _patient_sees_retail_prices_including_vat_and_the_promotion()
    _distributor_sees_trade_prices()
