"""Eighteen months of order history for the demo's organisations and retail consumers, so the
behavioural segments (RFM groups, value tiers, lapsing, clusters, propensity) have something to
learn from.

Every buyer follows a habit (weekly, monthly, quarterly, lapsing, declining, growing, new, one-off,
never) with a category preference of its own. Orders are real orders: each line is priced by
`pricing.engine.prices_for` for the buyer, only products the buyer may see and buy directly, VAT
and totals as `pricing.engine.line_total` computes them. Orders are delivered (some cancelled),
carry no budget and reserve no stock, so the personas' budgets, stock and work queues are those
the rest of the demo sets. Deterministic (seeded) and written in bulk.
"""

import dataclasses
import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts import services
from accounts.models import Membership, Organisation, Site, User
from catalog.models import Category, Product
from ordering.models import Order, OrderEvent, OrderLine, OrderState, PaymentMethod
from ordering.rules import PLACE, Action
from pricing.engine import ResolvedPrice, line_total, prices_for
from pricing.models import Contract, PriceList, Quote
from segments.models import Audience, ComputedBasis, Segment, SegmentKind
from segments.resolver import BuyerContext, Workflow, resolve, resolve_organisation
from territories.rules import availability_for

from .accounts import demo_gln
from .history_buyers import (
    DEMO_CONSUMER_HABITS,
    DEMO_ORGANISATION_HABITS,
    HISTORY_CONSUMERS,
    HISTORY_ORGANISATIONS,
    Habit,
    HistoryOrganisationSpec,
)
from .history_companions import companion_categories, with_companions
from .organisations import ORGANISATIONS
from .service_levels import covered_by_group

SEED = 20260401
HISTORY_DAYS = 548  # 18 months
ERP_PREFIX = "DEMO-H"  # every history order's ERP reference: how a re-run recognises them
FIRST_HISTORY_COMPANY = 40  # GS1 company numbers of the history organisations start here
CANCELLED_SHARE = 0.06
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_PREFIX = {Workflow.RETAIL: "R", Workflow.INSTITUTIONAL: "P", Workflow.DISTRIBUTOR: "D"}

# (least, most lines per order, typical units per line) by size band; distributors buy stock.
BASKETS = {
    "enterprise": (4, 9, 20), "large": (3, 7, 10), "medium": (2, 5, 6), "small": (1, 4, 3),
    "micro": (1, 3, 2), "": (1, 3, 2),
}
DISTRIBUTOR_BASKET = (5, 10, 40)
CONSUMER_BASKET = (1, 2, 1)


@dataclass(frozen=True)
class HistoryBuyer:
    """One buyer of the history: who places its orders, for which organisation (None: a retail
    consumer), its habit and its size of basket."""

    key: str
    placer: User
    organisation: Organisation | None
    habit: str
    basket: tuple[int, int, int]


@dataclass(frozen=True)
class HistoryLoad:
    buyers: list[HistoryBuyer]
    orders: int
    lines: int


def order_days(habit: str, rng: random.Random) -> list[int]:
    """Days before today of one buyer's orders, oldest first, for its habit."""
    days: list[float] = []
    if habit in (Habit.WEEKLY, Habit.FORTNIGHTLY, Habit.MONTHLY, Habit.QUARTERLY):
        step = {Habit.WEEKLY: 7, Habit.FORTNIGHTLY: 14, Habit.MONTHLY: 30, Habit.QUARTERLY: 91}
        gap = step[habit]
        day = HISTORY_DAYS - rng.uniform(1, min(gap, 20))
        while day >= 1:
            days.append(day)
            day -= gap + rng.uniform(-0.12, 0.12) * gap
    elif habit == Habit.LAPSING:
        stop = rng.uniform(165, 230)
        day = HISTORY_DAYS - rng.uniform(1, 15)
        while day >= stop:
            days.append(day)
            day -= rng.uniform(10, 18)
    elif habit == Habit.DECLINING:
        day, gap = HISTORY_DAYS - rng.uniform(1, 10), 18.0
        while day >= 1:
            days.append(day)
            day, gap = day - gap * rng.uniform(0.9, 1.1), gap * 1.3
    elif habit == Habit.GROWING:
        day, gap = rng.uniform(330, 370), 75.0
        while day >= 1:
            days.append(day)
            day, gap = day - gap * rng.uniform(0.9, 1.1), max(gap * 0.78, 9.0)
    elif habit == Habit.NEW:
        days = [rng.uniform(1, 27)]
    elif habit == Habit.ONE_OFF:
        days = [rng.uniform(100, 450)]
    elif habit == Habit.OCCASIONAL:
        days = sorted((rng.uniform(5, HISTORY_DAYS - 5) for _ in range(rng.randint(3, 7))),
                      reverse=True)
    return [round(d, 3) for d in days]


