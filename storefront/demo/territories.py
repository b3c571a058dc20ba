"""Build the demo distributors' contacts, territory rights and restrictions, so each persona meets a
protected or restricted line: Riverside (London) orders splints and collars through Solent,
Northgate (Leeds) continence lines through Pennine, Harbour Clinic (Plymouth) wheelchairs through
Mercia, and nothing for rapid testing is sold in Scotland. Idempotent: rows are found by their
holder, territory, line and start date, and updated in place."""

import datetime
from dataclasses import dataclass

from django.db import transaction

from accounts.models import Organisation
from catalog.models import Category
from territories import services
from territories.models import DistributorProfile, Territory, TerritoryRestriction, TerritoryRight

from .organisations import ORGANISATIONS

AGREEMENTS_START = datetime.date(2025, 4, 1)


@dataclass(frozen=True)
class ContactSpec:
    distributor: str
    contact_name: str
    phone: str
    email: str


@dataclass(frozen=True)
class RightSpec:
    distributor: str
    territory: str
    category: str
    exclusive: bool
    agreement: str


@dataclass(frozen=True)
class RestrictionSpec:
    territory: str
    category: str
    reason: str


CONTACTS = (
    ContactSpec("pennine", "Joanne Whitworth", "01772 690 410", "routed.orders.pennine@demo.test"),
    ContactSpec("solent", "Marcus Hale", "023 8074 2210", "routed.orders.solent@demo.test"),
    ContactSpec("mercia", "Priya Sandhu", "0121 706 3380", "routed.orders.mercia@demo.test"),
)

RIGHTS = (
    # Pennine: continence across the north, exclusively; dressings and gloves in the north west,
    # shared with the manufacturer's own sales.
    RightSpec("pennine", "north-west", "continence", True, "PMS-2025-01"),
    RightSpec("pennine", "north-east-and-yorkshire", "continence", True, "PMS-2025-01"),
    RightSpec("pennine", "north-west", "foam-dressings", False, "PMS-2025-02"),
    RightSpec("pennine", "north-west", "examination-gloves", False, "PMS-2025-02"),
    # Solent: orthopaedics in the south east; splints, casting and collars in London too.
    RightSpec("solent", "south-east", "orthopaedics", True, "SHD-2025-07"),
    RightSpec("solent", "london", "splints-and-casting", True, "SHD-2025-08"),
    RightSpec("solent", "london", "cervical-collars", True, "SHD-2025-08"),
    # Mercia: wheelchairs in the Midlands and the South West.
    RightSpec("mercia", "midlands", "wheelchairs", True, "MMD-2025-03"),
    RightSpec("mercia", "south-west", "wheelchairs", True, "MMD-2025-03"),
    RightSpec("mercia", "midlands", "walking-aids", False, "MMD-2025-04"),
)

RESTRICTIONS = (
    RestrictionSpec("scotland", "rapid-tests", "Not registered for sale in Scotland"),
)


def _distributors() -> dict[str, Organisation]:
    names = {spec.key: spec.name for spec in ORGANISATIONS if spec.kind == "distributor"}
    by_name = {o.name: o for o in Organisation.objects.filter(name__in=names.values())}
    return {key: by_name[name] for key, name in names.items()}


def build_contacts(distributors: dict[str, Organisation]) -> None:
    for spec in CONTACTS:
        organisation = distributors[spec.distributor]
        profile = DistributorProfile.objects.filter(organisation=organisation).first()
        profile = profile or DistributorProfile(organisation=organisation)
        profile.contact_name, profile.phone, profile.email = (
            spec.contact_name, spec.phone, spec.email
        )
        services.distributor_profile_save(profile=profile)


def build_rights(distributors, territories, categories) -> list[TerritoryRight]:
    rights = []
    for spec in RIGHTS:
        keys = dict(
            distributor=distributors[spec.distributor], territory=territories[spec.territory],
            category=categories[spec.category], valid_from=AGREEMENTS_START,
        )
        right = TerritoryRight.objects.filter(**keys).first() or TerritoryRight(**keys)
        right.exclusive, right.agreement_reference, right.valid_to = (
            spec.exclusive, spec.agreement, None
        )
        rights.append(services.territory_right_save(right=right))
    return rights


def build_restrictions(territories, categories) -> list[TerritoryRestriction]:
    restrictions = []
    for spec in RESTRICTIONS:
        keys = dict(
            territory=territories[spec.territory], category=categories[spec.category],
            valid_from=AGREEMENTS_START,
        )
        restriction = TerritoryRestriction.objects.filter(**keys).first()
        restriction = restriction or TerritoryRestriction(**keys)
        restriction.reason, restriction.valid_to = spec.reason, None
        restrictions.append(services.territory_restriction_save(restriction=restriction))
    return restrictions


def load_territories() -> list[TerritoryRight]:
    """Create or bring up to date the demo rights, restrictions and distributor contacts."""
    with transaction.atomic():
        distributors = _distributors()
        territories = {t.code: t for t in Territory.objects.filter(is_region=True)}
        slugs = {s.category for s in RIGHTS} | {s.category for s in RESTRICTIONS}
        categories = {c.slug: c for c in Category.objects.filter(slug__in=slugs)}
        build_contacts(distributors)
        build_restrictions(territories, categories)
        return build_rights(distributors, territories, categories)
