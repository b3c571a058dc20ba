"""Catalogue builders with realistic defaults; every write goes through catalog.services."""

import itertools

import factory
from stdnum import ean

from catalog import services
from catalog.models import Catalog, Category, DeviceClass, Manufacturer, Product
from ordering.models import Stock

_gtin_serial = itertools.count(1)


def next_gtin() -> str:
    """A GTIN-13 under the GS1 demonstration prefix 952 with a valid check digit."""
    body = f"9529900{next(_gtin_serial):05d}"
    return body + ean.calc_check_digit(body)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Wound dressings {n}")
    slug = factory.Sequence(lambda n: f"wound-dressings-{n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.category_save(category=model_class(*args, **kwargs))


class ManufacturerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Manufacturer

    name = factory.Sequence(lambda n: f"Albion Medical {n} Ltd")
    slug = factory.Sequence(lambda n: f"albion-medical-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.manufacturer_save(manufacturer=model_class(*args, **kwargs))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"WC-{n:05d}")
    name = factory.Sequence(lambda n: f"Silicone foam dressing 10 x 10 cm, type {n}")
    slug = factory.LazyAttribute(lambda o: o.sku.lower())
    description = "Absorbent polyurethane foam with a soft silicone wound contact layer."
    plain_description = "A soft, absorbent dressing that is gentle on the skin."
    category = factory.SubFactory(CategoryFactory)
    manufacturer = factory.SubFactory(ManufacturerFactory)
    gtin = factory.LazyFunction(next_gtin)
    device_class = DeviceClass.IIB
    gmdn_code = "47496"
    gmdn_term = "Foam wound dressing, non-antimicrobial"
    pack_size = 10

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.product_save(product=model_class(*args, **kwargs))


class CatalogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Catalog
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"catalogue-{n}")
    name = factory.Sequence(lambda n: f"Catalogue {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        relations = {
            name: kwargs.pop(name)
            for name in (
                "categories", "products", "excluded_categories", "excluded_products",
                "segments", "organisations",
            )
            if name in kwargs
        }
        return services.catalog_save(catalog=model_class(*args, **kwargs), **relations)


class StockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stock

    product = factory.SubFactory(ProductFactory)
    on_hand = 40
    reserved = 0
