"""The demo catalogue loads on top of the demo world, twice without change, and gives each demo
login the catalogue DEMO.md promises."""

import pytest
from stdnum import ean

from accounts.models import User
from catalog.models import Catalog, Category, Product, RegulatoryStatus
from catalog.selectors import visible_products
from ordering.models import Stock
from segments.resolver import resolve
from storefront.demo.catalog import load_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo_world):
    return demo_world


def _visible(email: str | None):
    user = User.objects.get(email=email) if email else None
    return visible_products(resolve(user))


def test_the_demo_catalogue_is_realistic_and_loads_idempotently(demo):
    counts = (Product.objects.count(), Category.objects.count(), Catalog.objects.count(),
              Stock.objects.count())

    load_catalog()

    assert (Product.objects.count(), Category.objects.count(), Catalog.objects.count(),
            Stock.objects.count()) == counts
    assert 190 <= counts[0] <= 230
    assert Category.objects.filter(parent=None).exclude(slug="support-services").count() == 12
    assert all(g.startswith("952") and ean.is_valid(g)
               for g in Product.objects.values_list("gtin", flat=True))
    assert Product.objects.filter(regulatory_status=RegulatoryStatus.RECALLED).count() == 1
    assert Product.objects.filter(vat_category="relief").exclude(vat_relief_item="").exists()
    assert Stock.objects.filter(on_hand=0).exists()


def test_each_demo_login_browses_a_catalogue_of_its_own(demo):
    nhs = set(_visible("nhs.buyer@demo.test"))
    trust2 = set(_visible("trust2.buyer@demo.test"))
    clinic = set(_visible("clinic.buyer@demo.test"))
    distributor = set(_visible("distributor.north@demo.test"))
    patient = set(_visible("patient@demo.test"))
    guest = set(_visible(None))

    riverside_only = nhs - trust2
    assert riverside_only and all(p.category.slug == "custom-procedure-packs"
                                  for p in riverside_only)
    assert trust2 == clinic and trust2 < nhs
    assert distributor < clinic and distributor
    assert patient == guest and patient
    assert not any(p.professional_only for p in patient)
    assert any(p.vat_category == "relief" for p in patient)
    assert not any(p.regulatory_status == RegulatoryStatus.RECALLED for p in nhs)


def test_the_multi_organisation_user_never_sees_both_catalogues_at_once(demo):
    multi = User.objects.get(email="multi@demo.test")
    organisations = list(multi.memberships.values_list("organisation_id", flat=True))

    seen = [set(visible_products(resolve(multi, organisation=o))) for o in organisations]

    packs = set(Product.objects.filter(category__slug="custom-procedure-packs"))
    assert len(seen) == 2
    assert sorted(bool(s & packs) for s in seen) == [False, True]
