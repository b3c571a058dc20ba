"""Builders for the pricing-monitor tests: buyers in bulk, segment members at a date, a price
list, and the daily aggregates (`BuyerDay`) written directly, as the aggregates refresh would."""

import datetime
from decimal import Decimal

import factory
import numpy as np
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind, SizeBand
from insights.models import BuyerDay, SegmentSet
from pricing.models import PriceList, PriceListKind
from segments.models import MovementDirection, SegmentKind, SegmentMovement

from .segments import SegmentFactory


def no_segment_set() -> SegmentSet:
    return SegmentSet.objects.get_or_create(key="")[0]


class BuyerDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuyerDay

    day = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=7))
    segment_set = factory.LazyFunction(no_segment_set)
    orders = 1
    lines = 2
    units = 5
    revenue = Decimal("500.00")
    costed_revenue = Decimal("500.00")
    cost = Decimal("350.00")
    listed_revenue = Decimal("500.00")
    list_value = Decimal("550.00")


def organisations(count: int, *, prefix: str, kind=OrganisationKind.PRIVATE_CLINIC,
                  size_band=SizeBand.SMALL, **fields) -> list[Organisation]:
    """`count` active organisations of one kind and size band, in one insert."""
    return Organisation.objects.bulk_create([
        Organisation(name=f"{prefix} {n}", kind=kind, size_band=size_band, **fields)
        for n in range(count)
    ])


def computed_segment(name="At risk", **fields):
    return SegmentFactory(name=name, kind=SegmentKind.COMPUTED, basis="rfm_group",
                          basis_value="at_risk", **fields)


def moved(segment, organisation, direction: str, day: datetime.date) -> SegmentMovement:
    """A movement into or out of a computed segment at noon of `day`."""
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    return SegmentMovement.objects.create(segment=segment, organisation=organisation,
                                          direction=direction, at=at)


def entered(segment, organisations_in, day: datetime.date) -> None:
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    SegmentMovement.objects.bulk_create([
        SegmentMovement(segment=segment, organisation=o, direction=MovementDirection.ENTERED,
                        at=at)
        for o in organisations_in
    ])


def promotion(code="spring-promo", valid_from=None, **fields) -> PriceList:
    return PriceList.objects.create(code=code, name=code.replace("-", " ").title(),
                                    kind=PriceListKind.PROMOTION, valid_from=valid_from,
                                    **fields)


def weekly_sales(buyers, *, first_day: datetime.date, weeks: int, revenue, seed: int,
                 noise: float = 0.1) -> None:
    """One order a week for each organisation: revenue[i][w] (or revenue(i, w)) times a
    lognormal noise, written as one BuyerDay each week on `first_day` + w weeks."""
    rng = np.random.default_rng(seed)
    segment_set = no_segment_set()
    rows = []
    for i, organisation in enumerate(buyers):
        for week in range(weeks):
            amount = revenue(i, week) * float(rng.lognormal(0.0, noise))
            value = Decimal(f"{amount:.2f}")
            rows.append(BuyerDay(
                organisation=organisation, segment_set=segment_set,
                day=first_day + datetime.timedelta(weeks=week, days=int(rng.integers(0, 7))),
                orders=1, lines=1, units=max(1, round(amount / 50)), revenue=value,
                costed_revenue=value, cost=(value * Decimal("0.7")).quantize(Decimal("0.01")),
                listed_revenue=value, list_value=(value * Decimal("1.1")).quantize(
                    Decimal("0.01")),
            ))
    BuyerDay.objects.bulk_create(rows, batch_size=2000)