def basket_factor(habit: str, position: float) -> float:
    """How large an order is against the buyer's usual basket, `position` 0 (first) to 1 (last):
    lapsing buyers bought big, declining ones less and less, growing ones more and more."""
    if habit == Habit.LAPSING:
        return 2.0
    if habit == Habit.NEW:
        return 0.4
    if habit == Habit.DECLINING:
        return 2.0 * 0.2**position
    if habit == Habit.GROWING:
        return 0.4 * 5**position
    return 1.0


# The buyers ------------------------------------------------------------------------------------


def _history_organisation(spec: HistoryOrganisationSpec, company: int,
                          manager: User | None) -> Organisation:
    organisation = Organisation.objects.filter(name=spec.name).first() or Organisation()
    organisation.name = spec.name
    organisation.kind = spec.kind
    organisation.gln = demo_gln(company, 0)
    organisation.industry = spec.industry
    organisation.size_band = spec.size_band
    organisation.customer_tier = spec.customer_tier
    organisation.account_manager = manager
    organisation.credit_limit = Decimal(spec.credit_limit)
    organisation.professional_status = "verified"
    organisation.address_line1 = spec.address_line1
    organisation.town = spec.town
    organisation.postcode = spec.postcode
    organisation.is_active = True
    organisation = services.organisation_save(organisation=organisation)
    if not organisation.sites.exists():
        services.site_save(site=Site(
            organisation=organisation, name=spec.name if spec.kind != "nhs_trust" else "Stores",
            kind=spec.site_kind, address_line1=spec.address_line1, town=spec.town,
            postcode=spec.postcode, gln=demo_gln(company, 1), is_active=True,
        ))
    return organisation


def _member(organisation: Organisation, spec: HistoryOrganisationSpec, password: str) -> User:
    email = f"purchasing.{spec.key}@demo.test"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, full_name=f"Purchasing, {spec.name}"[:150], password=password)
        user.full_clean()
        user.save()
    if not Membership.objects.filter(user=user, organisation=organisation).exists():
        services.membership_save(membership=Membership(
            user=user, organisation=organisation, is_buyer=True, is_org_admin=True,
            is_active=True,
        ))
    return user


def _first_buyer(organisation: Organisation) -> User:
    membership = (
        Membership.objects.filter(organisation=organisation, is_active=True)
        .exclude(is_buyer=False, is_requisitioner=False)
        .select_related("user").order_by("pk").first()
    )
    return membership.user


def _basket(organisation: Organisation) -> tuple[int, int, int]:
    if organisation.kind == "distributor":
        return DISTRIBUTOR_BASKET
    return BASKETS.get(organisation.size_band, BASKETS[""])


