"""Build the demo segments. Their codes are stable: catalogues and price lists are assigned to
them by code."""
from dataclasses import dataclass

from accounts.models import Organisation
from segments.models import Audience, Segment, SegmentCondition, SegmentKind, SegmentMembership


@dataclass(frozen=True)
class SegmentSpec:
    code: str
    name: str
    kind: str
    description: str
    audience: str = Audience.ORGANISATIONS
    # (field, operator, value); a value written "{org:key}" is the id of that demo organisation.
    conditions: tuple[tuple[str, str, str], ...] = ()
    members: tuple[str, ...] = ()


SEGMENTS: tuple[SegmentSpec, ...] = (
    SegmentSpec(
        "nhs-trusts", "NHS trusts", SegmentKind.RULE,
        "Every NHS trust: contract catalogue, purchase orders and approval chains.",
        conditions=(("kind", "is", "nhs_trust"),),
    ),
    SegmentSpec(
        "private-clinics", "Private clinics", SegmentKind.RULE,
        "Independent clinics buying from the professional catalogue at list price.",
        conditions=(("kind", "is", "private_clinic"),),
    ),
    SegmentSpec(
        "distributors", "Distributors", SegmentKind.RULE,
        "Regional wholesalers: distributor price list and only the lines they hold rights to.",
        conditions=(("kind", "is", "distributor"),),
    ),
    SegmentSpec(
        "primary-and-community-care", "Primary and community care", SegmentKind.RULE,
        "GP practices, care homes and community pharmacies buying from the professional "
        "catalogue at list price.",
        conditions=(("kind", "in", "gp_practice,care_home,pharmacy"),),
    ),
    SegmentSpec(
        "tier-a", "Tier A customers", SegmentKind.RULE,
        "Key accounts with the best commercial terms.",
        conditions=(("customer_tier", "is", "A"),),
    ),
    SegmentSpec(
        "north-thames-ics", "North Thames ICS", SegmentKind.RULE,
        "Trusts within the North Thames integrated care system and their shared framework.",
        conditions=(("parent", "is", "{org:north-thames-ics}"),),
    ),
    SegmentSpec(
        "retail-consumers", "Retail consumers", SegmentKind.RULE,
        "Every consumer and guest: consumer catalogue, prices including VAT.",
        audience=Audience.CONSUMERS,
    ),
    SegmentSpec(
        "consumers-wales", "Consumers in Wales", SegmentKind.RULE,
        "Retail consumers whose home postcode lies in Wales.",
        audience=Audience.CONSUMERS,
        conditions=(("region", "is", "wales"),),
    ),
    SegmentSpec(
        "framework-pilot", "Framework pilot", SegmentKind.STATIC,
        "Organisations piloting the new national framework agreement.",
        members=("riverside",),
    ),
)


def _condition_value(value: str, organisations: dict[str, Organisation]) -> str:
    if value.startswith("{org:") and value.endswith("}"):
        return str(organisations[value[5:-1]].pk)
    return value


def _segment_save(spec: SegmentSpec, organisations: dict[str, Organisation]) -> Segment:
    segment = Segment.objects.filter(code=spec.code).first() or Segment(code=spec.code)
    segment.name = spec.name
    segment.kind = spec.kind
    segment.audience = spec.audience
    segment.description = spec.description
    segment.is_active = True
    segment.full_clean()
    segment.save()

    kept = []
    for field, operator, value in spec.conditions:
        condition = segment.conditions.filter(field=field).first() or SegmentCondition(
            segment=segment, field=field
        )
        condition.operator = operator
        condition.value = _condition_value(value, organisations)
        condition.full_clean()
        condition.save()
        kept.append(condition.pk)
    segment.conditions.exclude(pk__in=kept).delete()

    members = [organisations[key] for key in spec.members]
    for organisation in members:
        if not segment.members.filter(organisation=organisation).exists():
            member = SegmentMembership(segment=segment, organisation=organisation, note="Demo")
            member.full_clean()
            member.save()
    segment.members.exclude(organisation__in=members).delete()
    return segment


def build_segments(organisations: dict[str, Organisation]) -> dict[str, Segment]:
    """Create or update the demo segments, their conditions and static members."""
    return {spec.code: _segment_save(spec, organisations) for spec in SEGMENTS}
