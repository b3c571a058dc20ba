"""Writes to the catalogue. Each service is one transaction and validates before it saves; a
save of a category, product or catalogue bumps the rules version (catalog/apps.py), so buyers see
the change on their next request."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from segments.models import refuse_computed

from .models import (
    SELLABLE_STATUSES,
    Catalog,
    Category,
    Manufacturer,
    Product,
    Recall,
    RegulatoryStatus,
)


@transaction.atomic
def category_save(*, category: Category) -> Category:
    """Create or update a category and keep the materialised paths of it and its whole subtree
    true, also when it moves under another parent."""
    category.full_clean(exclude=["path", "depth"])
    old_path = ""
    if category.pk:
        old_path = Category.objects.filter(pk=category.pk).values_list("path", flat=True).first()
    category.save()
    if category.parent_id:
        category.parent.refresh_from_db(fields=["path"])
    new_path = category.compute_path()
    if len(new_path) > Category._meta.get_field("path").max_length:
        raise ValidationError({"parent": "The category tree is too deep here."})
    if old_path and old_path != new_path:
        depth_change = new_path.count(".") - old_path.count(".")
        Category.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + depth_change,
        )
    else:
        Category.objects.filter(pk=category.pk).update(path=new_path, depth=category.depth)
    return category


@transaction.atomic
def manufacturer_save(*, manufacturer: Manufacturer) -> Manufacturer:
    manufacturer.full_clean()
    manufacturer.save()
    return manufacturer


@transaction.atomic
def product_save(*, product: Product) -> Product:
    product.full_clean()
    product.save()
    return product


def active_recall_of_every_lot(product: Product) -> Recall | None:
    return Recall.objects.filter(
        product_id=product.pk, lifted_at__isnull=True, lot_numbers=""
    ).order_by("raised_at").first()


@transaction.atomic
def product_set_regulatory_status(
    *, product: Product, status: str, reason: str = ""
) -> Product:
    """Record a recall, withdrawal, field safety action or return to market. A product leaves
    sale (pages, search, prices) on the next request after a recall or withdrawal. A product
    under an active recall of every lot stays off sale until the recall is lifted (raise and
    lift recalls with `ordering.services.recalls`, which also hold the open order lines)."""
    if status not in RegulatoryStatus.values:
        raise ValidationError({"regulatory_status": f"Unknown regulatory status {status!r}."})
    product = Product.objects.select_for_update().get(pk=product.pk)
    recall = active_recall_of_every_lot(product)
    if status in SELLABLE_STATUSES and recall is not None:
        raise ValidationError(
            {"regulatory_status": f"{product.sku} is under {recall.get_kind_display().lower()} "
             f"{recall.reference}: lift it to put the product back on sale."}
        )
    product.regulatory_status = status
    product._change_reason = reason or f"Regulatory status set to {status}"
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def catalog_save(
    *,
    catalog: Catalog,
    categories=None,
    products=None,
    excluded_categories=None,
    excluded_products=None,
    segments=None,
    organisations=None,
) -> Catalog:
    """Create or update a catalogue; each assortment or assignment given replaces the current one
    (None leaves it as it is)."""
    if segments is not None:
        refuse_computed(list(segments), "a catalogue")
    catalog.full_clean()
    catalog.save()
    relations = {
        "categories": categories,
        "products": products,
        "excluded_categories": excluded_categories,
        "excluded_products": excluded_products,
        "segments": segments,
        "organisations": organisations,
    }
    for name, values in relations.items():
        if values is not None:
            getattr(catalog, name).set(list(values))
    overlap = set(catalog.products.values_list("pk", flat=True)) & set(
        catalog.excluded_products.values_list("pk", flat=True)
    )
    if overlap:
        raise ValidationError(
            {"excluded_products": "A product cannot be both included in and excluded from "
             "the same catalogue."}
        )
    return catalog
