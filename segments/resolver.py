"""The resolver: who is asking. Every surface turns a request (or an API key, or a task's arguments)
into one `BuyerContext` here, and asks the catalogue, pricing, territory and ordering rules with it.

The context holds facts about the buyer, never answers of the rules. It is computed once per request
and cached by (user, organisation, site, rules version), so a change to any fact shows at once.
"""

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import BooleanField as BooleanValue
from django.db.models import Case, Prefetch, Value, When

from accounts.models import Membership, Organisation, OrganisationKind, Site, VerificationStatus
from accounts.permissions import CONSUMER_PERMISSIONS, permissions_for_roles
from territories.lookup import region_for_area
from territories.postcodes import parse_postcode

from .models import (
    Audience,
    ComputedMembership,
    Segment,
    SegmentCondition,
    SegmentKind,
    SegmentMembership,
)
from .rules import guest_matches, segment_q
from .service_levels import (
    AccountManagerContact,
    account_manager_from_row,
    service_level_from_row,
    service_levels_of_consumers,
    with_service_facts,
)
from .versioning import versions_for


class Channel:
    B2B = "b2b"
    B2C = "b2c"


class Workflow:
    RETAIL = "retail"
    INSTITUTIONAL = "institutional"
    DISTRIBUTOR = "distributor"


@dataclass(frozen=True)
class BuyerContext:
    """Facts about one buyer that decide what exists for them, what they pay and how they order."""

    user: object = field(default=None, compare=False, repr=False)
    user_id: int | None = None
    organisation_id: int | None = None
    organisation_name: str = ""
    organisation_kind: str = ""
    organisation_path: tuple[int, ...] = ()
    customer_tier: str = ""
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    approval_limit: Decimal | None = None
    channel: str = Channel.B2C
    workflow: str = Workflow.RETAIL
    site_id: int | None = None
    site_name: str = ""
    postcode: str = ""
    postcode_area: str = ""
    territory: str = ""
    territory_name: str = ""
    segments: frozenset[str] = frozenset()
    professional: bool = False
    organisations: tuple[tuple[int, str], ...] = ()
    sites: tuple[tuple[int, str, str], ...] = ()
    service_tier: str = ""
    service_source: str = ""
    service_reason: str = ""
    account_manager: AccountManagerContact | None = None
    api_key_id: int | None = None
    api_key_name: str = ""
    integration: bool = False
    skips_approval_rules: bool = False
    cache_key: str = ""

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def is_b2b(self) -> bool:
        return self.channel == Channel.B2B

    @property
    def organisation(self) -> Organisation | None:
        """The active organisation row (one query, on demand; the context itself stores its id)."""
        if self.organisation_id is None:
            return None
        return Organisation.objects.get(pk=self.organisation_id)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def with_user(self, user) -> "BuyerContext":
        return dataclasses.replace(self, user=user)

    def acting_as_of(self, other: "BuyerContext") -> "BuyerContext":
        """This context (another delivery site of the same organisation) with `other`'s role,
        permissions and key: who acts does not change with where the goods go."""
        return dataclasses.replace(
            self, roles=other.roles, permissions=other.permissions,
            approval_limit=other.approval_limit, api_key_id=other.api_key_id,
            api_key_name=other.api_key_name, integration=other.integration,
            skips_approval_rules=other.skips_approval_rules,
        )


def _cache_key_for(**facts) -> str:
    payload = json.dumps(facts, sort_keys=True, default=sorted)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _keyed(context: BuyerContext) -> BuyerContext:
    """The context with its cache key: a digest of exactly the facts that decide visibility and
    price, so two contexts with the same facts share it and any difference in them shows."""
    key = _cache_key_for(
        channel=context.channel,
        workflow=context.workflow,
        organisation=context.organisation_id,
        path=list(context.organisation_path),
        area=context.postcode_area,
        territory=context.territory,
        segments=context.segments,
        professional=context.professional,
    )
    return dataclasses.replace(context, cache_key=key)


def _workflow_for(organisation: Organisation | None) -> tuple[str, str]:
    if organisation is None:
        return Channel.B2C, Workflow.RETAIL
    if organisation.kind == OrganisationKind.DISTRIBUTOR:
        return Channel.B2B, Workflow.DISTRIBUTOR
    return Channel.B2B, Workflow.INSTITUTIONAL


def _rule_segments(audience: str) -> list[Segment]:
    return list(
        Segment.objects.filter(is_active=True, kind=SegmentKind.RULE, audience=audience)
        .prefetch_related(Prefetch("conditions", queryset=SegmentCondition.objects.order_by("id")))
        .order_by("code")
    )


