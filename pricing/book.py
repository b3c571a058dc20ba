"""A rep's book: the accounts an account manager looks after (their own organisations and those
their segments and territories give them, organisation beating segment beating territory), with
each account's segments and recent movement, the lapsed and at-risk ones, their open quotes and
who is likely to order soon. A fixed number of queries whatever the size of the book."""

import datetime
from dataclasses import dataclass, field

from django.db.models import BooleanField as BooleanValue
from django.db.models import Case, OuterRef, Prefetch, Q, Subquery, Value, When
from django.utils import timezone

from accounts.models import Organisation
from segments.models import (
    Audience,
    BuyerFacts,
    ComputedMembership,
    PropensityModel,
    PropensityScore,
    RfmGroup,
    Segment,
    SegmentCondition,
    SegmentKind,
    SegmentMembership,
    SegmentMovement,
)
from segments.rules import segment_q
from segments.service_levels import account_manager_from_row, with_service_facts

from .models import Quote, QuoteStatus
from .selectors import quote_queue

BOOK_LIMIT = 500
MOVEMENT_DAYS = 90
AT_RISK_GROUPS = (RfmGroup.AT_RISK, RfmGroup.CANT_LOSE, RfmGroup.ABOUT_TO_SLEEP)


@dataclass
class BookAccount:
    organisation: Organisation
    why: str
    rfm_group: str
    lapsed: bool
    last_order_at: datetime.datetime | None
    segments: list[str] = field(default_factory=list)
    movements: list[SegmentMovement] = field(default_factory=list)

    @property
    def at_risk(self) -> bool:
        return self.rfm_group in AT_RISK_GROUPS


@dataclass
class RepBook:
    accounts: list[BookAccount]
    quotes: list[Quote]
    likely: list[PropensityScore]
    truncated: bool

    @property
    def lapsed(self) -> list[BookAccount]:
        return [a for a in self.accounts if a.lapsed]

    @property
    def at_risk(self) -> list[BookAccount]:
        return [a for a in self.accounts if a.at_risk and not a.lapsed]


def book_organisations(user):
    """The organisations whose effective account manager is `user`."""
    return Organisation.objects.filter(
        Q(account_manager=user)
        | Q(account_manager__isnull=True, coverage__account_manager=user)
    )


def _facts(name: str) -> Subquery:
    return Subquery(BuyerFacts.objects.filter(organisation_id=OuterRef("pk")).values(name)[:1])


def _rule_segments(organisation_ids) -> dict[int, set[str]]:
    """Every active rule segment of organisations evaluated over the book: two queries."""
    segments = list(
        Segment.objects.filter(is_active=True, kind=SegmentKind.RULE,
                               audience=Audience.ORGANISATIONS)
        .prefetch_related(Prefetch("conditions", queryset=SegmentCondition.objects.order_by("id")))
        .order_by("code")
    )
    if not segments:
        return {}
    flags = {
        f"seg_{i}": Case(When(segment_q(s, list(s.conditions.all())), then=Value(True)),
                         default=Value(False), output_field=BooleanValue())
        for i, s in enumerate(segments)
    }
    rows = Organisation.objects.filter(pk__in=organisation_ids).annotate(**flags)
    return {
        row["pk"]: {s.code for i, s in enumerate(segments) if row[f"seg_{i}"]}
        for row in rows.values("pk", *flags)
    }


def _assigned_segments(organisation_ids) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    static = SegmentMembership.objects.filter(organisation_id__in=organisation_ids,
                                              segment__is_active=True)
    computed = ComputedMembership.objects.filter(organisation_id__in=organisation_ids,
                                                 segment__is_active=True)
    rows = static.order_by().values_list("organisation_id", "segment__code").union(
        computed.order_by().values_list("organisation_id", "segment__code")
    )
    for organisation_id, code in rows:
        found.setdefault(organisation_id, set()).add(code)
    return found


def _accounts(user) -> tuple[list[BookAccount], bool]:
    rows = list(
        with_service_facts(book_organisations(user))
        .annotate(rfm_group=_facts("rfm_group"), lapsed=_facts("lapsed"),
                  last_order_at=_facts("last_order_at"))
        .order_by("name", "pk")[:BOOK_LIMIT + 1]
    )
    accounts = []
    for row in rows[:BOOK_LIMIT]:
        manager = account_manager_from_row(row)
        accounts.append(BookAccount(
            organisation=row, why=manager.why if manager else "",
            rfm_group=row.rfm_group or "", lapsed=bool(row.lapsed),
            last_order_at=row.last_order_at,
        ))
    return accounts, len(rows) > BOOK_LIMIT


def _with_segments_and_movement(accounts: list[BookAccount]) -> None:
    ids = [a.organisation.pk for a in accounts]
    codes = _assigned_segments(ids)
    for pk, more in _rule_segments(ids).items():
        codes.setdefault(pk, set()).update(more)
    since = timezone.now() - datetime.timedelta(days=MOVEMENT_DAYS)
    movements: dict[int, list] = {}
    for movement in (SegmentMovement.objects.filter(organisation_id__in=ids, at__gte=since)
                     .select_related("segment").order_by("-at", "-id")):
        movements.setdefault(movement.organisation_id, []).append(movement)
    for account in accounts:
        account.segments = sorted(codes.get(account.organisation.pk, ()))
        account.movements = movements.get(account.organisation.pk, [])[:5]


def _open_quotes(ids) -> list[Quote]:
    return list(
        quote_queue(Quote.objects.filter(
            organisation_id__in=ids, status__in=(QuoteStatus.REQUESTED, QuoteStatus.ANSWERED)
        ).select_related("organisation"))[:100]
    )


def _likely(ids, limit: int = 20) -> list[PropensityScore]:
    newest = (PropensityModel.objects.filter(audience=Audience.ORGANISATIONS, used=True)
              .order_by("-trained_at", "-id").values("pk")[:1])
    return list(
        PropensityScore.objects.filter(organisation_id__in=ids, model_id=Subquery(newest))
        .select_related("organisation", "category", "product")
        .order_by("-probability", "id")[:limit]
    )


def rep_book(*, user) -> RepBook:
    """The book of `user` (an account manager)."""
    accounts, truncated = _accounts(user)
    ids = [a.organisation.pk for a in accounts]
    _with_segments_and_movement(accounts)
    return RepBook(accounts=accounts, quotes=_open_quotes(ids), likely=_likely(ids),
                   truncated=truncated)
