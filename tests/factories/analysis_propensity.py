"""Order histories for the propensity tests: buyers, categories with one product each, and
counted orders placed on given days, written in bulk so a world of a few thousand orders builds
in well under a second."""

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from accounts.models import Organisation, User
from ordering.models import Order, OrderLine, PaymentMethod
from tests.catalog.factories import CategoryFactory, ProductFactory

_serial = itertools.count(1)


@dataclass
class OrderHistory:
    """Orders to write: (organisation or consumer, when, [(product, quantity, unit price)])."""

    placer: User
    orders: list[tuple] = field(default_factory=list)

    def add(self, *, organisation=None, consumer=None, at: datetime, lines, state="delivered"):
        self.orders.append((organisation, consumer, at, lines, state))

    def write(self) -> list[Order]:
        built = []
        for organisation, consumer, _at, lines, state in self.orders:
            total = sum((Decimal(price) * quantity for _p, quantity, price in lines), Decimal(0))
            built.append(Order(
                number=f"P-{next(_serial):07d}", workflow="retail" if consumer else "institutional",
                state=state, placed_by=consumer or self.placer, organisation=organisation,
                currency="GBP", total_net=total, total_vat=Decimal("0.00"), total_gross=total,
                payment_method=PaymentMethod.CARD if consumer else PaymentMethod.ACCOUNT,
            ))
        Order.objects.bulk_create(built, batch_size=500)
        OrderLine.objects.bulk_create([
            OrderLine(order=order, product=product, quantity=quantity,
                      unit_price=Decimal(price), vat_rate=Decimal("0"), price_source="list",
                      line_net=Decimal(price) * quantity, line_vat=Decimal("0.00"),
                      line_gross=Decimal(price) * quantity)
            for order, (_o, _c, _at, lines, _s) in zip(built, self.orders, strict=True)
            for product, quantity, price in lines
        ], batch_size=500)
        for order, (_o, _c, at, _lines, _s) in zip(built, self.orders, strict=True):
            order.placed_at = at  # placed_at is set on insert; the history needs its own dates
        Order.objects.bulk_update(built, ["placed_at"], batch_size=300)
        return built


def propensity_catalogue(categories: int = 4) -> list:
    """One product in each of `categories` categories."""
    return [ProductFactory(category=CategoryFactory()) for _ in range(categories)]


def organisations(count: int, *, prefix: str = "Clinic") -> list[Organisation]:
    return Organisation.objects.bulk_create([
        Organisation(name=f"{prefix} {next(_serial)}", kind="private_clinic") for _ in range(count)
    ])


def consumers(count: int) -> list[User]:
    return User.objects.bulk_create([
        User(email=f"patient{next(_serial)}@demo.test", full_name="Pat Ient")
        for _ in range(count)
    ])


def placer() -> User:
    return User.objects.create(email=f"buyer{next(_serial)}@demo.test", full_name="Sam Buyer")


def days_before(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)


@dataclass
class World:
    """A generated history: who ordered what when, and which buyers follow a rhythm."""

    now: datetime
    products: list
    buyers: list
    regular: dict = field(default_factory=dict)  # buyer id -> the product it reorders


def _buyers(audience: str, count: int) -> list:
    return organisations(count) if audience == "organisations" else consumers(count)


def _place(history: OrderHistory, audience: str, buyer, at: datetime, product) -> None:
    who = {"organisation": buyer} if audience == "organisations" else {"consumer": buyer}
    history.add(at=at, lines=[(product, 2, "12.50")], **who)


def planted_world(*, now: datetime, audience: str = "organisations", regular: int = 60,
                  random_buyers: int = 60, days: int = 420, seed: int = 1) -> World:
    """Half the buyers reorder one category every 45 days (± 2), now and then buying another at
    random; the rest order random categories at their own random pace (a mean gap of 15 to 150
    days, no rhythm)."""
    rng = random.Random(seed)
    products = propensity_catalogue()
    world = World(now=now, products=products, buyers=_buyers(audience, regular + random_buyers))
    history = OrderHistory(placer=placer())
    for buyer in world.buyers[:regular]:
        product = products[rng.randrange(2)]
        world.regular[buyer.pk] = product
        day = days - rng.uniform(0, 45)
        while day > 0:
            _place(history, audience, buyer, days_before(now, day), product)
            day -= 45 + rng.uniform(-2, 2)
        day = days - rng.expovariate(1 / 90)
        while day > 0:
            _place(history, audience, buyer, days_before(now, day), rng.choice(products[2:]))
            day -= rng.expovariate(1 / 90)
    for buyer in world.buyers[regular:]:
        mean_gap = rng.uniform(15, 150)
        day = days - rng.expovariate(1 / mean_gap)
        while day > 0:
            _place(history, audience, buyer, days_before(now, day), rng.choice(products))
            day -= rng.expovariate(1 / mean_gap)
    history.write()
    return world


def noise_world(*, now: datetime, buyers: int = 150, days: int = 420, seed: int = 2) -> World:
    """Every organisation orders a random category at the same random pace: nothing in the
    history tells who orders what next."""
    rng = random.Random(seed)
    products = propensity_catalogue()
    world = World(now=now, products=products, buyers=organisations(buyers))
    history = OrderHistory(placer=placer())
    for buyer in world.buyers:
        day = days - rng.expovariate(1 / 40)
        while day > 0:
            _place(history, "organisations", buyer, days_before(now, day), rng.choice(products))
            day -= rng.expovariate(1 / 40)
    history.write()
    return world
