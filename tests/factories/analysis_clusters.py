"""Builders of the behavioural facts the clustering reads: one buyer's purchase-history row and
its revenue per category, written directly (in the project they come from the facts refresh)."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from segments.models import BuyerCategoryFacts, BuyerFacts

AS_OF = datetime.datetime(2026, 11, 30, 6, 0, tzinfo=datetime.UTC)


class BuyerFactsFactory(factory.django.DjangoModelFactory):
    """An organisation's facts by default; pass `user=` and `organisation=None` for a consumer."""

    class Meta:
        model = BuyerFacts

    organisation = factory.SubFactory("tests.factories.OrganisationFactory")
    user = None
    computed_at = AS_OF
    orders_total = factory.LazyAttribute(lambda f: max(f.orders_12m, 1))
    orders_12m = 6
    revenue_12m = Decimal("1200.00")
    last_order_at = factory.LazyAttribute(lambda f: f.computed_at - datetime.timedelta(days=20))
    first_order_at = factory.LazyAttribute(lambda f: f.computed_at - datetime.timedelta(days=400))
    average_order_value = factory.LazyAttribute(
        lambda f: (Decimal(f.revenue_12m) / f.orders_12m).quantize(Decimal("0.01"))
        if f.orders_12m else None
    )
    cadence_days = 60.0


class NoOrdersFactsFactory(BuyerFactsFactory):
    """A buyer who never ordered: zero counts and no dates."""

    orders_total = 0
    orders_12m = 0
    revenue_12m = Decimal("0.00")
    last_order_at = None
    first_order_at = None
    average_order_value = None
    cadence_days = None


class BuyerCategoryFactsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuyerCategoryFacts

    facts = factory.SubFactory(BuyerFactsFactory)
    category = factory.SubFactory("tests.catalog.factories.CategoryFactory")
    first_bought_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=300))
    last_bought_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=20))
    orders_total = 3
    orders_12m = 3
    units_12m = 10
    revenue_12m = Decimal("500.00")