def _matching_rule_segments(model, pk: int, audience: str) -> set[str]:
    """Evaluate every active rule segment for one organisation or consumer in a single query."""
    segments = _rule_segments(audience)
    if not segments:
        return set()
    annotations = {
        f"seg_{i}": Case(
            When(segment_q(s, list(s.conditions.all())), then=Value(True)),
            default=Value(False),
            output_field=BooleanValue(),
        )
        for i, s in enumerate(segments)
    }
    row = model.objects.filter(pk=pk).annotate(**annotations).values(*annotations).first() or {}
    return {s.code for i, s in enumerate(segments) if row.get(f"seg_{i}")}


def _assigned_segments(*, organisation_id=None, user_id=None) -> set[str]:
    """Static segments staff assigned, and computed segments the analysis wrote (one query)."""
    assigned = SegmentMembership.objects.filter(
        segment__is_active=True, segment__kind=SegmentKind.STATIC
    )
    computed = ComputedMembership.objects.filter(
        segment__is_active=True, segment__kind=SegmentKind.COMPUTED
    )
    if organisation_id is not None:
        assigned = assigned.filter(organisation_id=organisation_id)
        computed = computed.filter(organisation_id=organisation_id)
    else:
        assigned = assigned.filter(user_id=user_id)
        computed = computed.filter(user_id=user_id)
    # No ORDER BY inside the UNION: SQLite refuses one in a compound statement's parts.
    return set(
        assigned.order_by().values_list("segment__code", flat=True).union(
            computed.order_by().values_list("segment__code", flat=True)
        )
    )


def _guest_context() -> BuyerContext:
    codes = {
        s.code
        for s in _rule_segments(Audience.CONSUMERS)
        if guest_matches(list(s.conditions.all()))
    }
    return _keyed(BuyerContext(permissions=frozenset(), segments=frozenset(codes)))


def _active_memberships(user) -> list[Membership]:
    """The user's active memberships with each organisation's service facts (its value tier, its
    own and its customer group's account manager) read in the same query."""
    return list(
        with_service_facts(
            Membership.objects.filter(user=user, is_active=True, organisation__is_active=True)
            .select_related("organisation__parent__parent__parent"),
            "organisation__",
        )
        .order_by("id")
    )


def _consumer_context(user) -> BuyerContext:
    region = region_for_area(user.postcode_area)
    professional = user.is_registered_professional
    codes = _matching_rule_segments(user._meta.model, user.pk, Audience.CONSUMERS)
    codes |= _assigned_segments(user_id=user.pk)
    level = service_levels_of_consumers([user.pk])[user.pk]
    return _keyed(BuyerContext(
        user_id=user.pk,
        service_tier=level.tier,
        service_source=level.source,
        service_reason=level.reason,
        permissions=CONSUMER_PERMISSIONS,
        postcode=user.postcode,
        postcode_area=user.postcode_area,
        territory=region.code if region else "",
        territory_name=region.name if region else "",
        segments=frozenset(codes),
        professional=professional,
    ))


def _organisation_context(user, membership: Membership, memberships, site_id) -> BuyerContext:
    organisation = membership.organisation
    sites = list(
        Site.objects.filter(organisation=organisation, is_active=True).order_by("name", "id")
    )
    site = next((s for s in sites if s.pk == site_id), sites[0] if sites else None)
    postcode = site.postcode if site else organisation.postcode
    area = site.postcode_area if site else organisation.postcode_area
    region = region_for_area(area)
    channel, workflow = _workflow_for(organisation)
    professional = organisation.professional_status == VerificationStatus.VERIFIED
    path = (organisation.pk, *(a.pk for a in organisation.ancestors()))
    codes = _matching_rule_segments(Organisation, organisation.pk, Audience.ORGANISATIONS)
    codes |= _assigned_segments(organisation_id=organisation.pk)
    level = service_level_from_row(membership, organisation)
    return _keyed(BuyerContext(
        service_tier=level.tier,
        service_source=level.source,
        service_reason=level.reason,
        account_manager=account_manager_from_row(organisation),
        user_id=getattr(user, "pk", None),
        organisation_id=organisation.pk,
        organisation_name=organisation.name,
        organisation_kind=organisation.kind,
        organisation_path=path,
        customer_tier=organisation.customer_tier,
        roles=membership.roles,
        permissions=permissions_for_roles(membership.roles),
        approval_limit=membership.approval_limit,
        channel=channel,
        workflow=workflow,
        site_id=site.pk if site else None,
        site_name=site.name if site else "",
        postcode=postcode,
        postcode_area=area,
        territory=region.code if region else "",
        territory_name=region.name if region else "",
        segments=frozenset(codes),
        professional=professional,
        organisations=tuple((m.organisation_id, m.organisation.name) for m in memberships),
        sites=tuple((s.pk, s.name, s.postcode) for s in sites),
    ))


