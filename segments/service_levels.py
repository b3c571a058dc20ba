"""Service levels: the service tier of an organisation or a retail consumer, and why.

The one definition (`decide_service_level`), in precedence order:
1. a tier set on a contract that applies today (the best one when several do), kept on the
   organisation by pricing whenever a contract changes and each night;
2. a tier set by staff on the organisation;
3. the value tier of the segmentation analysis (top 20% by revenue → concierge, bottom 20% →
   self-service);
4. standard, before the analysis has looked at the buyer.

A contract is a promise the manufacturer signed, so staff cannot go below or above it on the
organisation; staff settle the accounts the contracts say nothing about.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import Exact

from accounts.models import SERVICE_TIER_RANK, Organisation, ServiceTier

from .models import AccountCoverage, BuyerFacts, CoverageSource


class ServiceSource:
    CONTRACT = "contract"
    STAFF = "staff"
    VALUE_TIER = "value_tier"
    DEFAULT = "default"


@dataclass(frozen=True)
class ServiceLevel:
    """A buyer's service tier and the sentence that says why."""

    tier: str
    source: str
    reason: str

    @property
    def label(self) -> str:
        return ServiceTier(self.tier).label

    @property
    def is_concierge(self) -> bool:
        return self.tier == ServiceTier.CONCIERGE

    @property
    def is_self_service(self) -> bool:
        return self.tier == ServiceTier.SELF_SERVICE

    @property
    def rank(self) -> int:
        return SERVICE_TIER_RANK[self.tier]


_BY_REVENUE = {
    ServiceTier.CONCIERGE: "top 20% by revenue in the last 12 months",
    ServiceTier.STANDARD: "neither the top nor the bottom 20% by revenue in the last 12 months",
    ServiceTier.SELF_SERVICE: "bottom 20% by revenue in the last 12 months",
}


def decide_service_level(
    *, contract_tier: str = "", contract_reference: str = "", staff_tier: str = "",
    value_tier: str = "", revenue_12m: Decimal | None = None,
) -> ServiceLevel:
    """The service tier from the facts that may decide it, in precedence order."""
    if contract_tier:
        label = ServiceTier(contract_tier).label
        return ServiceLevel(contract_tier, ServiceSource.CONTRACT,
                            f"{label}: set on contract {contract_reference}")
    if staff_tier:
        label = ServiceTier(staff_tier).label
        return ServiceLevel(staff_tier, ServiceSource.STAFF,
                            f"{label}: set by staff on the organisation")
    if value_tier:
        label = ServiceTier(value_tier).label
        revenue = f" (£{revenue_12m:,.2f})" if revenue_12m is not None else ""
        return ServiceLevel(value_tier, ServiceSource.VALUE_TIER,
                            f"{label}: {_BY_REVENUE[value_tier]}{revenue}")
    return ServiceLevel(ServiceTier.STANDARD, ServiceSource.DEFAULT,
                        "Standard: the analysis has not placed this buyer in a value tier yet")


def _facts_of_organisation(field: str, ref: str = "pk") -> Subquery:
    return Subquery(BuyerFacts.objects.filter(organisation_id=OuterRef(ref)).values(field)[:1])


def with_service_facts(queryset: QuerySet, prefix: str = "") -> QuerySet:
    """Rows of organisations (or of rows that reach one through `prefix`, "organisation__")
    with what decides their service in the same query: the value tier and revenue as
    `value_tier` and `revenue_12m`, the own and the customer group's account managers."""
    return queryset.select_related(
        f"{prefix}account_manager", f"{prefix}coverage__account_manager"
    ).annotate(
        value_tier=_facts_of_organisation("value_tier", f"{prefix}pk"),
        revenue_12m=_facts_of_organisation("revenue_12m", f"{prefix}pk"),
    )


def service_level_from_row(row, organisation) -> ServiceLevel:
    """The service level of `organisation`, its value tier read from `row` (see
    `with_service_facts`)."""
    return decide_service_level(
        contract_tier=organisation.contract_service_tier,
        contract_reference=organisation.contract_service_reference,
        staff_tier=organisation.service_tier, value_tier=getattr(row, "value_tier", "") or "",
        revenue_12m=getattr(row, "revenue_12m", None),
    )


