"""Reads about pricing records: a buyer's own quotes, and what a staff member may edit."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.selectors import managed_organisation_ids
from segments.resolver import BuyerContext

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


def contracts_of(*, buyer: BuyerContext) -> QuerySet[Contract]:
    """Contracts that price this buyer: its organisation's and its ancestors' (drafts aside)."""
    if buyer.organisation_id is None:
        return Contract.objects.none()
    return (
        Contract.objects.filter(organisation_id__in=buyer.organisation_path)
        .exclude(status=ContractStatus.DRAFT)
        .select_related("organisation", "price_list")
    )
