"""Catalogue writes: category paths, regulatory status, catalogue assortments, admin screens."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from catalog import services
from catalog.models import Catalog, Category, Product, validate_gtin
from ordering.services.recalls import recall_raise
from segments.versioning import rules_version

from .factories import CatalogFactory, CategoryFactory, ProductFactory, next_gtin

pytestmark = pytest.mark.django_db


def test_a_new_category_gets_its_path_and_depth():
    root = CategoryFactory(name="Wound care", slug="wound-care")
    child = CategoryFactory(name="Foam dressings", slug="foam", parent=root)

    child.refresh_from_db()
    assert child.path == f"{root.pk:06d}.{child.pk:06d}."
    assert child.depth == 1


def test_moving_a_category_re_paths_its_whole_subtree():
    wound, continence = CategoryFactory(slug="wound"), CategoryFactory(slug="continence")
    middle = CategoryFactory(slug="middle", parent=wound)
    leaf = CategoryFactory(slug="leaf", parent=middle)

    middle.parent = continence
    services.category_save(category=middle)

    leaf.refresh_from_db()
    assert leaf.path == f"{continence.pk:06d}.{middle.pk:06d}.{leaf.pk:06d}."
    assert leaf.depth == 2
    assert list(Category.objects.filter(path__startswith=wound.path)) == [wound]


def test_a_category_cannot_move_below_itself():
    root = CategoryFactory(slug="root")
    child = CategoryFactory(slug="child", parent=root)
    root.parent = child

    with pytest.raises(ValidationError):
        services.category_save(category=root)

    root.refresh_from_db()
    assert root.parent_id is None


def test_a_gtin_with_a_wrong_check_digit_is_refused():
    good = next_gtin()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)

    validate_gtin(good)
    with pytest.raises(ValidationError):
        ProductFactory(gtin=bad)
    assert not Product.objects.filter(gtin=bad).exists()


def test_a_regulatory_status_change_bumps_the_rules_version_and_keeps_history():
    product = ProductFactory()
    before = rules_version()

    services.product_set_regulatory_status(product=product, status="withdrawn", reason="MHRA")

    product.refresh_from_db()
    assert product.regulatory_status == "withdrawn"
    assert rules_version() != before
    assert product.history.first().history_change_reason == "MHRA"


def test_an_unknown_regulatory_status_is_refused():
    product = ProductFactory()

    with pytest.raises(ValidationError):
        services.product_set_regulatory_status(product=product, status="banned")
    product.refresh_from_db()
    assert product.regulatory_status == "on_market"


def test_a_product_cannot_be_included_and_excluded_by_one_catalogue():
    product = ProductFactory()

    with pytest.raises(ValidationError):
        CatalogFactory(code="both", products=[product], excluded_products=[product])
    assert not Catalog.objects.filter(code="both").exists()


def test_a_catalogue_assortment_change_bumps_the_rules_version():
    catalog = CatalogFactory()
    before = rules_version()

    catalog.products.add(ProductFactory())

    assert rules_version() != before


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(
        email="admin@demo.test", password="x" * 12, full_name="Ada Admin"
    )
    client.force_login(admin)
    return client


def test_the_admin_lists_search_and_set_status_through_services(staff_client):
    product = ProductFactory(sku="WC-4242")
    CatalogFactory(products=[product])

    for url in ("/admin/catalog/product/?q=WC-4242", "/admin/catalog/category/",
                "/admin/catalog/catalog/", "/admin/catalog/manufacturer/",
                "/admin/ordering/stock/", f"/admin/catalog/product/{product.pk}/change/",
                f"/admin/catalog/catalog/{Catalog.objects.get().pk}/change/"):
        assert staff_client.get(url).status_code == 200, url

    response = staff_client.post(
        "/admin/catalog/product/",
        {"action": "field_safety_action", "_selected_action": [product.pk]},
    )

    product.refresh_from_db()
    assert response.status_code == 302
    assert product.regulatory_status == "fsca"


def test_a_product_status_alone_cannot_recall_it_or_end_an_active_recall(staff_client):
    # Recalls are raised on the Recalls screen, which holds the product's open order lines.
    product = ProductFactory(sku="WC-4343")
    staff = User.objects.get(email="admin@demo.test")
    recall_raise(product=product, kind="recall", reason="Seal defect", reference="FSN-1",
                 effective_date=datetime.date(2026, 12, 4), raised_by=staff)

    refused = staff_client.post(
        "/admin/catalog/product/",
        {"action": "return_to_market", "_selected_action": [product.pk]}, follow=True,
    )
    changelist = staff_client.get("/admin/catalog/product/").content.decode()

    product.refresh_from_db()
    assert product.regulatory_status == "recalled"
    assert "lift it to put the product back on sale" in refused.content.decode()
    assert 'value="recall"' not in changelist and 'value="withdraw"' not in changelist
    with pytest.raises(ValidationError):
        services.product_set_regulatory_status(product=product, status="on_market")


def test_adding_a_category_in_the_admin_sets_its_path(staff_client):
    root = CategoryFactory(slug="root")

    response = staff_client.post(
        "/admin/catalog/category/add/",
        {"name": "Child", "slug": "child", "parent": root.pk, "position": 0},
    )

    child = Category.objects.get(slug="child")
    assert response.status_code == 302
    assert child.path == f"{root.pk:06d}.{child.pk:06d}."