def _compute(user, organisation_id, site_id) -> BuyerContext:
    if user is None or not user.is_authenticated:
        return _guest_context()
    memberships = _active_memberships(user)
    if not memberships:
        return _consumer_context(user)
    chosen = next((m for m in memberships if m.organisation_id == organisation_id), memberships[0])
    return _organisation_context(user, chosen, memberships, site_id)


def resolve(user, *, organisation=None, site=None) -> BuyerContext:
    """Who is asking: the context for `user` buying for `organisation` with delivery to `site`.

    An organisation the user is not an active member of is ignored (the default membership is used);
    a site outside the active organisation is ignored (the first active site is used). Rights of two
    organisations are never merged: the context is always about exactly one organisation or none.
    """
    organisation_id = getattr(organisation, "pk", organisation)
    site_id = getattr(site, "pk", site)
    authenticated = user is not None and user.is_authenticated
    version, own = versions_for(user.pk if authenticated else None)
    key = None
    if version is not None and own is not None:
        who = user.pk if authenticated else "guest"
        key = f"buyer-context:{version}:{own}:{who}:{organisation_id}:{site_id}"
        cached = cache.get(key)
        if cached is not None:
            return cached.with_user(user if authenticated else None)
    context = _compute(user if authenticated else None, organisation_id, site_id)
    if key is not None:
        cache.set(key, context, timeout=60 * 60)
    return context.with_user(user if authenticated else None)


def through_key(buyer: BuyerContext, *, key_id: int, key_name: str) -> BuyerContext:
    """`buyer` acting through an API key (its orders record the key)."""
    return dataclasses.replace(buyer, api_key_id=key_id, api_key_name=key_name)


def as_integration(
    buyer: BuyerContext, *, role: str, key_id: int, key_name: str, skips_approval_rules: bool
) -> BuyerContext:
    """The service identity of an integration key: the organisation's facts as resolved for the
    member responsible for the key (`buyer`), with the key's own role in place of that member's
    roles, no approval limit and no other organisation."""
    return dataclasses.replace(
        buyer, roles=frozenset({role}), permissions=permissions_for_roles({role}),
        approval_limit=None, organisations=((buyer.organisation_id, buyer.organisation_name),),
        api_key_id=key_id, api_key_name=key_name, integration=True,
        skips_approval_rules=skips_approval_rules,
    )


def without_rights(buyer: BuyerContext) -> BuyerContext:
    """`buyer` with no role and no permission: a staff key's caller, who acts only through the
    staff scopes and never as a buyer."""
    return dataclasses.replace(buyer, roles=frozenset(), permissions=frozenset(),
                               approval_limit=None)


def buyer_for_delivery(buyer: BuyerContext, postcode: str) -> BuyerContext:
    """The same buyer with the goods delivered to `postcode`: its postcode, area, territory and
    cache key follow the delivery address (where the goods go decides the territory); every other
    fact stays. Raises ValidationError when `postcode` is not a UK postcode."""
    parsed = parse_postcode(postcode)
    context = buyer.with_user(buyer.user)  # a plain context, even behind a lazy request object
    if context.postcode_area == parsed.area and context.postcode == str(parsed):
        return context
    region = region_for_area(parsed.area)
    return _keyed(dataclasses.replace(
        context,
        postcode=str(parsed),
        postcode_area=parsed.area,
        territory=region.code if region else "",
        territory_name=region.name if region else "",
    ))


def resolve_organisation(organisation) -> BuyerContext:
    """The facts of an organisation as a buyer, with no user behind them: what it would be shown and
    pay at its first active site. Used to price a line for the distributor an order is routed to;
    it carries no roles and no permissions, so it can never act."""
    organisation_id = getattr(organisation, "pk", organisation)
    organisation = with_service_facts(
        Organisation.objects.select_related("parent__parent__parent")
    ).get(pk=organisation_id)
    membership = Membership(organisation=organisation, is_buyer=False)
    membership.value_tier = organisation.value_tier
    membership.revenue_12m = organisation.revenue_12m
    context = _organisation_context(None, membership, [], None)
    return dataclasses.replace(context, roles=frozenset(), permissions=frozenset(),
                               approval_limit=None)
