"""Buyers with purchase-history facts, written straight into `BuyerFacts` (the table the facts
refresh fills), for the tests of RFM, value tiers and lapsing.

A buyer is described by a `Buyer` spec: its audience, the whole days since its last order (None:
it never ordered), orders and revenue of the trailing 12 months, margin and cadence.
`bulk_buyer_facts` writes any number of them in a fixed number of queries."""

import datetime
import itertools
from dataclasses import dataclass
from decimal import Decimal

import factory

from accounts.models import Organisation, OrganisationKind, User
from segments.models import Audience, BuyerFacts

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)

_serial = itertools.count(1)


@dataclass(frozen=True)
class Buyer:
    label: str
    audience: str = Audience.ORGANISATIONS
    days: int | None = None
    orders_12m: int = 0
    revenue_12m: str = "0"
    margin_12m: str | None = None
    cadence_days: float | None = None
    orders_total: int | None = None


def facts_for(spec: Buyer, *, now: datetime.datetime = NOW) -> dict:
    """The BuyerFacts field values of a spec (without the buyer itself)."""
    ordered = spec.days is not None
    last = now - datetime.timedelta(days=spec.days) if ordered else None
    orders_total = spec.orders_total
    if orders_total is None:
        orders_total = max(spec.orders_12m, 1) if ordered else 0
    return {
        "last_order_at": last,
        "first_order_at": last - datetime.timedelta(days=400) if ordered else None,
        "orders_total": orders_total,
        "orders_12m": spec.orders_12m,
        "revenue_12m": Decimal(spec.revenue_12m),
        "margin_12m": None if spec.margin_12m is None else Decimal(spec.margin_12m),
        "cadence_days": spec.cadence_days,
        "computed_at": now,
    }


def bulk_buyer_facts(specs, *, now: datetime.datetime = NOW) -> dict[str, BuyerFacts]:
    """One organisation or consumer and its facts per spec, in the order given (three inserts in
    all); returns the facts rows by label."""
    specs = list(specs)
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Scored Trust {next(_serial)}", kind=OrganisationKind.NHS_TRUST)
        for spec in specs
        if spec.audience == Audience.ORGANISATIONS
    )
    users = User.objects.bulk_create(
        User(email=f"scored{next(_serial)}@demo.test", full_name="Scored Consumer", password="!")
        for spec in specs
        if spec.audience == Audience.CONSUMERS
    )
    organisations, users = iter(organisations), iter(users)
    rows = []
    for spec in specs:
        if spec.audience == Audience.ORGANISATIONS:
            buyer = {"organisation": next(organisations)}
        else:
            buyer = {"user": next(users)}
        rows.append(BuyerFacts(**buyer, **facts_for(spec, now=now)))
    BuyerFacts.objects.bulk_create(rows)
    return {spec.label: row for spec, row in zip(specs, rows, strict=True)}


class BuyerFactsFactory(factory.django.DjangoModelFactory):
    """An organisation's facts: one recent order of £100 unless told otherwise."""

    class Meta:
        model = BuyerFacts

    organisation = factory.LazyFunction(
        lambda: Organisation.objects.create(
            name=f"Scored Trust {next(_serial)}", kind=OrganisationKind.NHS_TRUST
        )
    )
    last_order_at = factory.LazyFunction(lambda: NOW - datetime.timedelta(days=10))
    first_order_at = factory.LazyAttribute(lambda o: o.last_order_at)
    orders_total = 1
    orders_12m = 1
    revenue_12m = Decimal("100.00")
    computed_at = NOW
