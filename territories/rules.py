"""Who may buy what where: the territory rule, answered set-based for a whole page of products.

For a buyer delivering to a postcode area, on today's date:
- a line restricted in a territory holding that area is not available (the restriction's reason);
- a distributor buyer may buy only the lines it holds a right to in that area (its own site's);
- any other buyer meets a line under another distributor's exclusive right there through that
  distributor (named, with contact details), and buys every other line directly.
A buyer without a postcode (a guest) buys directly; the area is confirmed at checkout.
"""

from dataclasses import dataclass
from typing import Literal

from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import CategoryAncestry, Product
from segments.resolver import BuyerContext, Workflow

from .models import TerritoryRestriction, TerritoryRight, validity_q

DIRECT = "direct"
VIA_DISTRIBUTOR = "via_distributor"
UNAVAILABLE = "unavailable"

CONFIRMED_AT_CHECKOUT = "Availability in your area is confirmed at checkout."


@dataclass(frozen=True)
class DistributorContact:
    name: str = ""
    phone: str = ""
    email: str = ""

    def __str__(self) -> str:
        return " · ".join(part for part in (self.name, self.phone, self.email) if part)


@dataclass(frozen=True)
class Availability:
    """How this buyer may obtain one product: directly, only through the named distributor, or
    not at all (with the reason)."""

    status: Literal["direct", "via_distributor", "unavailable"]
    distributor_id: int | None = None
    distributor_name: str = ""
    distributor_contact: DistributorContact | None = None
    reason: str = ""

    @property
    def is_direct(self) -> bool:
        return self.status == DIRECT

    @property
    def is_via_distributor(self) -> bool:
        return self.status == VIA_DISTRIBUTOR

    @property
    def is_unavailable(self) -> bool:
        return self.status == UNAVAILABLE


def _is_distributor(buyer: BuyerContext) -> bool:
    return buyer.workflow == Workflow.DISTRIBUTOR


def _product_paths(products) -> dict[int, str]:
    """{product id: its category path} in one query, whatever form `products` comes in."""
    if isinstance(products, QuerySet):
        return dict(products.order_by().values_list("pk", "category__path"))
    products = list(products)
    if all(isinstance(p, Product) and Product.category.is_cached(p) for p in products):
        return {p.pk: p.category.path for p in products}  # already loaded with its category
    ids = [getattr(p, "pk", p) for p in products]
    return dict(Product.objects.filter(pk__in=ids).values_list("pk", "category__path"))


def _ancestor_ids(paths) -> set[int]:
    return {int(part) for path in paths for part in path.rstrip(".").split(".") if part}


def _covering(rows, product_id: int, path: str) -> list:
    return [
        row for row in rows
        if row.product_id == product_id or (row.category_id and path.startswith(row.category.path))
    ]


def _in_area(rows: QuerySet, buyer: BuyerContext, paths: dict[int, str], today) -> list:
    """Those of `rows` valid today, in a territory holding the buyer's area, covering any of these
    products (themselves, or a category on the path from the root to theirs)."""
    lines = Q(product_id__in=list(paths)) | Q(category_id__in=sorted(_ancestor_ids(paths.values())))
    return list(
        rows.filter(lines, validity_q(today), territory__areas__code=buyer.postcode_area)
        .select_related("category", "territory")
        .order_by("pk")
    )


def _through(right: TerritoryRight) -> Availability:
    distributor = right.distributor
    profile = getattr(distributor, "distributor_profile", None)
    contact = DistributorContact(
        name=profile.contact_name if profile else "",
        phone=profile.phone if profile else "",
        email=profile.email if profile else "",
    )
    return Availability(
        status=VIA_DISTRIBUTOR,
        distributor_id=distributor.pk,
        distributor_name=distributor.name,
        distributor_contact=contact,
        reason=f"{distributor.name} holds the exclusive right to this line in "
        f"{right.territory.name}.",
    )


def _outside_rights(buyer: BuyerContext) -> Availability:
    where = buyer.territory_name or "this delivery area"
    return Availability(
        status=UNAVAILABLE, reason=f"Not covered by your distribution rights in {where}."
    )


def _for_distributor(buyer: BuyerContext, rights: list[TerritoryRight]) -> Availability:
    own = [r for r in rights if r.distributor_id == buyer.organisation_id]
    if not own:
        return _outside_rights(buyer)
    others_exclusive = [
        r for r in rights if r.exclusive and r.distributor_id != buyer.organisation_id
    ]
    if others_exclusive and not any(r.exclusive for r in own):
        holder = others_exclusive[0]
        return Availability(
            status=UNAVAILABLE,
            reason=f"{holder.distributor.name} holds the exclusive right to this line in "
            f"{holder.territory.name}.",
        )
    return Availability(status=DIRECT)