def build_history_buyers() -> list[HistoryBuyer]:
    """Create or update the history's organisations (with a site and a purchasing login) and
    consumers, and return every buyer of the history with its habit."""
    password = User.objects.get(email="admin@demo.test").password
    manager = User.objects.filter(email="manager2@demo.test").first()
    names = {spec.key: spec.name for spec in ORGANISATIONS}
    buyers = []
    for key, habit in DEMO_ORGANISATION_HABITS.items():
        organisation = Organisation.objects.get(name=names[key])
        buyers.append(HistoryBuyer(key, _first_buyer(organisation), organisation, habit,
                                   _basket(organisation)))
    for company, spec in enumerate(HISTORY_ORGANISATIONS, start=FIRST_HISTORY_COMPANY):
        own = None if covered_by_group(spec.kind, spec.postcode) else manager
        organisation = _history_organisation(spec, company, own)
        buyers.append(HistoryBuyer(spec.key, _member(organisation, spec, password), organisation,
                                   spec.habit, _basket(organisation)))
    for email, habit in DEMO_CONSUMER_HABITS.items():
        buyers.append(HistoryBuyer(email, User.objects.get(email=email), None, habit,
                                   CONSUMER_BASKET))
    existing = {u.email: u for u in User.objects.filter(
        email__in=[spec.email for spec in HISTORY_CONSUMERS])}
    for spec in HISTORY_CONSUMERS:
        user = existing.get(spec.email)
        if user is None:
            user = User(email=spec.email, full_name=spec.full_name, postcode=spec.postcode,
                        password=password)
            user.full_clean()
            user.save()
        buyers.append(HistoryBuyer(spec.email, user, None, spec.habit, CONSUMER_BASKET))
    return buyers


# The orders ------------------------------------------------------------------------------------


@dataclass
class _Pool:
    """What one buyer may order directly, priced for it, by category."""

    context: BuyerContext
    prices: dict[int, ResolvedPrice]
    by_category: dict[int, list[int]]
    costs: dict[int, Decimal | None] = dataclasses.field(default_factory=dict)


def _context(buyer: HistoryBuyer) -> BuyerContext:
    if buyer.organisation is None:
        return resolve(buyer.placer)
    return resolve_organisation(buyer.organisation)


def _pricing_facts(context: BuyerContext, own_terms: set[int]) -> tuple:
    """The facts that decide what a buyer may buy and at what price: buyers alike in all of them
    share one pricing. An organisation with terms of its own (a contract, a price list naming it,
    a parent) is priced for itself."""
    organisation_id = context.organisation_id if context.organisation_id in own_terms else None
    return (context.channel, context.workflow, tuple(sorted(context.segments)), context.territory,
            context.professional, context.customer_tier, organisation_id)


def _pool(buyer: HistoryBuyer, pools: dict, own_terms: set[int],
          categories: dict[int, int], costs: dict[int, Decimal | None]) -> _Pool | None:
    context = _context(buyer)
    facts = _pricing_facts(context, own_terms)
    if facts not in pools:
        prices = prices_for(context, list(categories))
        direct = availability_for(context, list(prices))
        by_category: dict[int, list[int]] = {}
        for product_id in sorted(prices):
            if direct[product_id].is_direct:
                by_category.setdefault(categories[product_id], []).append(product_id)
        pools[facts] = _Pool(context, prices, by_category, costs) if by_category else None
    pool = pools[facts]
    return dataclasses.replace(pool, context=context) if pool is not None else None


def _price_at(price: ResolvedPrice, quantity: int) -> ResolvedPrice:
    """The price of the winning list at `quantity`: its tier for that many units."""
    if not price.includes_vat:
        tier = max((t for t in price.tiers if t[0] <= quantity), default=None)
        if tier is not None and tier[0] != price.tier_min_quantity:
            return dataclasses.replace(price, unit_price=tier[1], tier_min_quantity=tier[0])
    return price


