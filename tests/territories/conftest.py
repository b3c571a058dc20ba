"""Builders for territory tests: distributors with contacts, rights and restrictions written through
territories.services, and buyer contexts placed in a postcode area."""

import datetime

from django.utils import timezone

from accounts.models import OrganisationKind
from segments.resolver import BuyerContext, Channel, Workflow
from territories import services
from territories.lookup import region_for_area
from territories.models import (
    DistributorProfile,
    Territory,
    TerritoryRestriction,
    TerritoryRight,
)
from tests.factories import OrganisationFactory


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


def region(code: str) -> Territory:
    return Territory.objects.get(code=code, is_region=True)


def distributor(name: str, *, postcode: str = "PR2 5BL", contact: bool = True, **extra):
    organisation = OrganisationFactory(
        name=name, kind=OrganisationKind.DISTRIBUTOR, postcode=postcode, **extra
    )
    if contact:
        services.distributor_profile_save(profile=DistributorProfile(
            organisation=organisation, contact_name=f"Orders desk, {name}",
            phone="01772 555 010", email=f"orders.{organisation.pk}@demo.test",
        ))
    return organisation


def grant(holder, territory, *, product=None, category=None, exclusive=True,
          valid_from=None, valid_to=None) -> TerritoryRight:
    return services.territory_right_save(right=TerritoryRight(
        distributor=holder, territory=territory, product=product, category=category,
        exclusive=exclusive, valid_from=valid_from or days(-30), valid_to=valid_to,
    ))


def restrict(territory, *, product=None, category=None, reason="", valid_from=None,
             valid_to=None) -> TerritoryRestriction:
    return services.territory_restriction_save(restriction=TerritoryRestriction(
        territory=territory, product=product, category=category,
        reason=reason or f"Not registered for sale in {territory.name}",
        valid_from=valid_from or days(-30), valid_to=valid_to,
    ))


def buyer_in(area: str, *, organisation=None, distributor_buyer: bool = False) -> BuyerContext:
    """A buyer delivering to postcode area `area` ("" for none); a distributor buyer buys for
    `organisation`."""
    found = region_for_area(area) if area else None
    return BuyerContext(
        user_id=1 if organisation is not None or area else None,
        organisation_id=getattr(organisation, "pk", None),
        organisation_name=getattr(organisation, "name", ""),
        channel=Channel.B2B if organisation is not None else Channel.B2C,
        workflow=(
            Workflow.DISTRIBUTOR if distributor_buyer
            else Workflow.INSTITUTIONAL if organisation is not None else Workflow.RETAIL
        ),
        postcode_area=area,
        territory=found.code if found else "",
        territory_name=found.name if found else "",
    )