def service_levels_of_organisations(organisation_ids) -> dict[int, ServiceLevel]:
    """The service level of each organisation named, in one query."""
    rows = with_service_facts(Organisation.objects.filter(pk__in=list(organisation_ids)))
    return {row.pk: service_level_from_row(row, row) for row in rows}


def service_levels_of_consumers(user_ids) -> dict[int, ServiceLevel]:
    """The service level of each retail consumer named, in one query (the value tier alone)."""
    rows = {
        row["user_id"]: row
        for row in BuyerFacts.objects.filter(user_id__in=list(user_ids))
        .values("user_id", "value_tier", "revenue_12m")
    }
    return {
        user_id: decide_service_level(
            value_tier=rows.get(user_id, {}).get("value_tier", ""),
            revenue_12m=rows.get(user_id, {}).get("revenue_12m"),
        )
        for user_id in user_ids
    }


def service_level_for(*, buyer) -> ServiceLevel | None:
    """The service level of `buyer` (a BuyerContext): the resolver's answer, no query; None for
    a visitor."""
    if buyer.user_id is None and buyer.organisation_id is None:
        return None
    if buyer.service_tier:
        return ServiceLevel(buyer.service_tier, buyer.service_source, buyer.service_reason)
    if buyer.organisation_id is not None:
        return service_levels_of_organisations([buyer.organisation_id]).get(buyer.organisation_id)
    return service_levels_of_consumers([buyer.user_id])[buyer.user_id]


@dataclass(frozen=True)
class AccountManagerContact:
    """Who looks after an account, how to reach them directly, and why them."""

    name: str
    email: str
    phone: str
    source: str
    via: str = ""

    @property
    def why(self) -> str:
        if self.source == CoverageSource.ORGANISATION:
            return "assigned to the organisation"
        return f"assigned to the {self.source} {self.via}"


def _contact(user, source: str, via: str = "") -> AccountManagerContact:
    return AccountManagerContact(user.full_name or user.email, user.email, user.direct_phone,
                                 source, via)


def account_manager_from_row(organisation) -> AccountManagerContact | None:
    """Organisation beats segment beats territory: the organisation's own manager, else the one
    its customer group gives (kept in AccountCoverage by segments.coverage)."""
    if organisation.account_manager is not None:
        return _contact(organisation.account_manager, CoverageSource.ORGANISATION)
    try:
        coverage = organisation.coverage
    except AccountCoverage.DoesNotExist:
        return None
    if coverage.account_manager is not None:
        return _contact(coverage.account_manager, coverage.source, coverage.via)
    return None


def account_managers_of(organisation_ids) -> dict[int, AccountManagerContact | None]:
    """The effective account manager of each organisation named, in one query."""
    rows = with_service_facts(Organisation.objects.filter(pk__in=list(organisation_ids)))
    return {row.pk: account_manager_from_row(row) for row in rows}


def service_rank_expression(prefix: str = "") -> Case:
    """The service tier's rank (0 = concierge first) of the organisation at `prefix` (for example
    "organisation__"), as SQL for ordering a queryset: `decide_service_level`'s precedence
    written as a COALESCE, so staff queues can be ordered by it (a test keeps the two alike)."""
    value_tier = _facts_of_organisation("value_tier", f"{prefix}pk" if prefix else "pk")
    tier = Coalesce(
        NullIf(f"{prefix}contract_service_tier", Value("")),
        NullIf(f"{prefix}service_tier", Value("")),
        NullIf(value_tier, Value("")),
        Value(ServiceTier.STANDARD.value),
    )
    return Case(
        *(When(Exact(tier, Value(code.value)), then=Value(rank))
          for code, rank in SERVICE_TIER_RANK.items()),
        default=Value(SERVICE_TIER_RANK[ServiceTier.STANDARD]),
        output_field=IntegerField(),
    )


def by_service_rank(queryset: QuerySet, prefix: str = "") -> QuerySet:
    """`queryset` annotated with `service_rank` (0 = concierge) of its organisation."""
    return queryset.annotate(service_rank=service_rank_expression(prefix))