def _quantity(price: ResolvedPrice, wanted: float, consumer: bool) -> int:
    quantity = max(1, round(wanted))
    if consumer and len(price.tiers) > 1:
        quantity = min(quantity, max(1, price.tiers[1][0] - 1))
    quantity = max(quantity, price.min_order_qty)
    quantity = -(-quantity // price.order_multiple) * price.order_multiple
    if price.max_order_qty is not None:
        quantity = min(quantity, price.max_order_qty)
    return quantity


def _regular_list(pool: _Pool, rng: random.Random, size: int) -> list[int]:
    """The products a buyer reorders: drawn from one to three favourite categories."""
    categories = sorted(pool.by_category)
    favourites = rng.sample(categories, k=min(len(categories), rng.choice((1, 2, 2, 3))))
    candidates = sorted({p for c in favourites for p in pool.by_category[c]})
    return rng.sample(candidates, k=min(len(candidates), size))


def _pick_products(pool: _Pool, regulars: list[int], count: int,
                   rng: random.Random) -> list[int]:
    """Mostly the buyer's regular products, now and then something else."""
    chosen: list[int] = []
    categories = sorted(pool.by_category)
    for _ in range(count * 3):
        if rng.random() < 0.85:
            product_id = rng.choice(regulars)
        else:
            product_id = rng.choice(pool.by_category[rng.choice(categories)])
        if product_id not in chosen:
            chosen.append(product_id)
        if len(chosen) == count:
            break
    return chosen


def _order_number(workflow: str, placed: datetime.datetime, rng: random.Random,
                  taken: set[str]) -> str:
    while True:
        digits = "".join(rng.choice(NUMBER_ALPHABET) for _ in range(8))
        number = f"{NUMBER_PREFIX[workflow]}{placed:%y}-{digits[:4]}-{digits[4:]}"
        if number not in taken:
            taken.add(number)
            return number


def _orders_of(buyer: HistoryBuyer, pool: _Pool, now: datetime.datetime, sequence: list[int],
               taken: set[str], companions: dict) -> list[tuple[Order, list[OrderLine]]]:
    rng = random.Random(f"{SEED}:{buyer.key}")
    days = order_days(buyer.habit, rng)
    least, most, units = buyer.basket
    regulars = _regular_list(pool, rng, most + 3)
    context, consumer = pool.context, buyer.organisation is None
    made = []
    for position, day in enumerate(days):
        placed = now - datetime.timedelta(days=day)
        factor = basket_factor(buyer.habit, position / max(len(days) - 1, 1))
        count = max(1, round(rng.randint(least, most) * min(factor, 1.5)))
        lines = []
        picked = _pick_products(pool, regulars, count, rng)
        added = with_companions(picked, pool.by_category, companions)
        wanted_of: dict[int, float] = {}
        for product_id in [*picked, *added]:
            # A companion goes in the quantity of its product, drawing nothing from the buyer's
            # random stream: the rest of the history stays as it was.
            if product_id in added:
                wanted = wanted_of[added[product_id]]
            else:
                wanted = units * factor * rng.choice((0.5, 1, 1, 1.5, 2, 3))
            wanted_of[product_id] = wanted
            quantity = _quantity(pool.prices[product_id], wanted, consumer)
            price = _price_at(pool.prices[product_id], quantity)
            total = line_total(price, quantity)
            lines.append(OrderLine(
                product_id=product_id, site_id=None if consumer else context.site_id,
                quantity=quantity, unit_price=price.unit_price, vat_rate=price.vat_rate,
                price_source=price.source, price_explanation=price.explanation[:250],
                price_list_code=price.price_list_code, contract_id=price.contract_id,
                unit_cost=pool.costs.get(product_id), list_unit_price=price.list_unit_price,
                line_net=total.net, line_vat=total.vat, line_gross=total.gross,
            ))
        cancelled = day > 7 and rng.random() < CANCELLED_SHARE
        for line in lines:
            done = 0 if cancelled else line.quantity
            line.allocated_quantity = line.shipped_quantity = done
        sequence[0] += 1
        currency = pool.prices[lines[0].product_id].currency if lines else "GBP"
        made.append((_order(buyer, context, lines, placed, cancelled, sequence[0], rng, taken,
                            currency), lines))
    return made


def _order(buyer, context, lines, placed, cancelled, number, rng, taken, currency) -> Order:
    net = sum((line.line_net for line in lines), Decimal("0.00"))
    vat = sum((line.line_vat for line in lines), Decimal("0.00"))
    consumer = buyer.organisation is None
    workflow = Workflow.RETAIL if consumer else context.workflow
    order = Order(
        number=_order_number(workflow, placed, rng, taken), workflow=workflow,
        state=OrderState.CANCELLED if cancelled else OrderState.DELIVERED,
        placed_by=buyer.placer, organisation=buyer.organisation,
        customer_tier=context.customer_tier, site_id=None if consumer else context.site_id,
        po_number="" if consumer else f"PO-{placed:%y%m}-{number:05d}",
        currency=currency,
        total_net=net, total_vat=vat, total_gross=net + vat,
        payment_method=PaymentMethod.CARD if consumer else PaymentMethod.ACCOUNT,
        erp_reference=f"{ERP_PREFIX}{number:05d}",
        expected_delivery_date=(placed + datetime.timedelta(days=3)).date(),
    )
    if consumer:
        order.delivery_name = buyer.placer.full_name
        order.delivery_postcode = buyer.placer.postcode
        order.payment_reference = f"test-{number:05d}"
    order.placed_at = order.updated_at = placed
    return order


def _events(order: Order) -> list[OrderEvent]:
    placed = OrderEvent(order=order, action=PLACE, from_state="", to_state=OrderState.SUBMITTED,
                        actor_id=order.placed_by_id, actor_label="placer")
    placed.created_at = order.placed_at
    if order.state == OrderState.CANCELLED:
        end = OrderEvent(order=order, action=Action.CANCEL, from_state=OrderState.SUBMITTED,
                         to_state=OrderState.CANCELLED, actor_id=order.placed_by_id,
                         actor_label="placer", comment="No longer needed")
        end.created_at = order.placed_at + datetime.timedelta(hours=2)
    else:
        end = OrderEvent(order=order, action=Action.DELIVER, from_state=OrderState.SHIPPED,
                         to_state=OrderState.DELIVERED, actor_label="carrier")
        end.created_at = order.placed_at + datetime.timedelta(days=3)
    return [placed, end]


def _write(made: list[tuple[Order, list[OrderLine]]]) -> None:
    """Insert the orders, their lines and events, then date them: `placed_at` and `created_at`
    are set to now on insert, so one bulk UPDATE writes the history's own dates."""
    dates = [order.placed_at for order, _ in made]
    orders = Order.objects.bulk_create([order for order, _ in made], batch_size=500)
    rows = []
    for order, lines in made:
        for line in lines:
            line.order = order
            rows.append(line)
    OrderLine.objects.bulk_create(rows, batch_size=1000)
    for order, placed in zip(orders, dates, strict=True):
        order.placed_at = order.updated_at = placed
    events = [event for order in orders for event in _events(order)]
    when = [event.created_at for event in events]
    events = OrderEvent.objects.bulk_create(events, batch_size=1000)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE ordering_order SET placed_at = %s, updated_at = %s WHERE id = %s",
            [(adapt(o.placed_at), adapt(o.updated_at), o.pk) for o in orders],
        )
        cursor.executemany(
            "UPDATE ordering_orderevent SET created_at = %s WHERE id = %s",
            [(adapt(created), e.pk) for e, created in zip(events, when, strict=True)],
        )


