"""Reads about pricing records: a buyer's own quotes and the contracts that apply to it, and what a
staff member may edit."""

import datetime

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import SERVICE_TIER_RANK, ServiceTier
from accounts.selectors import managed_organisation_ids
from segments.resolver import BuyerContext
from segments.service_levels import by_service_rank, service_rank_expression

from .models import Contract, ContractStatus, PriceList, Quote, QuoteStatus


def quotes_of(*, buyer: BuyerContext) -> QuerySet[Quote]:
    """The quotes of the buyer's active organisation (none for a retail consumer), newest first."""
    if buyer.organisation_id is None:
        return Quote.objects.none()
    return (
        Quote.objects.filter(organisation_id=buyer.organisation_id)
        .prefetch_related("lines__product")
        .order_by("-requested_at", "number", "-revision")
    )


def current_quotes_of(*, buyer: BuyerContext) -> QuerySet[Quote]:
    """The latest revision of each of the buyer's quotes."""
    return quotes_of(buyer=buyer).exclude(status=QuoteStatus.SUPERSEDED)


def quote_of(*, buyer: BuyerContext, quote_id: int) -> Quote:
    """One of the buyer's own quotes; another organisation's id raises Quote.DoesNotExist."""
    return quotes_of(buyer=buyer).get(pk=quote_id)


def price_lists_editable_by(user) -> QuerySet[PriceList]:
    """Price lists a staff member may edit: every list for superusers; for an account manager, only
    lists that belong to their organisations alone (through contracts or organisation assignments,
    with no segment or territory reach and no other organisation involved)."""
    scope = managed_organisation_ids(user)
    if scope is None:
        return PriceList.objects.all()
    contracts = Contract.objects.filter(price_list=OuterRef("pk"))
    assigned = PriceList.organisations.through.objects.filter(pricelist_id=OuterRef("pk"))
    return PriceList.objects.filter(
        Q(Exists(contracts.filter(organisation_id__in=scope)))
        | Q(Exists(assigned.filter(organisation_id__in=scope))),
        ~Q(Exists(contracts.exclude(organisation_id__in=scope))),
        ~Q(Exists(assigned.exclude(organisation_id__in=scope))),
        ~Q(Exists(PriceList.segments.through.objects.filter(pricelist_id=OuterRef("pk")))),
        ~Q(Exists(PriceList.territories.through.objects.filter(pricelist_id=OuterRef("pk")))),
    )


def contracts_of(*, buyer: BuyerContext, today: datetime.date | None = None) -> QuerySet[Contract]:
    """The contracts that apply to this buyer: active, valid today (from `valid_from` to
    `valid_to`, both days included), of its organisation or one of its ancestors. The one
    definition: the price engine prices from these, checkout offers and accepts these, the API
    lists these. None for a retail consumer."""
    if buyer.organisation_id is None or not buyer.organisation_path:
        return Contract.objects.none()
    today = today or timezone.localdate()
    return (
        Contract.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=today),
            organisation_id__in=list(buyer.organisation_path),
            status=ContractStatus.ACTIVE,
            valid_from__lte=today,
        )
        .select_related("organisation", "price_list")
        .order_by("reference", "lot", "pk")
    )


SERVICE_RANK_LABELS = {rank: ServiceTier(code).label for code, rank in SERVICE_TIER_RANK.items()}


def quote_queue_ordering() -> tuple:
    """The order staff answer quotes in: requests still waiting first, and among them the
    concierge accounts' first, then standard, then self-service; the oldest request first
    within a tier. Expressions, so the admin's changelist can sort by them as they are."""
    waiting = Case(When(status=QuoteStatus.REQUESTED, then=Value(0)), default=Value(1),
                   output_field=IntegerField())
    return (waiting.asc(), service_rank_expression("organisation__").asc(),
            F("requested_at").asc(), F("pk").asc())


def quote_queue(queryset: QuerySet[Quote]) -> QuerySet[Quote]:
    """Quotes in queue order (`quote_queue_ordering`), each with `service_rank` (0 = concierge)
    of its organisation."""
    return by_service_rank(queryset, "organisation__").order_by(*quote_queue_ordering())