def _for_customer(rights: list[TerritoryRight]) -> Availability:
    exclusive = [r for r in rights if r.exclusive]
    return _through(exclusive[0]) if exclusive else Availability(status=DIRECT)


def availability_for(buyer: BuyerContext, products) -> dict[int, Availability]:
    """{product id: Availability} for every product given (a queryset, Products or ids), in at most
    three queries however many products, on today's date and the buyer's delivery postcode area."""
    paths = _product_paths(products)
    if not buyer.postcode_area:
        if _is_distributor(buyer):
            return {pid: _outside_rights(buyer) for pid in paths}
        return {pid: Availability(status=DIRECT, reason=CONFIRMED_AT_CHECKOUT) for pid in paths}
    if not paths:
        return {}
    today = timezone.localdate()
    restrictions = _in_area(TerritoryRestriction.objects.all(), buyer, paths, today)
    rights = _in_area(
        TerritoryRight.objects.select_related("distributor__distributor_profile"),
        buyer, paths, today,
    )
    answers = {}
    for product_id, path in paths.items():
        restricted = _covering(restrictions, product_id, path)
        covering = _covering(rights, product_id, path)
        if restricted:
            answers[product_id] = Availability(status=UNAVAILABLE, reason=restricted[0].reason)
        elif _is_distributor(buyer):
            answers[product_id] = _for_distributor(buyer, covering)
        else:
            answers[product_id] = _for_customer(covering)
    return answers


def restriction_reasons(buyer: BuyerContext, products) -> dict[int, str]:
    """{product id: reason} for those of `products` restricted today in the buyer's delivery
    area (catalogue visibility leaves them out; this says why), in at most two queries."""
    if not buyer.postcode_area:
        return {}
    paths = _product_paths(products)
    if not paths:
        return {}
    rows = _in_area(TerritoryRestriction.objects.all(), buyer, paths, timezone.localdate())
    reasons = {}
    for product_id, path in paths.items():
        covering = _covering(rows, product_id, path)
        if covering:
            reasons[product_id] = covering[0].reason
    return reasons


def purchasable_directly(buyer: BuyerContext, product_ids) -> set[int]:
    """The ids among `product_ids` this buyer may put in its own cart and order directly."""
    return {pid for pid, a in availability_for(buyer, product_ids).items() if a.is_direct}


def _covered_by(model_rows: QuerySet) -> Q:
    """A condition on Product rows: covered by one of `model_rows` — the product itself, or its
    category or one above it. Two sets the database builds once per query (the products named,
    the categories at or below the categories named) and probes per product."""
    products = model_rows.filter(product__isnull=False).values("product_id")
    categories = CategoryAncestry.objects.filter(
        ancestor_id__in=model_rows.filter(category__isnull=False).values("category_id")
    ).values("category_id")
    return Q(pk__in=products) | Q(category_id__in=categories)


def restricted_product_ids_q(buyer: BuyerContext) -> Q:
    """A condition on Product rows: restricted today in the buyer's territory (listings exclude
    these)."""
    if not buyer.postcode_area:
        return Q(pk__in=[])
    restrictions = TerritoryRestriction.objects.filter(
        validity_q(timezone.localdate()), territory__areas__code=buyer.postcode_area
    )
    return _covered_by(restrictions)


def distributor_lines_q(buyer: BuyerContext) -> Q:
    """A condition on Product rows: for a distributor, the lines it holds a right to today in its
    delivery area (it sees nothing else); for any other buyer, every product."""
    if not _is_distributor(buyer):
        return Q()
    if not buyer.postcode_area or buyer.organisation_id is None:
        return Q(pk__in=[])
    own_rights = TerritoryRight.objects.filter(
        validity_q(timezone.localdate()),
        distributor_id=buyer.organisation_id,
        territory__areas__code=buyer.postcode_area,
    )
    return _covered_by(own_rights)


def territory_visibility_q(buyer: BuyerContext) -> Q:
    """The territory part of catalogue visibility: not restricted here, and for a distributor only
    its own lines. `visible_products` filters by it."""
    return ~restricted_product_ids_q(buyer) & distributor_lines_q(buyer)