def _organisations_with_own_terms() -> set[int]:
    """Organisations whose prices may differ from those of others alike: named by a contract or
    a price list, or below a parent (whose contracts they inherit)."""
    named = set(Contract.objects.values_list("organisation_id", flat=True))
    named |= set(Quote.objects.values_list("organisation_id", flat=True))
    named |= set(PriceList.objects.filter(organisations__isnull=False)
                 .values_list("organisations", flat=True))
    named |= set(Organisation.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    return named


def build_order_history(buyers: list[HistoryBuyer], *, now=None) -> HistoryLoad:
    """The history's orders, once: a re-run finds them by their ERP reference and adds none."""
    if Order.objects.filter(erp_reference__startswith=ERP_PREFIX).exists():
        history = Order.objects.filter(erp_reference__startswith=ERP_PREFIX)
        return HistoryLoad(buyers, history.count(),
                           OrderLine.objects.filter(order__in=history).count())
    now = (now or timezone.now()).replace(microsecond=0)
    taken = set(Order.objects.values_list("number", flat=True))
    pools: dict[tuple, _Pool | None] = {}
    own_terms = _organisations_with_own_terms()
    # Devices only: the support plan is offered to self-service accounts, not part of the history.
    categories = dict(Product.objects.filter(is_active=True, kind="device")
                      .values_list("pk", "category_id"))
    companions = companion_categories(dict(Category.objects.values_list("name", "pk")))
    costs = dict(Product.objects.values_list("pk", "cost_price"))
    sequence, made = [0], []
    for buyer in buyers:
        if buyer.habit == Habit.PROSPECT:
            continue
        pool = _pool(buyer, pools, own_terms, categories, costs)
        if pool is not None:
            made.extend(item for item in _orders_of(buyer, pool, now, sequence, taken, companions)
                        if item[1])
    _write(made)
    return HistoryLoad(buyers, len(made), sum(len(lines) for _, lines in made))


# Computed segments -----------------------------------------------------------------------------

COMPUTED_SEGMENTS = (
    ("rfm-champions", "Champions", Audience.ORGANISATIONS, ComputedBasis.RFM_GROUP, "champions",
     "Organisations that bought recently, often and the most."),
    ("rfm-at-risk", "At risk", Audience.ORGANISATIONS, ComputedBasis.RFM_GROUP, "at_risk",
     "Organisations that used to buy often and much, but not lately."),
    ("rfm-cant-lose", "Can't lose", Audience.ORGANISATIONS, ComputedBasis.RFM_GROUP, "cant_lose",
     "Some of the largest buyers, gone quiet: worth a call from the account manager."),
    ("value-concierge", "Concierge accounts", Audience.ORGANISATIONS, ComputedBasis.VALUE_TIER,
     "concierge", "The top fifth of organisations by revenue over the last 12 months."),
    ("lapsed-organisations", "Lapsed organisations", Audience.ORGANISATIONS,
     ComputedBasis.LAPSED, "",
     "Organisations that have not ordered for longer than their own cadence allows."),
    ("consumer-champions", "Champion consumers", Audience.CONSUMERS, ComputedBasis.RFM_GROUP,
     "champions", "Consumers who bought recently, often and the most."),
    ("consumer-at-risk", "Consumers at risk", Audience.CONSUMERS, ComputedBasis.RFM_GROUP,
     "at_risk", "Consumers who used to buy often, but not lately."),
    ("consumer-concierge", "Concierge consumers", Audience.CONSUMERS, ComputedBasis.VALUE_TIER,
     "concierge", "The top fifth of consumers by revenue over the last 12 months."),
    ("lapsed-consumers", "Lapsed consumers", Audience.CONSUMERS, ComputedBasis.LAPSED, "",
     "Consumers who have not ordered for longer than their own cadence allows."),
)


def build_computed_segments() -> dict[str, Segment]:
    """Create or update the demo's computed segments (the analysis fills them)."""
    segments = {}
    for code, name, audience, basis, value, description in COMPUTED_SEGMENTS:
        segment = Segment.objects.filter(code=code).first() or Segment(code=code)
        segment.name, segment.kind, segment.audience = name, SegmentKind.COMPUTED, audience
        segment.basis, segment.basis_value = basis, value
        segment.description, segment.is_active = description, True
        segment.full_clean()
        segment.save()
        segments[code] = segment
    return segments


def load_history(*, now=None) -> HistoryLoad:
    """The history's buyers, their orders (once) and the computed segments, in one transaction."""
    with transaction.atomic():
        load = build_order_history(build_history_buyers(), now=now)
        build_computed_segments()
    return load


def compute_demo_segments():
    """Compute the behavioural facts, scores, clusters, propensity and computed memberships from
    the history: a full recompute, as staff would start it. Returns the SegmentRun."""
    from segments.services import recompute_segments

    return recompute_segments(full=True)
